"""Every read of agreements. Two doors, and only two:

- for staff, ``agreements_for`` / ``agreement_open`` / ``agreement_detail`` /
  ``active_agreements`` take the acting user and answer 404 for what ``rules`` does not let
  them read, exactly as for a missing agreement (DESIGN §4 rule 7);
- for the public (and the public tracker, feed and PDF built on top), ``published_promises``
  and ``promise_public_detail`` see published agreements only, and from them only links to
  other published agreements.

Both build the same ``AgreementDetail`` with a fixed number of queries however many parties,
commitments, activities and follow-ups the agreement has.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from samverkan.organisations.models import Agency, CollaborationGroup, GroupMembership
from samverkan.promises import rules
from samverkan.promises.models import (
    RUNNING,
    Activity,
    Agreement,
    AgreementStatus,
    AgreementVersion,
    Assessment,
    Commitment,
    Extension,
    FollowUp,
    FollowUpProgress,
    Party,
    PartyKind,
    Signatory,
    Verdict,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from samverkan.accounts.models import User
    from samverkan.indicators.models import Indicator
    from samverkan.organisations.models import Municipality


# --- Computations shared by staff and public views -------------------------------------------


@dataclass(frozen=True)
class CommitmentProgress:
    """How far the activity log has come toward a commitment's countable target."""

    done: int
    target: int | None
    unit: str

    @property
    def percent(self) -> int | None:
        if not self.target:
            return None
        return min(100, self.done * 100 // self.target)

    @property
    def reached(self) -> bool:
        return self.target is not None and self.done >= self.target


def commitment_progress(commitment: Commitment) -> CommitmentProgress:
    """Summed over the whole period; uses the prefetched activities when they are there.

    A target such as "at least two occasions a year" carries its per-year sense in the unit
    text; the sum is against the number as written.
    """
    done = sum(a.count for a in commitment.activities.all())
    return CommitmentProgress(
        done=done, target=commitment.target_count, unit=commitment.target_unit
    )


class Fulfilment:
    PENDING = "pending"
    FULFILLED = "fulfilled"
    NOT_FULFILLED = "not_fulfilled"


def fulfilment(parties: Iterable[Party], assessments: Iterable[Assessment]) -> str:
    """Fulfilled only when every party has assessed the agreement fulfilled; pending while any
    party has not assessed it; otherwise not (fully) fulfilled."""
    by_party = {a.party_id: a for a in assessments}
    party_list = list(parties)
    if not party_list or any(p.pk not in by_party for p in party_list):
        return Fulfilment.PENDING
    if all(by_party[p.pk].verdict == Verdict.FULFILLED for p in party_list):
        return Fulfilment.FULFILLED
    return Fulfilment.NOT_FULFILLED


# Headings of DESIGN §3, in the order promise documents use.
HEADING_ORDER = [PartyKind.POLICE, PartyKind.MUNICIPALITY, PartyKind.OTHER, None]


@dataclass
class CommitmentRow:
    commitment: Commitment
    progress: CommitmentProgress
    indicators: list[Indicator]


@dataclass
class CommitmentGroup:
    """Commitments under one heading: "Polisen lovar", "Kommunen lovar", …, "Gemensamt"."""

    party: Party | None  # None: joint
    rows: list[CommitmentRow] = field(default_factory=list)

    @property
    def heading(self) -> str:
        if self.party is None:
            return _("Joint")
        if self.party.kind == PartyKind.POLICE:
            return _("The police promise")
        if self.party.kind == PartyKind.MUNICIPALITY:
            return _("The municipality promises")
        return _("%(party)s promises") % {"party": self.party.name}


@dataclass
class PartyRow:
    party: Party
    assessment: Assessment | None
    may_assess: bool = False  # ``rules.can_assess_party`` for the viewer (staff door only)


@dataclass
class AgreementDetail:
    agreement: Agreement
    parties: list[PartyRow]
    signatories: list[Signatory]
    groups: list[CommitmentGroup]
    commitments: list[CommitmentRow]
    activities: list[Activity]
    follow_ups: list[FollowUp]
    extensions: list[Extension]
    fulfilment: str
    predecessor: Agreement | None
    successors: list[Agreement]
    overlaps: list[Agreement]
    versions: list[AgreementVersion]
    may_edit: bool = False

    @property
    def is_fulfilled(self) -> bool:
        return self.fulfilment == Fulfilment.FULFILLED

    @property
    def assessable_parties(self) -> list[Party]:
        """The parties whose assessment the viewer may record."""
        return [r.party for r in self.parties if r.may_assess]


def _detail_queryset(
    *, public: bool, readable: frozenset[int] = frozenset()
) -> QuerySet[Agreement]:
    """``public``: linked agreements and cited series only if published; otherwise linked
    agreements only of the municipalities in ``readable`` (what the viewer may read)."""
    from samverkan.indicators.models import Indicator, IndicatorValue

    linked = (
        Agreement.objects.filter(published=True)
        if public
        else Agreement.objects.filter(municipality_id__in=readable)
    )
    indicators_qs = "indicators"
    values = IndicatorValue.objects.select_related("indicator").order_by(
        "indicator__name", "indicator__area", "period_start"
    )
    if public:
        indicators_qs = Prefetch("indicators", queryset=Indicator.objects.filter(published=True))  # type: ignore[assignment]
        values = values.filter(indicator__published=True)
    return Agreement.objects.select_related("municipality", "police_area").prefetch_related(
        Prefetch("parties", queryset=Party.objects.select_related("agency").order_by("pk")),
        Prefetch("signatories", queryset=Signatory.objects.select_related("party")),
        Prefetch(
            "commitments",
            queryset=Commitment.objects.select_related("party", "group").prefetch_related(
                "activities", indicators_qs
            ),
        ),
        Prefetch("assessments", queryset=Assessment.objects.select_related("party")),
        Prefetch(
            "follow_ups",
            queryset=FollowUp.objects.prefetch_related(
                Prefetch(
                    "progress", queryset=FollowUpProgress.objects.select_related("commitment")
                ),
                Prefetch("indicator_values", queryset=values),
            ),
        ),
        "extensions",
        Prefetch("succeeds", queryset=linked),
        Prefetch("successors", queryset=linked.order_by("period_start")),
        Prefetch("overlaps", queryset=linked.order_by("period_start")),
    )


def _build(
    agreement: Agreement, *, public: bool, versions: list[AgreementVersion]
) -> AgreementDetail:
    parties = list(agreement.parties.all())
    assessments = list(agreement.assessments.all())
    by_party = {a.party_id: a for a in assessments}
    rows = [
        CommitmentRow(c, commitment_progress(c), list(c.indicators.all()))
        for c in agreement.commitments.all()
    ]
    groups: list[CommitmentGroup] = []
    # One heading per party, police first, then the municipality, others, and joint last.
    ordered_parties = sorted(parties, key=lambda p: (HEADING_ORDER.index(PartyKind(p.kind)), p.pk))
    for party in [*ordered_parties, None]:
        party_rows = [r for r in rows if r.commitment.party_id == (party.pk if party else None)]
        if party_rows:
            groups.append(CommitmentGroup(party=party, rows=party_rows))
    activities = sorted(
        (a for r in rows for a in r.commitment.activities.all()),
        key=lambda a: (a.date, a.pk),
        reverse=True,
    )
    predecessor = agreement.succeeds  # prefetched from the linked agreements the viewer sees
    if public:
        # Working notes behind the promise, not part of the published document. Blanked on
        # this unsaved instance so no public template or schema can show them by mistake.
        agreement.cause_analysis = ""
    return AgreementDetail(
        agreement=agreement,
        parties=[PartyRow(p, by_party.get(p.pk)) for p in parties],
        signatories=list(agreement.signatories.all()),
        groups=groups,
        commitments=rows,
        activities=activities,
        follow_ups=list(agreement.follow_ups.all()),
        extensions=list(agreement.extensions.all()),
        fulfilment=fulfilment(parties, assessments),
        predecessor=predecessor,
        successors=list(agreement.successors.all()),
        overlaps=list(agreement.overlaps.all()),
        versions=versions,
    )


# --- Staff -----------------------------------------------------------------------------------


def agreements_for(*, viewer: User | AnonymousUser) -> QuerySet[Agreement]:
    """The agreements of the municipalities the viewer edits or, as a council member, reads."""
    ids = rules.reader_municipality_ids(viewer)
    if not ids:
        return Agreement.objects.none()
    return Agreement.objects.filter(municipality_id__in=ids).select_related(
        "municipality", "police_area"
    )


def agreement_open(*, viewer: User | AnonymousUser, pk: int) -> Agreement:
    """One agreement the viewer may read (no related rows); 404 otherwise."""
    agreement = agreements_for(viewer=viewer).filter(pk=pk).first()
    if agreement is None:
        raise Http404
    return agreement


def agreement_detail(*, viewer: User | AnonymousUser, pk: int) -> AgreementDetail:
    ids = rules.reader_municipality_ids(viewer)
    agreement = (
        _detail_queryset(public=False, readable=ids).filter(municipality_id__in=ids, pk=pk).first()
    )
    if agreement is None:
        raise Http404
    versions = list(
        AgreementVersion.objects.filter(agreement=agreement)
        .select_related("created_by")
        .defer("snapshot")
    )
    detail = _build(agreement, public=False, versions=versions)
    detail.may_edit = rules.can_edit_agreement(viewer, agreement)
    for row in detail.parties:
        row.may_assess = rules.can_assess_party(viewer, agreement, row.party)
    return detail


def agreement_version(*, viewer: User | AnonymousUser, pk: int, number: int) -> AgreementVersion:
    agreement = agreement_open(viewer=viewer, pk=pk)
    version = (
        AgreementVersion.objects.filter(agreement=agreement, number=number)
        .select_related("created_by")
        .first()
    )
    if version is None:
        raise Http404
    return version


def party_agencies(agreement: Agreement) -> QuerySet[Agency]:
    """The active agencies that may speak for a party of the agreement: the municipality's own
    and those of the police areas serving it (``services.party_add`` checks the kind)."""
    return (
        Agency.objects.filter(
            Q(municipality_id=agreement.municipality_id)
            | Q(police_area__municipalities=agreement.municipality_id),
            is_active=True,
        )
        .distinct()
        .order_by("name")
    )


def link_candidates(*, viewer: User | AnonymousUser, agreement: Agreement) -> QuerySet[Agreement]:
    """Agreements this one may succeed or overlap: those the viewer may edit, this one excluded
    (a link changes both agreements)."""
    return (
        Agreement.objects.filter(municipality_id__in=rules.editor_municipality_ids(viewer))
        .select_related("municipality", "police_area")
        .exclude(pk=agreement.pk)
        .order_by("-period_start")
    )


def active_agreements(
    *, viewer: User | AnonymousUser, municipality: Municipality | None = None
) -> list[AgreementDetail]:
    """Every running (active or extended) agreement the viewer reads, for the council report."""
    ids = rules.reader_municipality_ids(viewer)
    qs = _detail_queryset(public=False, readable=ids).filter(
        municipality_id__in=ids, status__in=RUNNING
    )
    if municipality is not None:
        qs = qs.filter(municipality=municipality)
    return [
        _build(a, public=False, versions=[])
        for a in qs.order_by("municipality__name", "period_start")
    ]


# --- Public ----------------------------------------------------------------------------------


def published_promises(
    municipality: Municipality | None = None, *, kind: str | None = None
) -> QuerySet[Agreement]:
    """Published agreements (promises and cooperation agreements alike), newest first."""
    qs = Agreement.objects.filter(published=True).exclude(status=AgreementStatus.DRAFT)
    if municipality is not None:
        qs = qs.filter(municipality=municipality)
    if kind is not None:
        qs = qs.filter(kind=kind)
    return qs.select_related("municipality", "police_area").order_by(
        "municipality__name", "-period_start", "-pk"
    )


def published_details(
    municipality: Municipality | None = None, *, offset: int = 0, limit: int | None = None
) -> list[AgreementDetail]:
    """``published_promises`` with everything the public may see of each, in fixed queries.

    ``offset`` and ``limit`` page through them in the order of ``published_promises``, which
    ends on the primary key so that no agreement is shown on two pages or on none.
    """
    qs = _detail_queryset(public=True).filter(Q(published=True) & ~Q(status=AgreementStatus.DRAFT))
    if municipality is not None:
        qs = qs.filter(municipality=municipality)
    qs = qs.order_by("municipality__name", "-period_start", "-pk")
    qs = qs[offset:] if limit is None else qs[offset : offset + limit]
    return [_build(a, public=True, versions=[]) for a in qs]


def promise_public_detail(pk: int) -> AgreementDetail:
    """A published agreement as the public sees it; 404 for anything else, as for a missing one.

    Editors' notes that are not part of the published document (cause analysis, version
    history) are left out.
    """
    agreement = (
        _detail_queryset(public=True)
        .filter(pk=pk, published=True)
        .exclude(status=AgreementStatus.DRAFT)
        .first()
    )
    if agreement is None:
        raise Http404
    return _build(agreement, public=True, versions=[])


def linkable_groups(*, viewer: User, agreement: Agreement) -> QuerySet[CollaborationGroup]:
    """The collaboration groups ``viewer`` may link a commitment of ``agreement`` to."""
    return CollaborationGroup.objects.filter(
        pk__in=rules.linkable_group_ids(viewer, agreement)
    ).order_by("name", "pk")


@dataclass(frozen=True)
class LinkedGroup:
    """A commitment's collaboration group as the agreement's readers see it: the group and
    the agencies that sit in it, never who sits there or what it discusses."""

    commitment: Commitment
    group: CollaborationGroup
    agencies: list[Agency]
    meetings_held: int


def commitment_group(*, agreement: Agreement, commitment_pk: int) -> LinkedGroup:
    """The group ``commitment_pk`` of ``agreement`` (already opened for the viewer) links to;
    404 when the commitment is not the agreement's or links no group."""
    commitment = (
        Commitment.objects.filter(agreement=agreement, pk=commitment_pk, group__isnull=False)
        .select_related("group", "group__municipality")
        .first()
    )
    if commitment is None or commitment.group is None:
        raise Http404
    group = commitment.group
    # Through the default manager: only the seats that count now.
    seats = GroupMembership.objects.filter(group=group).values("agency_id")
    agencies = list(Agency.objects.filter(pk__in=seats).order_by("name"))
    held = group.meetings.filter(starts_at__lt=timezone.now()).count()
    return LinkedGroup(commitment=commitment, group=group, agencies=agencies, meetings_held=held)
