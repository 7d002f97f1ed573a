"""The one place that decides what a viewer may see of a case: entries and identity.

Pure functions over plain facts, so they can be tested exhaustively and cannot be skipped by a
code path that forgets a check: every selector in ``cases.selectors`` asks them, and pages, API,
exports and PDFs read only through those selectors.

The policy is *closed by default*: a team member sees the entries of the agencies they sit on
the team for, and the youth's identity only if they sit for the agency that raised the case.
Everything else crosses only on a ``Grant``: from an active consent (``grants_of``) or from one
statutory disclosure of one entry. A consent's state is derived here too (``state_at``), and so
is the reason an entry is withheld (``denial_reason``), so the explanation a page gives and the
decision it took cannot disagree.

Rule 16 (``content_decision``): until a consent or a recorded statutory disclosure covers an
agency, it sees of a case only its pseudonym, status and meeting times, whatever the entries.

A consent is active from the moment its last required signature is in (and not before
``valid_from``) until the first of: ``valid_until``, a withdrawal, or — where the youth did not
sign it — the youth's 18th birthday, because from then on the youth alone disposes of their
secrecy.

A signer the consent comes to need after it was drawn up (``LaterSigner``: the youth from the
signing age, DESIGN rule 18; a guardian who gains custody) suspends it: from the moment they are
needed until their signature counts, it covers nothing new (``State.AWAITING_COSIGNATURE``). What
crossed before stays crossed; the consent covers again from their signature on.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import permutations

BASIS_OWN_AGENCY = "own_agency"


@dataclass(frozen=True)
class Viewer:
    """A user looking at one case: the agencies they sit on its team for (active only)."""

    user_id: int
    agency_ids: frozenset[int]


@dataclass(frozen=True)
class Grant:
    """Permission for information to cross from one agency to another.

    ``category_ids`` None means every category; ``covers_identity`` lets the youth's identity
    cross. ``basis`` is recorded in the audit log (for example ``consent:12``).
    """

    from_agency_id: int
    to_agency_id: int
    valid_from: datetime
    valid_until: datetime
    basis: str
    category_ids: frozenset[int] | None = None
    covers_identity: bool = False
    entry_id: int | None = None  # a statutory disclosure covers one entry only


class State(enum.StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    # Was active, but a signer it came to need has not signed yet: it covers nothing new.
    AWAITING_COSIGNATURE = "awaiting_cosignature"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class LaterSigner:
    """A signer a consent needs from ``required_from`` on, though it was complete without them:
    the youth from the signing age (DESIGN rule 18) or a guardian who gained custody after it
    was drawn up. ``signed_at`` is when their signature began to count, or None."""

    kind: str  # "youth" or "guardian", as ``consent.models.SignerKind``
    required_from: datetime
    signed_at: datetime | None = None

    def gap(self) -> tuple[datetime, datetime | None] | None:
        """The time the consent covers nothing new for want of this signature; an open end
        (None) while it is missing. None when they signed before they were needed."""
        if self.signed_at is not None and self.signed_at <= self.required_from:
            return None
        return (self.required_from, self.signed_at)

    def missing_at(self, at: datetime) -> bool:
        gap = self.gap()
        return gap is not None and gap[0] <= at and (gap[1] is None or at < gap[1])


@dataclass(frozen=True)
class ConsentFacts:
    consent_id: int
    agency_ids: frozenset[int]
    category_ids: frozenset[int]
    valid_from: datetime
    valid_until: datetime
    # One per required signer: when their signature began to count, or None. A staff-recorded
    # signature that still awaits a second staff member's confirmation (where a deployment
    # requires one) is None here: ``disclosure.facts.counts_from`` decides, for every read path.
    signed_at: tuple[datetime | None, ...]
    youth_signed_at: datetime | None
    youth_adult_at: datetime
    withdrawn_at: datetime | None = None
    # How many signatures are recorded but do not count yet, for want of that confirmation:
    # for pages to say so. It decides nothing.
    unconfirmed: int = 0
    # Signers needed from a moment on (not in ``signed_at``): each suspends the consent from
    # then until their signature counts.
    later: tuple[LaterSigner, ...] = ()

    @property
    def basis(self) -> str:
        return f"consent:{self.consent_id}"

    @property
    def complete_at(self) -> datetime | None:
        """When the last required signature came in; None while one is missing."""
        if not self.signed_at or any(at is None for at in self.signed_at):
            return None
        return max(at for at in self.signed_at if at is not None)

    @property
    def ends_at(self) -> datetime:
        end = self.valid_until
        if self.withdrawn_at is not None:
            end = min(end, self.withdrawn_at)
        if self.youth_signed_at is None:
            end = min(end, self.youth_adult_at)
        return end

    def active_interval(self) -> tuple[datetime, datetime] | None:
        complete = self.complete_at
        if complete is None:
            return None
        start = max(self.valid_from, complete)
        end = self.ends_at
        return (start, end) if start < end else None

    def covering_intervals(self) -> list[tuple[datetime, datetime]]:
        """The active interval less every later signer's gap: when the consent covers."""
        interval = self.active_interval()
        if interval is None:
            return []
        pieces = [interval]
        for signer in self.later:
            gap = signer.gap()
            if gap is None:
                continue
            gap_start, gap_end = gap
            cut: list[tuple[datetime, datetime]] = []
            for start, end in pieces:
                if gap_start > start:
                    cut.append((start, min(end, gap_start)))
                if gap_end is not None and gap_end < end:
                    cut.append((max(start, gap_end), end))
            pieces = [(start, end) for start, end in cut if start < end]
        return pieces

    def awaiting_at(self, at: datetime) -> tuple[LaterSigner, ...]:
        """The later signers whose signature is missing at ``at``."""
        return tuple(signer for signer in self.later if signer.missing_at(at))


def state_at(facts: ConsentFacts, at: datetime) -> State:
    if facts.withdrawn_at is not None and facts.withdrawn_at <= at:
        return State.WITHDRAWN
    if at >= facts.valid_until:
        return State.EXPIRED
    if facts.youth_signed_at is None and at >= facts.youth_adult_at:
        return State.EXPIRED
    interval = facts.active_interval()
    if interval is not None and interval[0] <= at < interval[1]:
        if facts.awaiting_at(at):
            return State.AWAITING_COSIGNATURE
        return State.ACTIVE
    return State.PENDING


def grants_of(facts: ConsentFacts) -> Iterator[Grant]:
    """Every agency named may share with every other, in the consent's categories, for as long
    as the consent is active: one grant per pair and covering interval, so a gap for a later
    signer's missing signature (rule 18) is a gap in every reader's view. Identity crosses with
    it: a consent names the youth."""
    for start, end in facts.covering_intervals():
        for from_id, to_id in permutations(sorted(facts.agency_ids), 2):
            yield Grant(
                from_agency_id=from_id,
                to_agency_id=to_id,
                valid_from=start,
                valid_until=end,
                basis=facts.basis,
                category_ids=facts.category_ids,
                covers_identity=True,
            )


def all_grants(consents: Iterable[ConsentFacts]) -> list[Grant]:
    return [grant for facts in consents for grant in grants_of(facts)]


@dataclass(frozen=True)
class Decision:
    allowed: bool
    basis: str = ""
    # The viewer's agency the information crossed to, when it crossed (not for own agency).
    to_agency_id: int | None = None

    def __bool__(self) -> bool:
        return self.allowed


DENIED = Decision(False)


def entry_decision(
    viewer: Viewer,
    *,
    entry_id: int,
    entry_agency_id: int,
    category_id: int,
    at: datetime,
    grants: Iterable[Grant] = (),
) -> Decision:
    if entry_agency_id in viewer.agency_ids:
        return Decision(True, BASIS_OWN_AGENCY)
    for grant in grants:
        if (
            grant.from_agency_id == entry_agency_id
            and grant.to_agency_id in viewer.agency_ids
            and grant.valid_from <= at < grant.valid_until
            and (grant.category_ids is None or category_id in grant.category_ids)
            and (grant.entry_id is None or grant.entry_id == entry_id)
        ):
            return Decision(True, grant.basis, grant.to_agency_id)
    return DENIED


def identity_decision(
    viewer: Viewer,
    *,
    raising_agency_id: int,
    at: datetime,
    grants: Iterable[Grant] = (),
) -> Decision:
    if raising_agency_id in viewer.agency_ids:
        return Decision(True, BASIS_OWN_AGENCY)
    for grant in grants:
        if (
            grant.covers_identity
            and grant.from_agency_id == raising_agency_id
            and grant.to_agency_id in viewer.agency_ids
            and grant.valid_from <= at < grant.valid_until
        ):
            return Decision(True, grant.basis, grant.to_agency_id)
    return DENIED


def identity_shared_with_team(
    *,
    team_agency_ids: Iterable[int],
    raising_agency_id: int,
    at: datetime,
    grants: Iterable[Grant] = (),
) -> bool:
    """True only when every agency on the team may see who the youth is.

    Free text in a case where that is not so is screened for identity numbers and names
    (DESIGN rule 6), because any team member may read it.
    """
    grant_list = list(grants)
    return all(
        identity_decision(
            Viewer(user_id=0, agency_ids=frozenset({agency_id})),
            raising_agency_id=raising_agency_id,
            at=at,
            grants=grant_list,
        ).allowed
        for agency_id in team_agency_ids
    )


BASIS_RAISING_AGENCY = "raising_agency"


def content_decision(
    agency_ids: Iterable[int],
    *,
    raising_agency_id: int,
    at: datetime,
    grants: Iterable[Grant] = (),
) -> Decision:
    """Whether any of these agencies may read a case's content (DESIGN rule 16).

    Content is the reason, the factors, the plan, and the minutes and decisions of the meetings
    that discussed the case; before it is covered an agency sees only the pseudonym, the status
    and meeting times. An agency is covered when it raised the case, or when a grant from the
    raising agency to it holds at ``at``: an active consent naming both (whatever categories),
    or a statutory disclosure the raising agency recorded to it on this case (not recalled once
    made). The content is the raising agency's account of the youth, so, as for any entry
    (rule 1), a consent between two other agencies does not carry it. The journal keeps its own
    per-entry decision (``entry_decision``).

    Pure, and fed afresh on every request by the selectors, so a withdrawal counts from the next
    request after it commits.
    """
    ids = frozenset(agency_ids)
    if raising_agency_id in ids:
        return Decision(True, BASIS_RAISING_AGENCY)
    for grant in grants:
        if (
            grant.from_agency_id == raising_agency_id
            and grant.to_agency_id in ids
            and grant.valid_from <= at < grant.valid_until
        ):
            return Decision(True, grant.basis, grant.to_agency_id)
    return DENIED


def content_covered_agencies(
    agency_ids: Iterable[int],
    *,
    raising_agency_id: int,
    at: datetime,
    grants: Iterable[Grant] = (),
) -> frozenset[int]:
    """Which of these agencies ``content_decision`` lets read the case's content."""
    grant_list = list(grants)
    return frozenset(
        agency_id
        for agency_id in agency_ids
        if content_decision(
            (agency_id,), raising_agency_id=raising_agency_id, at=at, grants=grant_list
        )
    )


def discussion_is_anonymous(
    group_agency_ids: Iterable[int],
    *,
    raising_agency_id: int,
    at: datetime,
    grants: Iterable[Grant] = (),
) -> bool:
    """Whether a group meeting can discuss the youth only anonymously (rule 16): no agency that
    sits in the group, other than the one that raised the case, is covered. Such a discussion
    is recorded as having taken place, without minutes or decisions."""
    others = set(group_agency_ids) - {raising_agency_id}
    return not content_covered_agencies(
        others, raising_agency_id=raising_agency_id, at=at, grants=grants
    )


def may_leave_awaiting_consent(
    *,
    team_agency_ids: Iterable[int],
    raising_agency_id: int,
    consents: Iterable[ConsentFacts],
    at: datetime,
) -> bool:
    """The lifecycle gate of rule 16: a case whose team holds an agency besides the raising one
    goes on from "awaiting consent" (to mapping) only while one of its consents that names the
    raising agency is active. A statutory disclosure does not open it: it discloses one entry,
    it is not the family's agreement to work together. A case the raising agency works alone
    may proceed."""
    if not set(team_agency_ids) - {raising_agency_id}:
        return True
    return any(
        raising_agency_id in c.agency_ids and state_at(c, at) is State.ACTIVE for c in consents
    )


class DenialReason(enum.StrEnum):
    NO_CONSENT = "no_consent"  # no consent names both agencies
    CATEGORY = "category"  # a consent names both agencies, but not this category
    PENDING = "pending"  # a consent would cover it, but a signature is missing
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


def denial_reason(
    viewer: Viewer,
    *,
    entry_agency_id: int,
    category_id: int,
    at: datetime,
    consents: Sequence[ConsentFacts],
) -> DenialReason:
    """Why an entry the policy refused is withheld: the most hopeful reason first, so a page
    says "waiting for a signature" rather than "no consent" when one is on its way."""
    pair = [
        c
        for c in consents
        if entry_agency_id in c.agency_ids and viewer.agency_ids & c.agency_ids - {entry_agency_id}
    ]
    covering = [c for c in pair if category_id in c.category_ids]
    states = {state_at(c, at) for c in covering}
    for state, reason in (
        (State.PENDING, DenialReason.PENDING),
        # Waiting for a signature too: that of a signer the consent came to need.
        (State.AWAITING_COSIGNATURE, DenialReason.PENDING),
        (State.WITHDRAWN, DenialReason.WITHDRAWN),
        (State.EXPIRED, DenialReason.EXPIRED),
    ):
        if state in states:
            return reason
    if pair:
        return DenialReason.CATEGORY
    return DenialReason.NO_CONSENT
