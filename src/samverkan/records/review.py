"""Log review (*loggkontroll*, DESIGN rule 9): the filters and the flags of the audit log page.

The page's audited reads are in ``samverkan.records.selectors`` (``log_search``), the recorded
reviews and the monthly reminder in ``samverkan.records.services``.

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

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import CharField, Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Cast, ExtractHour, ExtractIsoWeekDay, TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from samverkan.audit.models import AuditEvent, Outcome
from samverkan.cases.models import Case, CaseTeamMember, Youth
from samverkan.organisations.models import GroupMembership, GroupRole

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# Actions that write one event per case shown in a list, not per case opened: they do not count
# towards the volume flag.
LISTING_ACTIONS: tuple[str, ...] = (
    "case.listed",  # the practitioner's list of their cases
    "case_index.viewed",  # the coordinator's index of the group's cases
    "meeting.agenda_item_viewed",  # a meeting's agenda: pseudonyms, no minutes
)

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


def flag_conditions(filters: LogFilters) -> dict[str, Q]:
    """One condition per flag, over a queryset annotated by ``annotated``."""
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


def annotated(filters: LogFilters) -> QuerySet[AuditEvent]:
    zone = local_zone()
    return _base(filters).annotate(
        local_hour=ExtractHour("occurred_at", tzinfo=zone),
        local_weekday=ExtractIsoWeekDay("occurred_at", tzinfo=zone),
    )


def any_flag(conditions: dict[str, Q]) -> Q:
    combined = Q(pk__in=[])
    for condition in conditions.values():
        combined |= condition
    return combined
