"""Every cell of the dashboard counts cases, without margins that would count anything else,
and too few cases in the period show no case figures at all."""

from __future__ import annotations

import pytest

from samverkan.stats.models import InterventionFact
from tests.stats.stats_data import avesta, council_dashboard, make_facts, table, this_month

pytestmark = pytest.mark.django_db


def test_interventions_count_distinct_cases_without_margins(personas, world) -> None:
    facts = make_facts(avesta(), 6)
    InterventionFact.objects.bulk_create(
        InterventionFact(fact=f, kind="school_support", agency=world.avesta_school, sector="school")
        for f in facts
        for _ in range(2)  # two interventions of one type and sector: still one case
    )
    InterventionFact.objects.bulk_create(
        InterventionFact(fact=f, kind="family_support", agency=world.avesta_school, sector="school")
        for f in facts[:3]
    )
    interventions = table(council_dashboard(personas), "interventions")
    assert interventions.rows[0].cells[0].value == 6  # not 12
    assert interventions.rows[1].cells[0].value is None  # three cases: withheld
    assert not interventions.has_row_totals
    assert not interventions.has_column_totals
    assert not any(r.is_total for r in interventions.rows)
    assert "Total" not in interventions.columns


def test_goals_count_cases_by_how_many_goals_were_achieved(personas) -> None:
    make_facts(avesta(), 5, goals=3, goals_achieved=3)
    make_facts(avesta(), 6, goals=4, goals_achieved=1)
    make_facts(avesta(), 2, goals=2, goals_achieved=0)
    make_facts(avesta(), 5)  # no goals: in no row
    goals = table(council_dashboard(personas), "goals")
    assert goals.columns == ("Cases",)
    assert [r.cells[0].value for r in goals.rows] == [5, 6, None]
    assert not any(r.is_total for r in goals.rows)


def test_reports_of_concern_are_one_count_without_a_total(personas) -> None:
    make_facts(avesta(), 7, concern_reports=2)
    make_facts(avesta(), 3)
    concern = table(council_dashboard(personas), "concern")
    assert [(r.label, r.cells[0].value) for r in concern.rows] == [
        ("Cases with a report of concern", 7)
    ]


def test_outcomes_list_still_open_and_each_reason_with_cases_raised_as_total(personas) -> None:
    make_facts(avesta(), 9)
    make_facts(avesta(), 5, closed_month=this_month(), closure_reason="moved")
    outcomes = table(council_dashboard(personas), "outcomes")
    assert outcomes.rows[0].label == "Still open"
    assert outcomes.rows[0].cells[0].value == 9
    assert outcomes.rows[3].cells[0].value == 5  # moved away
    assert outcomes.rows[-1].is_total
    assert outcomes.rows[-1].cells[0].value == 14


def test_fewer_cases_than_the_threshold_show_no_case_figures(personas, client_for) -> None:
    make_facts(avesta(), 4)
    data = council_dashboard(personas)
    assert data.too_few
    assert [t.key for t in data.tables] == ["meetings"]
    page = client_for(personas.council_member).get("/stats/").content.decode()
    assert 'data-too-few="1"' in page
    assert "Fewer than 5 cases were raised in the period" in page
    assert 'data-stats-table="raised-sector-gender"' not in page
    assert 'data-suppressed="1"' not in page  # not a page of dashes
    make_facts(avesta(), 1)
    assert not council_dashboard(personas).too_few
