"""Every read of a case's protected content for a user: the case itself, its journal, its
reason and factors. Each asks ``disclosure.policy`` and audits what it shows.

An object the viewer may not see answers 404, exactly like a missing one (DESIGN rule 7). The
listing functions run a fixed number of queries whatever the number of rows, audit included.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.utils import timezone

from samverkan.accounts.models import User
from samverkan.audit.models import Outcome
from samverkan.audit.services import Subject, audit_record, audit_record_many
from samverkan.cases.models import (
    Case,
    CaseTeamMember,
    ConcernReport,
    Entry,
    EntryVersion,
    Factor,
    Youth,
)
from samverkan.disclosure.facts import case_policy_facts
from samverkan.disclosure.policy import (
    BASIS_OWN_AGENCY,
    DENIED,
    ConsentFacts,
    Decision,
    DenialReason,
    Grant,
    Viewer,
    content_decision,
    denial_reason,
    entry_decision,
    identity_decision,
    identity_shared_with_team,
)
from samverkan.disclosure.services import disclosures_record
from samverkan.disclosure.viewer import (
    receives_concern_reports,
    team_agency_ids,
    viewer_for,
    viewer_of,
)
from samverkan.organisations.models import Agency


def policy_facts(case: Case) -> tuple[list[ConsentFacts], list[Grant]]:
    """The case's consents and every grant that lets information cross between its agencies:
    consents and statutory disclosures, read afresh on every request (never cached), so a
    withdrawal counts from the next request after it commits."""
    return case_policy_facts([case.pk])[case.pk]


def grants_for(case: Case) -> list[Grant]:
    return policy_facts(case)[1]


def _case_queryset() -> QuerySet[Case]:
    return Case.objects.select_related(
        "youth", "group", "group__municipality", "raising_agency", "raised_by"
    )


@dataclass
class CaseAccess:
    """A case as one viewer may see it, with the decisions already taken."""

    case: Case
    user: User
    viewer: Viewer
    identity: Decision
    grants: list[Grant]
    consents: list[ConsentFacts]
    at: datetime
    pseudonymous_team: bool
    # Rule 16: whether the viewer's agencies may read the reason, factors, plan, minutes and
    # decisions. Pages, API and exports show those only through ``CaseAccess`` when this holds.
    content: Decision = DENIED

    @property
    def my_agencies(self) -> list[Agency]:
        """The agencies the viewer sits on this case's team for (and still practises at)."""
        return [
            m.agency
            for m in self.case.team.all()
            if m.user_id == self.user.pk
            and m.removed_at is None
            and m.agency_id in self.viewer.agency_ids
        ]

    @property
    def youth_label(self) -> str:
        return self.case.youth.name if self.identity else self.case.youth.pseudonym

    @property
    def identity_number(self) -> str:
        """The formatted number, only when identity may be shown; empty otherwise."""
        if not self.identity:
            return ""
        digits = self.case.youth.identity_number
        return f"{digits[:8]}-{digits[8:]}"


def _access(viewer: User, case: Case, view: Viewer) -> CaseAccess:
    now = timezone.now()
    consents, grants = policy_facts(case)
    agencies = view.agency_ids
    team = {m.agency_id for m in case.team.all() if m.removed_at is None}
    return CaseAccess(
        case=case,
        user=viewer,
        viewer=view,
        identity=identity_decision(
            view, raising_agency_id=case.raising_agency_id, at=now, grants=grants
        ),
        grants=grants,
        consents=consents,
        at=now,
        pseudonymous_team=not identity_shared_with_team(
            team_agency_ids=team, raising_agency_id=case.raising_agency_id, at=now, grants=grants
        ),
        content=content_decision(
            agencies, raising_agency_id=case.raising_agency_id, at=now, grants=grants
        ),
    )


def case_open(*, viewer: User, pk: int) -> CaseAccess:
    """A case for a member of its team; 404 for everyone else. The read is audited, and so is a
    refused attempt on a case that exists (log review looks for those)."""
    case = (
        _case_queryset()
        .prefetch_related(
            Prefetch("team", queryset=CaseTeamMember.objects.select_related("user", "agency"))
        )
        .filter(pk=pk)
        .first()
    )
    if case is None:
        raise Http404
    view = viewer_for(viewer, case)
    with transaction.atomic():
        if not view.agency_ids or not viewer.is_active:
            audit_record(
                action="case.view_denied",
                actor=viewer,
                obj=case,
                case_id=case.pk,
                outcome=Outcome.DENIED,
            )
        else:
            access = _access(viewer, case, view)
            audit_record(
                action="case.viewed",
                actor=viewer,
                obj=case,
                case_id=case.pk,
                legal_basis=access.identity.basis,
                details={"identity_shown": access.identity.allowed},
            )
            return access
    raise Http404


@dataclass
class EntryView:
    entry: Entry
    current: EntryVersion
    basis: str

    @property
    def text(self) -> str:
        return self.current.text


@dataclass(frozen=True)
class HiddenGroup:
    """Entries withheld from the viewer: how many, from which agency, and why."""

    agency: Agency
    reason: DenialReason
    count: int


@dataclass
class EntryListing:
    visible: list[EntryView]
    hidden: list[HiddenGroup] = field(default_factory=list)


def _record_disclosures(access: CaseAccess, shown: list[tuple[Entry, Decision]]) -> None:
    """The first time an entry reaches another agency, say under which basis: after a
    withdrawal this is what is marked as disclosed under the withdrawn consent."""
    crossed = [(entry, d) for entry, d in shown if d.basis != BASIS_OWN_AGENCY]
    if crossed:
        disclosures_record(crossed=crossed)


def entry_listing(access: CaseAccess) -> EntryListing:
    """The journal as the viewer may see it, and what is withheld, counted per agency."""
    entries = (
        Entry.objects.filter(case=access.case)
        .select_related("agency", "category", "created_by")
        .prefetch_related(
            Prefetch(
                "versions",
                queryset=EntryVersion.objects.select_related("author").order_by("number"),
            )
        )
    )
    visible: list[EntryView] = []
    shown: list[tuple[Entry, Decision]] = []
    hidden: Counter[tuple[int, DenialReason]] = Counter()
    agencies: dict[int, Agency] = {}
    for entry in entries:
        decision = entry_decision(
            access.viewer,
            entry_id=entry.pk,
            entry_agency_id=entry.agency_id,
            category_id=entry.category_id,
            at=access.at,
            grants=access.grants,
        )
        if decision:
            versions = list(entry.versions.all())
            visible.append(EntryView(entry=entry, current=versions[-1], basis=decision.basis))
            shown.append((entry, decision))
        else:
            reason = denial_reason(
                access.viewer,
                entry_agency_id=entry.agency_id,
                category_id=entry.category_id,
                at=access.at,
                consents=access.consents,
            )
            hidden[(entry.agency_id, reason)] += 1
            agencies[entry.agency_id] = entry.agency
    with transaction.atomic():
        _record_disclosures(access, shown)
        audit_record_many(
            action="entry.viewed",
            actor=access.user,
            subjects=[
                Subject("cases.entry", str(v.entry.pk), access.case.pk, legal_basis=v.basis)
                for v in visible
            ],
        )
    return EntryListing(
        visible=visible,
        hidden=[
            HiddenGroup(agency=agencies[agency_id], reason=reason, count=count)
            for (agency_id, reason), count in sorted(hidden.items())
        ],
    )


def entry_history(access: CaseAccess, entry_pk: int) -> EntryView | None:
    """One entry with all its versions, if the viewer may see it; None otherwise (a 404)."""
    entry = (
        Entry.objects.filter(case=access.case, pk=entry_pk)
        .select_related("agency", "category", "created_by")
        .prefetch_related(
            Prefetch(
                "versions",
                queryset=EntryVersion.objects.select_related("author").order_by("number"),
            )
        )
        .first()
    )
    if entry is None:
        return None
    decision = entry_decision(
        access.viewer,
        entry_id=entry.pk,
        entry_agency_id=entry.agency_id,
        category_id=entry.category_id,
        at=access.at,
        grants=access.grants,
    )
    if not decision:
        return None
    versions = list(entry.versions.all())
    with transaction.atomic():
        _record_disclosures(access, [(entry, decision)])
        audit_record(
            action="entry.history_viewed",
            actor=access.user,
            obj=entry,
            case_id=access.case.pk,
            legal_basis=decision.basis,
        )
    return EntryView(entry=entry, current=versions[-1], basis=decision.basis)


def youth_of(access: CaseAccess) -> Youth | None:
    """The youth's record with identity, only for a viewer the policy lets see it."""
    return access.case.youth if access.identity else None


@dataclass(frozen=True)
class CaseContent:
    """What the case says about the youth: withheld until rule 16 lets the viewer read it."""

    reason: str
    risk_factors: list[Factor]
    protective_factors: list[Factor]
    closure_outcome: str


def case_content(access: CaseAccess) -> CaseContent | None:
    """The reason and the factors, or None for an agency no consent or statutory disclosure
    covers yet (DESIGN rule 16): such an agency sees the pseudonym, status and meeting times."""
    if not access.content:
        return None
    case = access.case
    return CaseContent(
        reason=case.reason,
        risk_factors=list(case.risk_factors.all()),
        protective_factors=list(case.protective_factors.all()),
        closure_outcome=case.closure_outcome,
    )


def content_case_ids(
    cases: Iterable[Case], agencies_of: Callable[[Case], Iterable[int]]
) -> set[int]:
    """Of these cases, those whose content (rule 16) the agencies ``agencies_of`` gives for each
    may read now: for pages that show many cases outside ``case_open`` (meetings, start page).
    Grants are read afresh, in a fixed number of queries whatever the number of cases."""
    case_list = list(cases)
    facts = case_policy_facts({c.pk for c in case_list})
    now = timezone.now()
    return {
        c.pk
        for c in case_list
        if content_decision(
            agencies_of(c), raising_agency_id=c.raising_agency_id, at=now, grants=facts[c.pk][1]
        )
    }


def identity_shown(user: User | AnonymousUser, case: Case) -> bool:
    """Whether the policy lets the user see who the youth is on this case, now: for pages that
    show a case's consents and for writers whose text is screened for names."""
    return identity_decision(
        viewer_for(user, case),
        raising_agency_id=case.raising_agency_id,
        at=timezone.now(),
        grants=grants_for(case),
    ).allowed


def content_shown(user: User | AnonymousUser, case: Case) -> bool:
    """DESIGN rule 16 for writes that would show the writer the case's content (the plan): the
    agencies the user sits on the team for are covered now (``policy.content_decision``)."""
    agencies = team_agency_ids(user, case)
    return (
        bool(agencies)
        and content_decision(
            agencies,
            raising_agency_id=case.raising_agency_id,
            at=timezone.now(),
            grants=grants_for(case),
        ).allowed
    )


def identity_decisions(
    user: User, agencies_by_case: Mapping[int, tuple[Case, frozenset[int]]]
) -> dict[int, Decision]:
    """For a list of cases with the agencies the user sits on each team for: whether the
    youth's identity may be shown on each, grants read in a fixed number of queries."""
    now = timezone.now()
    facts = case_policy_facts(agencies_by_case)
    return {
        pk: identity_decision(
            viewer_of(user, agencies),
            raising_agency_id=case.raising_agency_id,
            at=now,
            grants=facts[pk][1],
        )
        for pk, (case, agencies) in agencies_by_case.items()
    }


def concern_reports(access: CaseAccess, *, social: bool | None = None) -> list[ConcernReport]:
    """Reports of concern: every one for social services on the team, the viewer's own
    agencies' reports for the others. ``social`` when the caller already asked
    ``receives_concern_reports``."""
    if social is None:
        social = receives_concern_reports(access.viewer.agency_ids)
    reports = ConcernReport.objects.filter(case=access.case).select_related(
        "agency", "reported_by", "acknowledged_by"
    )
    return [r for r in reports if social or r.agency_id in access.viewer.agency_ids]
