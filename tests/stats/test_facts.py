from __future__ import annotations

from datetime import date

import pytest

from samverkan.cases.models import Case
from samverkan.stats.facts import age_band, facts_refresh
from samverkan.stats.models import AgeBand, CaseFact

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("birth", "on", "band"),
    [
        (date(2012, 3, 15), date(2025, 3, 14), AgeBand.UNDER_13),
        (date(2012, 3, 15), date(2025, 3, 15), AgeBand.FROM_13_TO_15),
        (date(2010, 3, 15), date(2026, 3, 15), AgeBand.FROM_16_TO_17),
        (date(2008, 3, 15), date(2026, 3, 15), AgeBand.ADULT),
    ],
)
def test_age_band_turns_on_the_birthday(birth: date, on: date, band: AgeBand) -> None:
    assert age_band(birth, on) == band


def test_refresh_builds_one_fact_per_case_and_replaces_it(active_consent) -> None:
    case = Case.objects.get(pk=active_consent.case_id)
    assert facts_refresh() == Case.objects.count()
    fact = CaseFact.objects.get(case=case)
    assert fact.consents_obtained == 1
    assert fact.days_to_consent is not None
    assert fact.raised_month.day == 1
    facts_refresh(case_ids=[case.pk])
    assert CaseFact.objects.filter(case=case).count() == 1
