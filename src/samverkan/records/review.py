"""Log review (*loggkontroll*, DESIGN rule 9): the auditor's filtered, flagged view of the audit
log, the recorded reviews, and the monthly reminder.

The auditor sees event metadata only (time, user, agency, action, object, case pseudonym,
outcome, legal basis), never what a case holds. Flags are computed in the database, so a page
of fifty events costs the queries a page of one does, and the counts for a whole period come
from one aggregate query.

Flags, and why each one is defensible:

``statutory``
    A disclosure or read under a statutory basis rather than consent: the service marked the
    event for review (``details["review"]``), or its legal basis names a statute.
``denied``
    The system refused the action.
``after_team``
    A case event by a user who had been on that case's team, had left it before the event, and
    held no seat on the team when it happened (a later re-add does not cover the gap). The
    case's group coordinators are exempt: they see the case card by their role. The exemption
    goes by the coordinator seats held today (seat history is not kept): a former coordinator
    is flagged like anyone else. An event
    refused by the system is still flagged: an attempt after leaving is what the reviewer wants.
``volume``
    A case event by a user who touched more than ``LOG_REVIEW_DAILY_CASES`` distinct cases that
    local (Europe/Stockholm) day, counting every case event of theirs that day except listings
    (``LISTING_ACTIONS``: one event per case *shown* in a list, which a coordinator's index
    writes for every case of the group each time it is opened) and the records app's own
    events (an auditor's review, export or hold).
``off_hours``
    An event by a user outside ``LOG_REVIEW_HOURS`` local time, or on a Saturday or Sunday.
    Public holidays are not known to the system.
``drafter``
    A consent signature recorded (on paper or in person) by the staff member who drew that
    consent up: the consent then rests on one person's word (DESIGN rule 20). The signature
    service marks the event (``details["recorded_by_drafter"]``); the signer is told by e-mail,
    and a deployment can require a second staff member's confirmation as well.

A flag is a reason to look, not a finding: logs are not used to measure staff performance.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import (
    BooleanField,
    CharField,
    Count,
    Exists,
    ExpressionWrapper,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Cast, ExtractHour, ExtractIsoWeekDay, TruncDate
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from samverkan.accounts.models import User
from samverkan.audit.models import AuditEvent, Outcome
from samverkan.audit.services import audit_record
from samverkan.cases.models import Case, CaseTeamMember, Youth
from samverkan.lib.fields import search_hash
from samverkan.lib.personnummer import looks_like_identity_number
from samverkan.notifications.models import Notification, NotificationKind
from samverkan.notifications.services import notify
from samverkan.organisations.models import GroupMembership, GroupRole, Role
from samverkan.records.models import LogReview
from samverkan.records.rules import can_review_log

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# Actions that write one event per case shown in a list, not per case opened: they do not count
# towards the volume flag.
LISTING_ACTIONS: tuple[str, ...] = (
    "case.listed",  # the practitioner's list of their cases
    "case_index.viewed",  # the coordinator's index of the group's cases
    "meeting.agenda_item_viewed",  # a meeting's agenda: pseudonyms, no minutes
)
# Scope keys that do not narrow a review: one with any other filter does not cover the month.
_WHOLE_SCOPE_KEYS = frozenset({"date_from", "date_to", "flagged"})

FLAGS: tuple[str, ...] = ("statutory", "denied", "drafter", "after_team", "volume", "off_hours")

FLAG_LABELS: dict[str, StrOrPromise] = {
    "statutory": _("Statutory basis"),
    "denied": _("Denied"),
    "drafter": _("Signature recorded by the consent's drafter"),
    "after_team": _("After leaving the team"),
    "volume": _("Many cases in a day"),
    "off_hours": _("Outside working hours"),
}

FLAG_HELP: dict[str, StrOrPromise] = {
    "statutory": _("Disclosure or read under a statutory basis instead of consent."),
    "denied": _("The system refused the action."),
    "drafter": _(
        "A consent signature recorded on paper or in person by the same staff member who drew "
        "the consent up."
    ),
    "after_team": _("A case event by a user who had left the case's team and was not back on it."),
    "volume": _("The user touched more distinct cases that day than the configured limit."),
    "off_hours": _("Outside the configured working hours, or at a weekend."),
}


def local_zone() -> ZoneInfo:
    """Days and hours are Swedish local time, whatever language or zone a page is shown in."""
    return ZoneInfo(settings.TIME_ZONE)


def day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, local_zone())


@dataclass(frozen=True)
class LogFilters:
    """What the auditor asked for. Holds no identity number: a search by number arrives here
    already turned into the youth's pseudonym."""

    date_from: dt.date
    date_to: dt.date
    actor: str = ""
    agency_id: int | None = None
    case: str = ""  # a youth's pseudonym: every case of that youth
    action: str = ""  # a prefix, like "entry."
    outcome: str = ""
    flagged_only: bool = False

    def scope(self) -> dict[str, Any]:
        """The filters as stored with a review and in the audit log: only those given."""
        scope: dict[str, Any] = {
            "date_from": self.date_from.isoformat(),
            "date_to": self.date_to.isoformat(),
        }
        for key in ("actor", "action", "outcome"):
            if getattr(self, key):
                scope[key] = getattr(self, key)
        if self.case:
            # The youth's id, never the pseudonym: reviews and the audit log outlive a case that
            # retention purges, and a raw scan must then find nothing of it.
            scope["youth"] = (
                Youth.objects.filter(pseudonym__iexact=self.case)
                .values_list("pk", flat=True)
                .first()
            )
        if self.agency_id is not None:
            scope["agency"] = self.agency_id
        if self.flagged_only:
            scope["flagged"] = True
        return scope


def default_period(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """From the first day of the previous month to today: the month a review is due for, and
    everything since."""
    today = today or timezone.localdate()
    first_this = today.replace(day=1)
    return (first_this - dt.timedelta(days=1)).replace(day=1), today


def previous_month(today: dt.date) -> tuple[dt.date, dt.date]:
    last = today.replace(day=1) - dt.timedelta(days=1)
    return last.replace(day=1), last


def _base(filters: LogFilters) -> QuerySet[AuditEvent]:
    """Events of the period, filtered by everything but the flags."""
    events = AuditEvent.objects.filter(
        occurred_at__gte=day_start(filters.date_from),
        occurred_at__lt=day_start(filters.date_to + dt.timedelta(days=1)),
    )
    if filters.actor:
        events = events.filter(actor__username__iexact=filters.actor)
    if filters.agency_id is not None:
        events = events.filter(agency_id=filters.agency_id)
    if filters.action:
        events = events.filter(action__startswith=filters.action)
    if filters.outcome:
        events = events.filter(outcome=filters.outcome)
    if filters.case:
        cases = Case.objects.filter(youth__pseudonym__iexact=filters.case).values("pk")
        youths = (
            Youth.objects.filter(pseudonym__iexact=filters.case)
            .annotate(text_pk=Cast("pk", CharField()))
            .values("text_pk")
        )
        # The youth record's own events (registration, a search that found it) belong too.
        events = events.filter(
            Q(case_id__in=cases) | Q(object_type="cases.youth", object_id__in=youths)
        )
    return events


def _not_counted_for_volume() -> Q:
    return Q(action__in=LISTING_ACTIONS) | Q(action__startswith="records.")


def _busy_days(filters: LogFilters) -> list[tuple[int, dt.date]]:
    """(user, local day) pairs above the daily case limit. One grouped query over the period:
    the volume flag counts every case event of the user that day, not only those the other
    filters let through."""
    events = AuditEvent.objects.filter(
        occurred_at__gte=day_start(filters.date_from),
        occurred_at__lt=day_start(filters.date_to + dt.timedelta(days=1)),
        actor_id__isnull=False,
        case_id__isnull=False,
    ).exclude(_not_counted_for_volume())
    if filters.actor:
        events = events.filter(actor__username__iexact=filters.actor)
    rows = (
        events.annotate(day=TruncDate("occurred_at", tzinfo=local_zone()))
        .order_by()
        .values("actor_id", "day")
        .annotate(cases=Count("case_id", distinct=True))
        .filter(cases__gt=settings.LOG_REVIEW_DAILY_CASES)
        .values_list("actor_id", "day")
    )
    return [(actor_id, day) for actor_id, day in rows]


def _flag_conditions(filters: LogFilters) -> dict[str, Q]:
    """One condition per flag, over a queryset annotated by ``_annotated``."""
    start_hour, end_hour = settings.LOG_REVIEW_HOURS
    left_team = CaseTeamMember.objects.filter(
        case_id=OuterRef("case_id"),
        user_id=OuterRef("actor_id"),
        removed_at__lt=OuterRef("occurred_at"),
    )
    seated = CaseTeamMember.objects.filter(
        Q(removed_at__isnull=True) | Q(removed_at__gte=OuterRef("occurred_at")),
        case_id=OuterRef("case_id"),
        user_id=OuterRef("actor_id"),
        added_at__lte=OuterRef("occurred_at"),
    )
    # Standing seats only: a coordinator who has left the role is no longer exempt.
    coordinating = GroupMembership.objects.filter(
        user_id=OuterRef("actor_id"), role=GroupRole.COORDINATOR, group__cases=OuterRef("case_id")
    )
    volume = Q(pk__in=[])
    for actor_id, day in _busy_days(filters):
        volume |= Q(
            actor_id=actor_id,
            case_id__isnull=False,
            occurred_at__gte=day_start(day),
            occurred_at__lt=day_start(day + dt.timedelta(days=1)),
        )
    volume &= ~_not_counted_for_volume()
    return {
        "statutory": Q(details__review=True) | Q(legal_basis__startswith="statute:"),
        "denied": Q(outcome=Outcome.DENIED),
        "drafter": Q(action="consent.signed", details__recorded_by_drafter=True),
        "after_team": Q(case_id__isnull=False, actor_id__isnull=False)
        & Q(Exists(left_team))
        & ~Q(Exists(seated))
        & ~Q(Exists(coordinating)),
        "volume": volume,
        "off_hours": Q(actor_id__isnull=False)
        & (Q(local_hour__lt=start_hour) | Q(local_hour__gte=end_hour) | Q(local_weekday__gte=6)),
    }


def _annotated(filters: LogFilters) -> QuerySet[AuditEvent]:
    zone = local_zone()
    return _base(filters).annotate(
        local_hour=ExtractHour("occurred_at", tzinfo=zone),
        local_weekday=ExtractIsoWeekDay("occurred_at", tzinfo=zone),
    )


def _any(conditions: dict[str, Q]) -> Q:
    combined = Q(pk__in=[])
    for condition in conditions.values():
        combined |= condition
    return combined


@dataclass(frozen=True)
class LogSearch:
    events: QuerySet[AuditEvent]  # newest first, each with flag_<name> and case_pseudonym
    counts: dict[str, int]  # "total", "flagged" and one per flag, for the period and filters


def log_search(*, viewer: User, filters: LogFilters) -> LogSearch:
    """The filtered, flagged events, and the flag counts for the whole selection. Not audited
    here: the page that shows them audits the search (the view knows what it showed)."""
    if not can_review_log(viewer):
        raise Http404
    conditions = _flag_conditions(filters)
    events = _annotated(filters)
    counts = events.aggregate(
        total=Count("seq"),
        flagged=Count("seq", filter=_any(conditions)),
        **{name: Count("seq", filter=condition) for name, condition in conditions.items()},
    )
    if filters.flagged_only:
        events = events.filter(_any(conditions))
    pseudonym = Case.objects.filter(pk=OuterRef("case_id")).values("youth__pseudonym")[:1]
    events = (
        events.annotate(
            case_pseudonym=Subquery(pseudonym),
            **{
                f"flag_{name}": ExpressionWrapper(condition, output_field=BooleanField())
                for name, condition in conditions.items()
            },
        )
        .select_related("actor", "agency")
        .order_by("-seq")
    )
    return LogSearch(events=events, counts={key: counts[key] or 0 for key in counts})


@dataclass(frozen=True)
class EventRow:
    """One line of the review table: metadata and flags, nothing from the case."""

    event: AuditEvent
    pseudonym: str
    flags: list[tuple[str, StrOrPromise]]


def event_rows(events: list[AuditEvent]) -> list[EventRow]:
    return [
        EventRow(
            event=event,
            pseudonym=getattr(event, "case_pseudonym", None) or "",
            flags=[(name, FLAG_LABELS[name]) for name in FLAGS if getattr(event, f"flag_{name}")],
        )
        for event in events
    ]


def youth_pseudonym(*, viewer: User, youth_id: int | None) -> str | None:
    """The current pseudonym of the youth a recorded scope names by id; ``None`` once purged."""
    if not can_review_log(viewer):
        raise Http404
    if youth_id is None:
        return None
    return Youth.objects.filter(pk=youth_id).values_list("pseudonym", flat=True).first()


def youth_pseudonym_for_number(*, viewer: User, digits: str) -> str | None:
    """The pseudonym of the youth with this identity number, through the keyed hash. The audit
    event says that a number was searched for, never which (not even its hash)."""
    if not can_review_log(viewer):
        raise Http404
    with transaction.atomic():
        pseudonym = (
            Youth.objects.filter(identity_number_hash=search_hash("youth", digits))
            .values_list("pseudonym", flat=True)
            .first()
        )
        audit_record(
            action="records.log_searched",
            actor=viewer,
            object_type="audit.chain",
            details={"by_identity_number": True, "found": pseudonym is not None},
        )
    return pseudonym


def log_search_audit(*, viewer: User, filters: LogFilters, page: int) -> None:
    with transaction.atomic():
        audit_record(
            action="records.log_searched",
            actor=viewer,
            object_type="audit.chain",
            details={**filters.scope(), "page": page},
        )


def log_review_record(*, actor: User, filters: LogFilters, findings: str) -> LogReview:
    """Record a signed-off review of the period and filters. The number of flagged events is
    counted here, not taken from the form, so the record says what the log held."""
    if not can_review_log(actor):
        raise Http404
    findings = findings.strip()
    if not findings:
        raise ValidationError({"findings": [_("Write the findings of the review.")]})
    if looks_like_identity_number(findings):
        raise ValidationError({"findings": [_("Leave identity numbers out of the findings.")]})
    if filters.date_from > filters.date_to:
        raise ValidationError({"date_to": [_("The period must end on or after its start.")]})
    if filters.date_to > timezone.localdate():
        raise ValidationError({"date_to": [_("A review cannot cover days still to come.")]})
    whole = dataclasses.replace(filters, flagged_only=False)
    with transaction.atomic():
        counts = log_search(viewer=actor, filters=whole).counts
        review = LogReview.objects.create(
            period_start=filters.date_from,
            period_end=filters.date_to,
            scope=whole.scope(),
            flagged_events=counts["flagged"],
            findings=findings,
            signed_off_by=actor,
            signed_off_at=timezone.now(),
        )
        audit_record(
            action="records.log_review_recorded",
            actor=actor,
            obj=review,
            details={
                "period_start": review.period_start.isoformat(),
                "period_end": review.period_end.isoformat(),
                "flagged_events": review.flagged_events,
            },
        )
    return review


def log_reviews(*, viewer: User) -> QuerySet[LogReview]:
    if not can_review_log(viewer):
        raise Http404
    return LogReview.objects.select_related("signed_off_by").order_by("-period_end", "-pk")


def log_review_get(*, viewer: User, pk: int) -> LogReview:
    """One review, its reading audited."""
    if not can_review_log(viewer):
        raise Http404
    review = LogReview.objects.select_related("signed_off_by").filter(pk=pk).first()
    if review is None:
        raise Http404
    with transaction.atomic():
        audit_record(action="records.log_review_viewed", actor=viewer, obj=review)
    return review


def auditors() -> QuerySet[User]:
    return User.objects.filter(
        is_active=True, memberships__role=Role.AUDITOR, memberships__agency__is_active=True
    ).distinct()


def _covered(start: dt.date, end: dt.date) -> bool:
    """Whether recorded reviews together cover every day from start to end (weekly reviews
    count as well as one monthly one). A review narrowed by a filter (one user, agency, case,
    action or outcome) covers only that slice of the log, so it does not count."""
    periods = (
        LogReview.objects.filter(period_start__lte=end, period_end__gte=start)
        .order_by("period_start")
        .values_list("period_start", "period_end", "scope")
    )
    cursor = start
    for first, last, scope in periods:
        if set(scope or {}) - _WHOLE_SCOPE_KEYS:
            continue
        if first > cursor:
            break
        cursor = max(cursor, last + dt.timedelta(days=1))
    return cursor > end


def log_review_remind(*, today: dt.date | None = None) -> int:
    """Tell every auditor when no recorded review covers the whole of last month. Idempotent:
    an auditor already told about that month is not told again. Returns how many were told."""
    start, end = previous_month(today or timezone.localdate())
    if _covered(start, end):
        return 0
    told = set(
        Notification.objects.filter(
            kind=NotificationKind.LOG_REVIEW_DUE, params__start=start.isoformat()
        ).values_list("recipient_id", flat=True)
    )
    recipients = [user for user in auditors() if user.pk not in told]
    if not recipients:
        return 0
    with transaction.atomic():
        sent = notify(
            recipients=recipients,
            kind=NotificationKind.LOG_REVIEW_DUE,
            params={"start": start, "end": end},
            link=reverse("records:review"),
        )
    return len(sent)
