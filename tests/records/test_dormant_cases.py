"""Dormant cases (issue 19, legal gap 5): an open case with no activity for
``CASE_DORMANT_DAYS`` is flagged on its coordinator's case index and told once by e-mail."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from samverkan.audit.models import AuditEvent
from samverkan.cases.activity import dormant_cases
from samverkan.cases.models import Case, Status
from samverkan.cases.services import entry_add
from samverkan.meetings.services import agenda_item_add, meeting_schedule
from samverkan.plans.services import plan_create
from samverkan.records.models import DormancyNotice
from samverkan.records.services import dormancy_notify
from samverkan.records.tasks import dormant_cases_daily
from tests.consent.conftest import YOUTH_NAME
from tests.records.test_retention import _close, _raise, valid_number

pytestmark = pytest.mark.django_db

DAYS = 180


@pytest.fixture(autouse=True)
def dormant_days(settings):
    settings.CASE_DORMANT_DAYS = DAYS
    settings.BASE_URL = "https://samverkan.test"


def days_on(days: int, start: dt.datetime | None = None) -> time_machine.travel:
    return time_machine.travel((start or timezone.now()) + dt.timedelta(days=days), tick=False)


def quiet_ids(days: int) -> list[int]:
    with days_on(days):
        return list(dormant_cases(timezone.now()).values_list("pk", flat=True))


def test_flagged_after_the_period_not_before(consent_case) -> None:
    case = consent_case.case
    assert quiet_ids(DAYS - 1) == []
    assert quiet_ids(DAYS + 1) == [case.pk]
    with days_on(DAYS - 1):
        assert dormancy_notify() == 0
    assert mail.outbox == []


def test_a_closed_case_is_never_dormant(personas, consent_case) -> None:
    _close(personas, consent_case.case)
    assert quiet_ids(DAYS * 3) == []


def _entry(personas, cc) -> None:
    entry_add(
        actor=personas.practitioner,
        case=cc.case,
        agency=cc.case.raising_agency,
        category=cc.school_category,
        text="Eleven har varit närvarande hela veckan",
    )


def _plan(personas, cc) -> None:
    plan_create(actor=personas.practitioner, case=cc.case)


def _meeting(personas, cc) -> None:
    start = timezone.now() - dt.timedelta(hours=2)
    meeting = meeting_schedule(
        actor=personas.coordinator,
        group=cc.case.group,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        location="Kommunhuset",
    )
    agenda_item_add(actor=personas.coordinator, meeting=meeting, case=cc.case)


@pytest.mark.parametrize("activity", [_entry, _plan, _meeting], ids=["entry", "plan", "meeting"])
def test_activity_resets_the_clock(personas, world, consent_case, activity) -> None:
    start = timezone.now()
    with days_on(100, start):
        activity(personas, consent_case)
    # Quiet since the raising alone would flag it; the activity on day 100 keeps it off.
    assert quiet_ids(DAYS + 1) == []
    assert quiet_ids(100 + DAYS + 1) == [consent_case.case.pk]


def test_a_meeting_booked_ahead_keeps_the_case_off(personas, world, consent_case) -> None:
    with days_on(DAYS + 1):
        assert quiet_ids(0) == [consent_case.case.pk]
        start = timezone.now() + dt.timedelta(days=7)
        meeting = meeting_schedule(
            actor=personas.coordinator,
            group=consent_case.case.group,
            starts_at=start,
            ends_at=start + dt.timedelta(hours=1),
            location="Kommunhuset",
        )
        agenda_item_add(actor=personas.coordinator, meeting=meeting, case=consent_case.case)
        assert quiet_ids(0) == []


def test_the_coordinator_is_told_once_per_quiet_spell(personas, world, consent_case) -> None:
    case = consent_case.case
    with days_on(DAYS + 1):
        dormant_cases_daily.call()
        dormant_cases_daily.call()  # the next day's run, or a second worker
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [personas.coordinator.email]
    assert case.youth.pseudonym in message.body
    assert YOUTH_NAME not in message.body
    assert f"https://samverkan.test/cases/groups/{world.avesta_group.pk}/" in message.body or (
        reverse("cases:group_index", args=[world.avesta_group.pk]) in message.body
    )
    assert DormancyNotice.objects.filter(case=case).count() == 1
    event = AuditEvent.objects.get(action="records.dormancy_notified")
    assert event.case_id == case.pk

    # New activity, then a new quiet spell: told again, once.
    start = timezone.now()
    with days_on(DAYS + 10, start):
        _entry(personas, consent_case)
    with days_on(DAYS + 10 + DAYS + 1, start):
        assert dormancy_notify() == 1
        assert dormancy_notify() == 0
    assert len(mail.outbox) == 2
    assert DormancyNotice.objects.filter(case=case).count() == 2


def test_no_one_else_is_told(personas, world, consent_case) -> None:
    with days_on(DAYS + 1):
        dormancy_notify()
    recipients = {address for m in mail.outbox for address in m.to}
    assert recipients == {personas.coordinator.email}


def test_the_case_index_and_case_list_show_the_flag(client_for, personas, consent_case) -> None:
    case = consent_case.case
    with days_on(DAYS + 1):
        client = client_for(personas.coordinator)
        index = client.get(reverse("cases:group_index", args=[case.group_id]))
        listing = client.get(reverse("cases:list"))
    assert index.status_code == 200
    text = index.content.decode()
    assert "Cases with no activity" in text
    assert f"No activity since {timezone.localdate().isoformat()}" in text
    assert "1 case with no activity" in listing.content.decode()
    # Before the period: no flag.
    fresh = client_for(personas.coordinator).get(reverse("cases:group_index", args=[case.group_id]))
    assert "No activity since" not in fresh.content.decode()


def _queries_of_a_run(days: int) -> int:
    with days_on(days), CaptureQueriesContext(connection) as ctx:
        dormancy_notify()
    return len(ctx.captured_queries)


def test_the_queries_do_not_grow_with_the_cases(personas, world, consent_case) -> None:
    one = _queries_of_a_run(DAYS + 1)
    assert len(mail.outbox) == 1
    for i, name in enumerate(("Ada Andersson", "Bo Berg", "Cia Carlsson", "Dan Dahl")):
        case = _raise(personas, world, name=name, number=valid_number(f"2011010{i + 1}-1230"))
        entry_add(
            actor=personas.practitioner,
            case=case,
            agency=case.raising_agency,
            category=consent_case.school_category,
            text="Frånvaron har minskat",
        )
    many = _queries_of_a_run(DAYS + 1)
    assert DormancyNotice.objects.count() == 5
    assert many == one
    assert Case.objects.filter(status=Status.CLOSED).count() == 0
