"""A meeting of SSPF Avesta with the fixture case on its agenda."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from samverkan.cases.models import Case
from samverkan.cases.services import case_raise
from samverkan.meetings.models import AgendaItem, Meeting
from samverkan.meetings.services import agenda_item_add, meeting_schedule
from tests.cases.conftest import CaseWorld, case_world  # noqa: F401 - a fixture, re-exported
from tests.rule16 import consent_covering

LOCATION = "Stadshuset, rum 3; plan 2"


def with_check_digit(nine: str) -> str:
    """A 10-digit personnummer with its Luhn check digit (fictional numbers for tests)."""
    total = 0
    for i, ch in enumerate(nine):
        product = int(ch) * (2 if i % 2 == 0 else 1)
        total += product // 10 + product % 10
    return nine + str((10 - total % 10) % 10)


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A time in Swedish local time, ``day`` days from today."""
    base = timezone.localdate() + timedelta(days=day)
    return datetime(
        base.year, base.month, base.day, hour, minute, tzinfo=timezone.get_current_timezone()
    )


def raise_cases(personas, world, count: int, *, first: int = 1) -> list[Case]:
    """More cases in SSPF Avesta, raised by the school (fictional youths born in 2012)."""
    cases = []
    for n in range(first, first + count):
        number = with_check_digit(f"1205{n:02d}{n:03d}")
        cases.append(
            case_raise(
                actor=personas.practitioner,
                group=world.avesta_group,
                agency=world.avesta_school,
                identity_number=number,
                name=f"Ungdom Nummer{n}",
                gender="",
                reason="Oro för närvaron.",
            ).case
        )
    return cases


@dataclass
class MeetingWorld:
    meeting: Meeting
    item: AgendaItem
    case: Case


@pytest.fixture
def meeting_world(personas, world, case_world: CaseWorld) -> MeetingWorld:  # noqa: F811
    meeting = meeting_schedule(
        actor=personas.coordinator,
        group=world.avesta_group,
        starts_at=local(7, 9),
        ends_at=local(7, 10, 30),
        location=LOCATION,
    )
    item = agenda_item_add(actor=personas.coordinator, meeting=meeting, case=case_world.case)
    # Rule 16: the group records minutes and decisions only under a consent covering it. Tests
    # of the anonymous case use ``tests/cases/test_rule16_content_before_consent.py``.
    consent_covering(
        case_world.case,
        [world.avesta_school, world.avesta_social, world.police],
        actor=personas.practitioner,
    )
    return MeetingWorld(meeting=meeting, item=item, case=case_world.case)
