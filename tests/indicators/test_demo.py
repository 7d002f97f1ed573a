from __future__ import annotations

from decimal import Decimal

from django.urls import reverse

from samverkan.indicators import demo
from samverkan.indicators.selectors import published_indicators
from tests.conftest import Personas, World


def test_demo_series_is_published_and_fictional(
    world: World, personas: Personas, client_for
) -> None:
    avesta = world.avesta_school.municipality
    assert avesta is not None
    indicator = demo.load(avesta=avesta, editor=personas.agreement_editor)
    assert list(published_indicators(municipality=avesta)) == [indicator]
    assert indicator.values.count() == 9
    # The years move with today (issue 19): the last value is five years after the promise.
    last = str(demo.promise_year() + 5)
    assert indicator.values.get(period_label=last).value == Decimal("1.9")
    assert "FIKTIVA" in indicator.description
    response = client_for(None).get(reverse("indicators:public_chart", args=[indicator.pk]))
    assert response.status_code == 200
