"""Facts built directly, for the dashboard's tests: fast, and any shape a test needs."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils import timezone

from samverkan.organisations.models import Municipality
from samverkan.stats.models import CaseFact


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
