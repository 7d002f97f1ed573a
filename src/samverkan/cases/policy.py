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

A consent is active from the moment its last required signature is in (and not before
``valid_from``) until the first of: ``valid_until``, a withdrawal, or — where the youth did not
sign it — the youth's 18th birthday, because from then on the youth alone disposes of their
secrecy.
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
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class ConsentFacts:
    consent_id: int
    agency_ids: frozenset[int]
    category_ids: frozenset[int]
    valid_from: datetime
    valid_until: datetime
    # One per required signer: when their signature began to count, or None. A staff-recorded
    # signature that still awaits a second staff member's confirmation (where a deployment
    # requires one) is None here: ``consent.facts.counts_from`` decides, for every read path.
    signed_at: tuple[datetime | None, ...]
    youth_signed_at: datetime | None
    youth_adult_at: datetime
    withdrawn_at: datetime | None = None
    # How many signatures are recorded but do not count yet, for want of that confirmation:
    # for pages to say so. It decides nothing.
    unconfirmed: int = 0

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


def state_at(facts: ConsentFacts, at: datetime) -> State:
    if facts.withdrawn_at is not None and facts.withdrawn_at <= at:
        return State.WITHDRAWN
    if at >= facts.valid_until:
        return State.EXPIRED
    if facts.youth_signed_at is None and at >= facts.youth_adult_at:
        return State.EXPIRED
    interval = facts.active_interval()
    if interval is not None and interval[0] <= at < interval[1]:
        return State.ACTIVE
    return State.PENDING


def grants_of(facts: ConsentFacts) -> Iterator[Grant]:
    """Every agency named may share with every other, in the consent's categories, for as long
    as the consent is active. Identity crosses with it: a consent names the youth."""
    interval = facts.active_interval()
    if interval is None:
        return
    for from_id, to_id in permutations(sorted(facts.agency_ids), 2):
        yield Grant(
            from_agency_id=from_id,
            to_agency_id=to_id,
            valid_from=interval[0],
            valid_until=interval[1],
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
        (State.WITHDRAWN, DenialReason.WITHDRAWN),
        (State.EXPIRED, DenialReason.EXPIRED),
    ):
        if state in states:
            return reason
    if pair:
        return DenialReason.CATEGORY
    return DenialReason.NO_CONSENT
