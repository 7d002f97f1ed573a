"""The one place that decides what a viewer may see of a case: entries and identity.

Pure functions over plain facts, so they can be tested exhaustively and cannot be skipped by a
code path that forgets a check: every selector in ``cases.selectors`` asks them, and pages, API,
exports and PDFs read only through those selectors.

Until the consent issue lands the policy is *closed by default*: a team member sees the entries
of the agencies they sit on the team for, and the youth's identity only if they sit for the
agency that raised the case. Consent and statutory disclosure arrive as ``Grant``s: the caller
supplies them, the decision stays here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

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


@dataclass(frozen=True)
class Decision:
    allowed: bool
    basis: str = ""

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
            return Decision(True, grant.basis)
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
            return Decision(True, grant.basis)
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
