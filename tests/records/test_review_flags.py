"""The log review's filters and flags, through the selector (DESIGN rule 9)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction
from django.http import Http404
from django.test import override_settings

from samverkan.audit.models import AuditEvent, Outcome
from samverkan.audit.services import audit_record
from samverkan.cases.models import CaseTeamMember
from samverkan.cases.services import team_add, team_remove
from samverkan.records.log_rows import event_rows
from samverkan.records.review import LogFilters
from samverkan.records.selectors import log_search

STOCKHOLM = ZoneInfo("Europe/Stockholm")
# A Wednesday at least a week ahead, and that week's Saturday: every travelled event comes after
# the fixtures' own events, so the searches below see only what each test made.
_AHEAD = dt.datetime.now(tz=STOCKHOLM).date() + dt.timedelta(days=7)
WEDNESDAY = _AHEAD + dt.timedelta(days=(2 - _AHEAD.weekday()) % 7)
SATURDAY = WEDNESDAY + dt.timedelta(days=3)


def at(day: dt.date, hour: int, minute: int = 0) -> time_machine.travel:
    return time_machine.travel(
        dt.datetime.combine(day, dt.time(hour, minute), STOCKHOLM), tick=False
    )


def event(actor, *, case_id: int | None = None, **kwargs) -> AuditEvent:
    with transaction.atomic():
        return audit_record(
            action=kwargs.pop("action", "entry.viewed"),
            actor=actor,
            object_type="cases.entry",
            object_id="1",
            case_id=case_id,
            **kwargs,
        )


def flags(viewer, event_id: int, **filters) -> list[str]:
    filters.setdefault("date_from", WEDNESDAY)
    filters.setdefault("date_to", SATURDAY + dt.timedelta(days=7))
    events = list(log_search(viewer=viewer, filters=LogFilters(**filters)).events)
    (row,) = [r for r in event_rows(events) if r.event.pk == event_id]
    return [name for name, _label in row.flags]


def search(viewer, **filters) -> list[int]:
    filters.setdefault("date_from", WEDNESDAY)
    filters.setdefault("date_to", SATURDAY + dt.timedelta(days=7))
    return [e.pk for e in log_search(viewer=viewer, filters=LogFilters(**filters)).events]


def test_selector_refuses_everyone_but_auditors(personas):
    filters = LogFilters(date_from=WEDNESDAY, date_to=WEDNESDAY)
    for user in (personas.admin, personas.coordinator, personas.practitioner):
        with pytest.raises(Http404):
            log_search(viewer=user, filters=filters)


def test_statutory_and_denied(personas):
    with at(WEDNESDAY, 10):
        marked = event(personas.practitioner, case_id=1, details={"review": True})
        statute = event(personas.practitioner, case_id=1, legal_basis="statute:osl_10_28:4")
        consent = event(personas.practitioner, case_id=1, legal_basis="consent:4")
        denied = event(personas.practitioner, outcome=Outcome.DENIED)
    auditor = personas.auditor
    assert flags(auditor, marked.pk) == ["statutory"]
    assert flags(auditor, statute.pk) == ["statutory"]
    assert flags(auditor, consent.pk) == []
    assert flags(auditor, denied.pk) == ["denied"]


@pytest.mark.parametrize(
    ("day", "hour", "minute", "off"),
    [
        (WEDNESDAY, 6, 59, True),
        (WEDNESDAY, 7, 0, False),
        (WEDNESDAY, 18, 59, False),
        (WEDNESDAY, 19, 0, True),
        (WEDNESDAY, 23, 30, True),
        (SATURDAY, 12, 0, True),
        (SATURDAY + dt.timedelta(days=1), 10, 0, True),
    ],
)
def test_off_hours_are_local_time_and_weekends(personas, day, hour, minute, off):
    with at(day, hour, minute):
        seen = event(personas.practitioner)
    assert ("off_hours" in flags(personas.auditor, seen.pk)) is off


@override_settings(LOG_REVIEW_HOURS=(8, 17))
def test_working_hours_come_from_the_setting(personas):
    with at(WEDNESDAY, 7, 30):
        early = event(personas.practitioner)
    with at(WEDNESDAY, 17, 30):
        late = event(personas.practitioner)
    assert flags(personas.auditor, early.pk) == ["off_hours"]
    assert flags(personas.auditor, late.pk) == ["off_hours"]


def test_system_events_are_not_off_hours(personas):
    with at(WEDNESDAY, 2):
        job = event(None)
    assert flags(personas.auditor, job.pk) == []


@override_settings(LOG_REVIEW_DAILY_CASES=2)
def test_volume_counts_distinct_cases_per_local_day(personas):
    anna, bertil = personas.practitioner, personas.colleague
    with at(WEDNESDAY, 10):
        busy = [event(anna, case_id=case) for case in (101, 102, 103, 101)]
        busy.append(event(anna))  # no case: not a case access
        calm = [event(bertil, case_id=case) for case in (101, 102, 102)]
    # 23:30 and 00:30 local are the same UTC day in winter, but two local days.
    with at(WEDNESDAY + dt.timedelta(days=1), 23, 30):
        late = [event(bertil, case_id=case) for case in (201, 202)]
    with at(WEDNESDAY + dt.timedelta(days=2), 0, 30):
        next_day = event(bertil, case_id=203)
    auditor = personas.auditor
    assert [("volume" in flags(auditor, e.pk)) for e in busy] == [True, True, True, True, False]
    assert not any("volume" in flags(auditor, e.pk) for e in [*calm, *late, next_day])
    # Filtering down to one action does not hide the day's volume.
    assert "volume" in flags(auditor, busy[0].pk, action="entry.")


@override_settings(LOG_REVIEW_DAILY_CASES=2)
def test_volume_counts_the_whole_day_whatever_the_other_filters(personas):
    anna = personas.practitioner
    with at(WEDNESDAY, 10):
        viewed = event(anna, case_id=1)
        event(anna, case_id=2, action="plan.viewed")
        event(anna, case_id=3, action="meeting.viewed")
    assert "volume" in flags(personas.auditor, viewed.pk, action="entry.viewed")


def test_after_team(personas, world, consent_case):
    case = consent_case.case
    cecilia, coordinator = personas.other_agency, personas.coordinator
    seat = CaseTeamMember.objects.get(case=case, user=cecilia, removed_at__isnull=True)
    with at(WEDNESDAY, 8):
        # The coordinator sat on the team for a while too; she keeps her role afterwards.
        own_seat = team_add(
            actor=coordinator, case=case, user=coordinator, agency=world.avesta_social
        )
    with at(WEDNESDAY, 9):
        while_on_team = event(cecilia, case_id=case.pk)
    with at(WEDNESDAY, 10):
        team_remove(actor=coordinator, member=seat)
        team_remove(actor=coordinator, member=own_seat)
    with at(WEDNESDAY, 11):
        after = event(cecilia, case_id=case.pk)
        denied_after = event(cecilia, case_id=case.pk, outcome=Outcome.DENIED)
        other_case = event(cecilia, case_id=case.pk + 1000)
        never_on_team = event(personas.police, case_id=case.pk)
        by_coordinator = event(coordinator, case_id=case.pk)
        on_team = event(personas.practitioner, case_id=case.pk)
    with at(WEDNESDAY, 12):
        team_add(actor=coordinator, case=case, user=cecilia, agency=world.avesta_social)
    with at(WEDNESDAY, 13):
        back_on_team = event(cecilia, case_id=case.pk)
    auditor = personas.auditor
    assert flags(auditor, while_on_team.pk) == []
    assert flags(auditor, after.pk) == ["after_team"]
    # The gap stays flagged although she is back on the team now.
    assert flags(auditor, denied_after.pk) == ["denied", "after_team"]
    assert flags(auditor, other_case.pk) == []
    assert flags(auditor, never_on_team.pk) == []
    assert flags(auditor, by_coordinator.pk) == []
    assert flags(auditor, on_team.pk) == []
    assert flags(auditor, back_on_team.pk) == []


def test_flagged_only_and_counts(personas):
    with at(WEDNESDAY, 10):
        plain = event(personas.practitioner)
        denied = event(personas.practitioner, outcome=Outcome.DENIED)
        statutory = event(personas.practitioner, details={"review": True})
    with at(SATURDAY, 10):
        weekend_denied = event(personas.practitioner, outcome=Outcome.DENIED)
    auditor = personas.auditor
    window: dict[str, Any] = {"date_from": WEDNESDAY, "date_to": SATURDAY, "actor": "anna"}
    shown = search(auditor, flagged_only=True, **window)
    assert plain.pk not in shown
    assert shown == [weekend_denied.pk, statutory.pk, denied.pk]
    counts = log_search(viewer=auditor, filters=LogFilters(**window)).counts
    assert counts == {
        "total": 4,
        "flagged": 3,
        "statutory": 1,
        "denied": 2,
        "drafter": 0,
        "after_team": 0,
        "volume": 0,
        "off_hours": 1,
    }


def test_filters(personas, world, consent_case):
    case = consent_case.case
    pseudonym = case.youth.pseudonym
    with at(WEDNESDAY, 10):
        anna = event(personas.practitioner, case_id=case.pk, agency=world.avesta_school)
        bertil = event(personas.colleague, case_id=case.pk + 1, action="plan.viewed")
        denied = event(personas.police, outcome=Outcome.DENIED, agency=world.police)
        youth = audit_record(
            action="youth.searched",
            actor=personas.practitioner,
            object_type="cases.youth",
            object_id=str(case.youth_id),
        )
    with at(WEDNESDAY, 23, 30):
        late = event(personas.colleague)
    with at(WEDNESDAY + dt.timedelta(days=1), 0, 30):
        next_day = event(personas.colleague)
    auditor = personas.auditor
    assert search(auditor, actor="ANNA", date_from=WEDNESDAY, date_to=WEDNESDAY) == [
        youth.pk,
        anna.pk,
    ]
    assert search(auditor, agency_id=world.police.pk) == [denied.pk]
    assert search(auditor, action="plan.") == [bertil.pk]
    assert search(auditor, outcome=Outcome.DENIED) == [denied.pk]
    assert search(auditor, case=pseudonym.lower(), action="entry.") == [anna.pk]
    assert search(auditor, case=pseudonym, action="youth.") == [youth.pk]
    assert search(auditor, case="AVE-1999-0001") == []
    # Local days: 23:30 is still Wednesday, 00:30 is Thursday, though both are Wednesday UTC.
    wednesday = search(auditor, actor="bertil", date_from=WEDNESDAY, date_to=WEDNESDAY)
    assert late.pk in wednesday
    assert next_day.pk not in wednesday


@override_settings(LOG_REVIEW_DAILY_CASES=2)
def test_listings_and_the_records_apps_own_events_do_not_count_towards_volume(personas):
    eva = personas.coordinator
    with at(WEDNESDAY, 10):
        # The coordinator opens the group's index twice and her list of cases once: an event
        # per case shown, many cases, every day.
        listed = [
            event(eva, case_id=case, action=action)
            for action in ("case_index.viewed", "case_index.viewed", "case.listed")
            for case in (301, 302, 303, 304)
        ]
        agenda = [event(eva, case_id=c, action="meeting.agenda_item_viewed") for c in (305, 306)]
        opened = event(eva, case_id=301, action="case.viewed")
        # An auditor's export and holds touch many cases too.
        records = [
            event(personas.auditor, case_id=c, action="records.subject_exported")
            for c in (301, 302, 303)
        ]
    auditor = personas.auditor
    assert not any("volume" in flags(auditor, e.pk) for e in [*listed, *agenda, opened, *records])
    # Opening the cases themselves still counts.
    with at(WEDNESDAY, 11):
        opened_more = [event(eva, case_id=c, action="case.viewed") for c in (302, 303)]
    assert all("volume" in flags(auditor, e.pk) for e in [opened, *opened_more])
    assert not any("volume" in flags(auditor, e.pk) for e in listed)


def test_a_former_coordinator_is_judged_by_todays_seats(personas, world, consent_case):
    case = consent_case.case
    eva = personas.coordinator
    with at(WEDNESDAY, 8):
        own_seat = team_add(actor=eva, case=case, user=eva, agency=world.avesta_social)
    with at(WEDNESDAY, 9):
        team_remove(actor=eva, member=own_seat)
    with at(WEDNESDAY, 10):
        after_leaving = event(eva, case_id=case.pk)
    auditor = personas.auditor
    # While she is the group's coordinator, she sees the case by her role.
    assert flags(auditor, after_leaving.pk) == []
    # Her account is closed: the seat row remains, but no longer stands. Seat history is not
    # kept, so her events are judged by today's seats.
    eva.is_active = False
    eva.save(update_fields=["is_active"])
    assert flags(auditor, after_leaving.pk) == ["after_team"]
