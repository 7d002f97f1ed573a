"""The decision module, tested on plain facts: closed by default, grants open exactly as wide
as they say."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from samverkan.disclosure.policy import (
    BASIS_OWN_AGENCY,
    Grant,
    Viewer,
    entry_decision,
    identity_decision,
    identity_shared_with_team,
)

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)
SCHOOL, SOCIAL, POLICE = 1, 2, 3
viewer = Viewer(user_id=7, agency_ids=frozenset({SCHOOL}))


def grant(**kw: Any) -> Grant:
    base: dict[str, Any] = {
        "from_agency_id": POLICE,
        "to_agency_id": SCHOOL,
        "valid_from": NOW - timedelta(days=1),
        "valid_until": NOW + timedelta(days=1),
        "basis": "consent:12",
    }
    base.update(kw)
    return Grant(**base)


def test_own_agency_entries_are_visible():
    decision = entry_decision(viewer, entry_id=1, entry_agency_id=SCHOOL, category_id=5, at=NOW)
    assert decision.allowed
    assert decision.basis == BASIS_OWN_AGENCY


def test_other_agencies_entries_are_closed_by_default():
    assert not entry_decision(viewer, entry_id=1, entry_agency_id=POLICE, category_id=5, at=NOW)


def test_grant_opens_only_its_direction_categories_and_period():
    g = grant(category_ids=frozenset({5}))
    assert (
        entry_decision(
            viewer, entry_id=1, entry_agency_id=POLICE, category_id=5, at=NOW, grants=[g]
        ).basis
        == "consent:12"
    )
    assert not entry_decision(
        viewer, entry_id=1, entry_agency_id=POLICE, category_id=6, at=NOW, grants=[g]
    )
    assert not entry_decision(
        viewer, entry_id=1, entry_agency_id=SOCIAL, category_id=5, at=NOW, grants=[g]
    )
    assert not entry_decision(
        viewer,
        entry_id=1,
        entry_agency_id=POLICE,
        category_id=5,
        at=NOW + timedelta(days=2),
        grants=[g],
    )
    assert not entry_decision(
        viewer,
        entry_id=1,
        entry_agency_id=POLICE,
        category_id=5,
        at=NOW - timedelta(days=2),
        grants=[g],
    )
    reverse = grant(from_agency_id=SCHOOL, to_agency_id=POLICE)
    assert not entry_decision(
        viewer, entry_id=1, entry_agency_id=POLICE, category_id=5, at=NOW, grants=[reverse]
    )


def test_statutory_grant_covers_one_entry():
    g = grant(entry_id=9, basis="statutory:concern_report")
    assert entry_decision(
        viewer, entry_id=9, entry_agency_id=POLICE, category_id=5, at=NOW, grants=[g]
    )
    assert not entry_decision(
        viewer, entry_id=10, entry_agency_id=POLICE, category_id=5, at=NOW, grants=[g]
    )


def test_identity_only_for_the_raising_agency_unless_granted():
    assert identity_decision(viewer, raising_agency_id=SCHOOL, at=NOW)
    assert not identity_decision(viewer, raising_agency_id=POLICE, at=NOW)
    assert not identity_decision(viewer, raising_agency_id=POLICE, at=NOW, grants=[grant()])
    assert identity_decision(
        viewer, raising_agency_id=POLICE, at=NOW, grants=[grant(covers_identity=True)]
    )


def test_identity_is_shared_only_when_every_team_agency_may_see_it():
    assert identity_shared_with_team(team_agency_ids=[SCHOOL], raising_agency_id=SCHOOL, at=NOW)
    assert not identity_shared_with_team(
        team_agency_ids=[SCHOOL, SOCIAL], raising_agency_id=SCHOOL, at=NOW
    )
    g = grant(from_agency_id=SCHOOL, to_agency_id=SOCIAL, covers_identity=True)
    assert identity_shared_with_team(
        team_agency_ids=[SCHOOL, SOCIAL], raising_agency_id=SCHOOL, at=NOW, grants=[g]
    )
