from __future__ import annotations

from decimal import Decimal

import pytest

from samverkan.indicators.models import Direction, Indicator, IndicatorValue
from samverkan.indicators.services import indicator_create
from tests.conftest import Personas, World


@pytest.fixture
def index_series(world: World, personas: Personas) -> Indicator:
    """Avesta's (unpublished) problem index, 0–6, lower is better, with two values."""
    indicator = indicator_create(
        actor=personas.agreement_editor,
        municipality=world.avesta_school.municipality,  # type: ignore[arg-type]
        name="Problem index: drug dealing",
        area="Avesta centrum",
        unit="index 0–6",
        source="Police safety survey",
        direction=Direction.LOWER_IS_BETTER,
        min_value=Decimal(0),
        max_value=Decimal(6),
    )
    IndicatorValue.objects.create(
        indicator=indicator, period_start="2018-01-01", period_label="2018", value="2.9"
    )
    IndicatorValue.objects.create(
        indicator=indicator, period_start="2019-01-01", period_label="2019", value="2.7"
    )
    return indicator
