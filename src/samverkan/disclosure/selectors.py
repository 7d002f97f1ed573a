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
from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from samverkan.accounts.models import User
from samverkan.audit.models import Outcome
from samverkan.audit.services import audit_read
from samverkan.cases.models import (
    Case,
    CaseTeamMember,
    ConcernReport,
    Entry,
    EntryVersion,
    Factor,
    Youth,
)
from samverkan.consent.models import Consent, Disclosure
from samverkan.disclosure.facts import case_policy_facts, grants_with, one_case_facts
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
from samverkan.disclosure.services import disclosures_record, recorded_as
from samverkan.disclosure.viewer import (
    team_agency_ids,
    viewer_for,
    viewer_of,
)
from samverkan.lib.aggregates import parse_ids, related_ids
from samverkan.organisations.models import Agency, Sector


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
    # The same consents as loaded, with the signers' guardian links: the request's one read
    # of them, for the explanations the page shows (``disclosure.explain``).
    consent_rows: list[Consent]
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
    def receives_concern_reports(self) -> bool:
        """Whether the viewer sits on the team for social services, who receive reports of
        concern (SoL 14 kap. 1 §) and so see every report: read from the team, no query."""
        return any(a.sector == Sector.SOCIAL_SERVICES for a in self.my_agencies)

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
    rows, consents, grants = one_case_facts(case.pk)
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
        consent_rows=rows,
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
    if not view.agency_ids or not viewer.is_active:
        audit_read(
            action="case.view_denied",
            actor=viewer,
            obj=case,
            case_id=case.pk,
            outcome=Outcome.DENIED,
        )
        raise Http404
    access = _access(viewer, case, view)
    audit_read(
        action="case.viewed",
        actor=viewer,
        obj=case,
        case_id=case.pk,
        legal_basis=access.identity.basis,
        details={"identity_shown": access.identity.allowed},
    )
    return access


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


def _record_disclosures(
    access: CaseAccess,
    shown: list[tuple[Entry, Decision]],
    known: Callable[[Entry, tuple[str, int]], bool] = lambda _entry, _key: False,
) -> None:
    """The first time an entry reaches another agency, say under which basis: after a
    withdrawal this is what is marked as disclosed under the withdrawn consent. ``known``:
    whether that is recorded already, where the caller read it with the entries."""
    crossed = [
        (entry, d)
        for entry, d in shown
        if d.basis != BASIS_OWN_AGENCY
        and not ((key := recorded_as(d)) is not None and known(entry, key))
    ]
    if crossed:
        disclosures_record(crossed=crossed)


def _ids_by_basis(visible: list[EntryView]) -> dict[str, list[int]]:
    """The entries a page shows, grouped by the legal basis each was shown under: one event per
    basis names its entries, so a page of two hundred entries writes a handful of rows, not two
    hundred, and the log still says who read entry N and under which basis."""
    by_basis: dict[str, list[int]] = {}
    for view in visible:
        by_basis.setdefault(view.basis, []).append(view.entry.pk)
    return {basis: by_basis[basis] for basis in sorted(by_basis)}


def entry_listing(access: CaseAccess) -> EntryListing:
    """The journal as the viewer may see it, and what is withheld, counted per agency.

    One query for every entry with its current version only (``Entry.version_count`` numbers
    the last); the history is ``entry_history``'s."""
    current = (
        EntryVersion.objects.filter(entry__case=access.case, number=F("entry__version_count"))
        .select_related("entry__agency", "entry__category", "entry__created_by")
        .order_by("-entry__created_at", "-entry__pk")
    )
    recorded: dict[int, frozenset[tuple[str, int]]] = {}
    if len(access.viewer.agency_ids) == 1:
        # What already reached the viewer's one agency, read with the entries, so that reading
        # the page again writes nothing (with several agencies, the insert skips repeats).
        (agency_id,) = access.viewer.agency_ids
        current = current.annotate(
            by_consent=related_ids(
                Disclosure, "entry_id", "consent_id", "entry_id", to_agency_id=agency_id
            ),
            by_statute=related_ids(
                Disclosure, "entry_id", "statutory_id", "entry_id", to_agency_id=agency_id
            ),
        )
    visible: list[EntryView] = []
    shown: list[tuple[Entry, Decision]] = []
    hidden: Counter[tuple[int, DenialReason]] = Counter()
    agencies: dict[int, Agency] = {}
    for version in current:
        entry = version.entry
        decision = entry_decision(
            access.viewer,
            entry_id=entry.pk,
            entry_agency_id=entry.agency_id,
            category_id=entry.category_id,
            at=access.at,
            grants=access.grants,
        )
        if decision:
            if len(access.viewer.agency_ids) == 1:
                recorded[entry.pk] = frozenset(
                    [("consent", i) for i in parse_ids(version.by_consent)]  # type: ignore[attr-defined]
                    + [("statute", i) for i in parse_ids(version.by_statute)]  # type: ignore[attr-defined]
                )
            visible.append(EntryView(entry=entry, current=version, basis=decision.basis))
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
    _record_disclosures(access, shown, lambda entry, key: key in recorded.get(entry.pk, ()))
    for basis, ids in _ids_by_basis(visible).items():
        audit_read(
            action="entry.viewed",
            actor=access.user,
            obj=access.case,
            case_id=access.case.pk,
            legal_basis=basis,
            details={"entries": ids},
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
    _record_disclosures(access, [(entry, decision)])
    audit_read(
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
    risk = Case.risk_factors.through.objects.filter(case_id=case.pk, factor_id=OuterRef("pk"))
    protective = Case.protective_factors.through.objects.filter(
        case_id=case.pk, factor_id=OuterRef("pk")
    )
    # Both lists in one query: each factor says which of the two it is on.
    factors = list(
        Factor.objects.annotate(is_risk=Exists(risk), is_protective=Exists(protective)).filter(
            Q(is_risk=True) | Q(is_protective=True)
        )
    )
    return CaseContent(
        reason=case.reason,
        risk_factors=[f for f in factors if f.is_risk],
        protective_factors=[f for f in factors if f.is_protective],
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


def identity_shown(
    user: User | AnonymousUser, case: Case, *, consents: list[ConsentFacts] | None = None
) -> bool:
    """Whether the policy lets the user see who the youth is on this case, now: for pages that
    show a case's consents and for writers whose text is screened for names. ``consents``: all
    the case's consents' facts, where the caller has read them already."""
    return identity_decision(
        viewer_for(user, case),
        raising_agency_id=case.raising_agency_id,
        at=timezone.now(),
        grants=grants_for(case) if consents is None else grants_with(case.pk, consents),
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
        social = access.receives_concern_reports
    reports = ConcernReport.objects.filter(case=access.case).select_related(
        "agency", "reported_by", "acknowledged_by"
    )
    return [r for r in reports if social or r.agency_id in access.viewer.agency_ids]
