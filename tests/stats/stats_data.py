"""Facts built directly, for the dashboard's tests: fast, and any shape a test needs."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils import timezone

from samverkan.organisations.models import Municipality
from samverkan.stats.models import CaseFact
from samverkan.stats.selectors import Dashboard, dashboard_data
from samverkan.stats.tables import Table


def this_month() -> date:
    """The first day of the current month, read when called: a constant fixed at import would
    go stale when a test run crosses midnight at the turn of a month (or of a year)."""
    return timezone.localdate().replace(day=1)


def this_year() -> int:
    return timezone.localdate().year


def fact(municipality: Municipality, **fields: Any) -> CaseFact:
    values: dict[str, Any] = {
        "municipality": municipality,
        "raising_sector": "school",
        "age_band": "13_15",
        "gender": "F",
        "raised_month": this_month(),
    }
    values.update(fields)
    return CaseFact(**values)


def make_facts(municipality: Municipality, count: int, **fields: Any) -> list[CaseFact]:
    return CaseFact.objects.bulk_create([fact(municipality, **fields) for _ in range(count)])


def avesta() -> Municipality:
    return Municipality.objects.get(code="2084")


def council_dashboard(personas: Any) -> Dashboard:
    """Avesta's dashboard for this year, as the council member reads it."""
    return dashboard_data(
        viewer=personas.council_member, municipality_id=avesta().pk, year=this_year()
    )


def table(data: Dashboard, key: str) -> Table:
    found = data.table(key)
    assert found is not None, key
    return found


def value(data: Dashboard, key: str, row: int, column: int) -> int | float | None:
    return table(data, key).rows[row].cells[column].value
