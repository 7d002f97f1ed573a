"""When an open case last saw activity, and whether it has gone quiet (issue 19, gap 5).

Activity is what moves the work on: the case raised or changing status; a journal entry written
or corrected; a meeting with the case on its agenda (a meeting booked for later counts from its
start, so a case with a meeting ahead is never quiet), minutes recorded, an action set or its
status changed; the action plan made, a goal, intervention or follow-up date added or changed;
a consent drawn up, signed or withdrawn. Reading a case is not activity: a case only looked at
for half a year is exactly the one to ask about.

The last activity is one SQL expression (a correlated subquery per kind), so a list of cases
gets it in the same query, whatever the number of cases and rows.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import DateTimeField, F, Func, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce, Greatest

from samverkan.cases.models import Case, Entry, EntryVersion, Status

OPEN_STATUSES = tuple(s for s in Status.values if s != Status.CLOSED)


def _latest(queryset: QuerySet, path: str, field: str) -> Func:
    """The latest ``field`` of the rows of ``queryset`` whose ``path`` is the case, or the
    case's raising time when it has none (``GREATEST`` is NULL on SQLite if any part is)."""
    rows = queryset.filter(**{path: OuterRef("pk")}).exclude(**{f"{field}__isnull": True})
    return Coalesce(
        Subquery(rows.order_by(f"-{field}").values(field)[:1], output_field=DateTimeField()),
        F("raised_at"),
        output_field=DateTimeField(),
    )


def last_activity() -> Func:
    """An annotation for a ``Case`` queryset: when the case last saw activity."""
    # Imported here: these apps' models import the cases app.
    from samverkan.consent.models import Consent, ConsentSignature, ConsentWithdrawal
    from samverkan.meetings.models import Action, AgendaItem
    from samverkan.plans.models import ActionPlan, FollowUpDate, Goal, Intervention

    parts = [
        F("raised_at"),
        F("status_changed_at"),
        _latest(Entry.objects.all(), "case", "created_at"),
        _latest(EntryVersion.objects.all(), "entry__case", "created_at"),
        _latest(AgendaItem.objects.all(), "case", "meeting__starts_at"),
        _latest(AgendaItem.objects.all(), "case", "minutes_recorded_at"),
        _latest(Action.objects.all(), "agenda_item__case", "created_at"),
        _latest(Action.objects.all(), "agenda_item__case", "status_changed_at"),
        _latest(ActionPlan.objects.all(), "case", "created_at"),
        _latest(Goal.objects.all(), "plan__case", "updated_at"),
        _latest(Intervention.objects.all(), "plan__case", "updated_at"),
        _latest(FollowUpDate.objects.all(), "plan__case", "created_at"),
        _latest(Consent.objects.all(), "case", "created_at"),
        _latest(ConsentSignature.objects.all(), "signer__consent__case", "signed_at"),
        _latest(ConsentWithdrawal.objects.all(), "consent__case", "withdrawn_at"),
    ]
    return Greatest(*parts, output_field=DateTimeField())


def dormant_before(now: datetime) -> datetime:
    """A case whose last activity is before this moment is dormant."""
    return now - timedelta(days=settings.CASE_DORMANT_DAYS)


def dormant_cases(now: datetime) -> QuerySet[Case]:
    """Open cases with no activity for ``CASE_DORMANT_DAYS``, annotated ``last_activity``."""
    return (
        Case.objects.filter(status__in=OPEN_STATUSES)
        .annotate(last_activity=last_activity())
        .filter(last_activity__lt=dormant_before(now))
    )
