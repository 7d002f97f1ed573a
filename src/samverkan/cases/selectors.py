"""Case lists and cards for a user, and what a case holds beyond its journal. What a viewer may
see of one case (``case_open``, the journal, the content) is the disclosure layer's
(``disclosure.selectors``); these read through it and audit what they show.

An object the viewer may not see answers 404, exactly like a missing one (DESIGN rule 7). The
listing functions run a fixed number of queries whatever the number of rows, audit included.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Min, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone

from samverkan.accounts.models import User
from samverkan.audit.services import Subject, audit_read, audit_reads
from samverkan.cases import rules
from samverkan.cases.activity import OPEN_STATUSES, dormant_before, last_activity
from samverkan.cases.models import Case, CaseTeamMember
from samverkan.disclosure.selectors import identity_decisions
from samverkan.disclosure.viewer import practising_agency_ids
from samverkan.organisations.models import CollaborationGroup


def _case_queryset() -> QuerySet[Case]:
    return Case.objects.select_related(
        "youth", "group", "group__municipality", "raising_agency", "raised_by"
    )


@dataclass
class CaseRow:
    """A line of a case list: the label the viewer may see, never content."""

    case: Case
    label: str
    identity_shown: bool
    days_open: int
    # On the coordinator's index: when an open case has had no activity for
    # ``CASE_DORMANT_DAYS``, the moment of its last activity (cases/activity.py).
    dormant_since: datetime | None = None


def _days_open(case: Case, now: datetime) -> int:
    end = case.closed_at or now
    return (end - case.raised_at).days


def my_cases(*, viewer: User) -> list[CaseRow]:
    """Cases the viewer sits on the team of, labelled by name only where identity may be shown."""
    now = timezone.now()
    memberships = (
        CaseTeamMember.objects.filter(user=viewer, removed_at__isnull=True)
        .select_related("case", "case__youth", "case__group", "case__raising_agency")
        .order_by("-case__raised_at")
    )
    practising = practising_agency_ids(viewer)
    by_case: dict[int, tuple[Case, set[int]]] = {}
    for member in memberships:
        if member.agency_id in practising:
            by_case.setdefault(member.case_id, (member.case, set()))[1].add(member.agency_id)
    rows: list[CaseRow] = []
    shown: list[Subject] = []
    decisions = identity_decisions(
        viewer, {pk: (case, frozenset(agencies)) for pk, (case, agencies) in by_case.items()}
    )
    for case, _agencies in by_case.values():
        decision = decisions[case.pk]
        rows.append(
            CaseRow(
                case=case,
                label=case.youth.name if decision else case.youth.pseudonym,
                identity_shown=decision.allowed,
                days_open=_days_open(case, now),
            )
        )
        if decision:
            shown.append(Subject("cases.case", str(case.pk), case.pk, decision.basis))
    audit_reads(action="case.listed", actor=viewer, subjects=shown)
    return rows


def group_for_coordinator(*, viewer: User, pk: int) -> CollaborationGroup:
    group = CollaborationGroup.objects.select_related("municipality").filter(pk=pk).first()
    if group is None or not rules.is_coordinator(viewer, group):
        raise Http404
    return group


def case_index(*, viewer: User, group: CollaborationGroup) -> list[CaseRow]:
    """The coordinator's index: pseudonym, status, days open, team size. No content."""
    if not rules.is_coordinator(viewer, group):
        raise Http404
    now = timezone.now()
    cases = list(
        _case_queryset()
        .filter(group=group)
        .prefetch_related(
            Prefetch("team", queryset=CaseTeamMember.objects.filter(removed_at__isnull=True))
        )
        # The next meeting that has the case on its agenda: the coordinator's "next step".
        .annotate(
            # A subquery per case rather than an aggregate over the join: the outer query then
            # needs no GROUP BY over every column of the case and the tables joined to it.
            next_meeting=Subquery(
                Case.objects.filter(pk=OuterRef("pk"))
                .annotate(
                    first=Min(
                        "agenda_items__meeting__starts_at",
                        filter=Q(agenda_items__meeting__starts_at__gte=now),
                    )
                )
                .values("first")
            ),
            last_activity=last_activity(),
        )
        .order_by("status", "-raised_at")
    )
    # One row per case listed, all in one statement: the review of a case and the guardian's
    # access log (records, portal) find who saw it in the index by the event's case.
    audit_reads(
        action="case_index.viewed",
        actor=viewer,
        subjects=[Subject("cases.case", str(c.pk), c.pk) for c in cases],
        details={"group_id": group.pk},
    )
    quiet_before = dormant_before(now)
    return [
        CaseRow(
            case=c,
            label=c.youth.pseudonym,
            identity_shown=False,
            days_open=_days_open(c, now),
            dormant_since=c.last_activity
            if c.status in OPEN_STATUSES and c.last_activity < quiet_before
            else None,
        )
        for c in cases
    ]


def case_card(*, viewer: User, pk: int) -> Case:
    """The case without content (pseudonym, status, team) for its coordinator and team."""
    case = (
        _case_queryset()
        .prefetch_related(
            Prefetch(
                "team",
                queryset=CaseTeamMember.objects.filter(removed_at__isnull=True).select_related(
                    "user", "agency"
                ),
            )
        )
        .filter(pk=pk)
        .first()
    )
    if case is None or not rules.can_see_case_card(viewer, case):
        raise Http404
    audit_read(action="case.card_viewed", actor=viewer, obj=case, case_id=case.pk)
    return case
