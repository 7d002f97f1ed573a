"""The demo's Avesta promise and its successor (promises.demo.load)."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import timezone

from samverkan.indicators.demo import promise_year
from samverkan.organisations.models import Role
from samverkan.promises import demo, selectors
from tests.helpers import make_user


def test_demo_loads_the_avesta_promise_and_its_successor(world, personas):
    kommunpolis = make_user("kp-demo", world.police, Role.AGREEMENT_EDITOR)
    loaded = demo.load(
        avesta=world.avesta_school.municipality,
        police_area=world.police.police_area,
        editor=personas.agreement_editor,
    )
    promise = selectors.promise_public_detail(loaded.promise.pk)
    a = promise.agreement
    assert (a.kind, a.status, a.published) == ("promise", "assessed", True)
    # The article's dates, moved with today (issue 19): 2019-03-22 to 2020-12-31 in 2026.
    year = promise_year()
    assert year == timezone.localdate().year - 7
    assert (a.period_start, a.period_end) == (date(year, 3, 22), date(year + 1, 12, 31))
    assert a.focus_area == "Narkotikaanvändning bland unga"
    assert {(s.title, s.signed_on) for s in promise.signatories} == {
        ("Lokalpolisområdeschef", date(year, 3, 22)),
        ("Kommunalråd", date(year, 3, 22)),
    }
    assert promise.fulfilment == "fulfilled"
    # Each party speaks through its own agency and recorded its own assessment.
    assert {
        (r.party.kind, r.party.agency_id, r.assessment.recorded_by_id)
        for r in promise.parties
        if r.assessment
    } == {
        ("municipality", world.avesta_other.pk, personas.agreement_editor.pk),
        ("police", world.police.pk, kommunpolis.pk),
    }
    assert any(
        "samverkansgrupp mellan socialtjänst, skola och polis" in r.commitment.text
        for r in promise.commitments
    )
    assert [s.pk for s in promise.successors] == [loaded.successor.pk]
    assert [o.pk for o in promise.overlaps] == [loaded.successor.pk]

    successor = selectors.promise_public_detail(loaded.successor.pk)
    s = successor.agreement
    assert (s.kind, s.status, s.published) == ("cooperation", "active", True)
    assert successor.predecessor is not None
    assert successor.predecessor.pk == a.pk
    assert {g.heading for g in successor.groups} == {
        "The police promise",
        "The municipality promises",
        "Joint",
    }
    assert s.period_start < a.period_end  # overlapping, as the article says
    council = selectors.active_agreements(viewer=personas.council_member)
    assert [d.agreement.pk for d in council] == [s.pk]


def test_demo_needs_someone_to_speak_for_the_police(world, personas):
    with pytest.raises(ValueError, match="agency of the police area"):
        demo.load(
            avesta=world.avesta_school.municipality,
            police_area=world.police.police_area,
            editor=personas.agreement_editor,
        )
