"""Facts built directly, for the dashboard's tests: fast, and any shape a test needs."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils import timezone

from samverkan.organisations.models import Municipality
from samverkan.stats.models import CaseFact

THIS_MONTH = timezone.localdate().replace(day=1)


def fact(municipality: Municipality, **fields: Any) -> CaseFact:
    values: dict[str, Any] = {
        "municipality": municipality,
        "raising_sector": "school",
        "age_band": "13_15",
        "gender": "F",
        "raised_month": THIS_MONTH,
        "refreshed_at": timezone.now(),
    }
    values.update(fields)
    return CaseFact(**values)


def make_facts(municipality: Municipality, count: int, **fields: Any) -> list[CaseFact]:
    return CaseFact.objects.bulk_create([fact(municipality, **fields) for _ in range(count)])


def month(day: date) -> str:
    return day.strftime("%Y-%m")
