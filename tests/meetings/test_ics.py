"""The calendar invitation: valid RFC 5545, and nothing about any case in it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from samverkan.meetings.ics import escape_text, fold, meeting_invitation
from samverkan.meetings.models import Meeting
from samverkan.meetings.services import action_create, meeting_schedule, minutes_record
from tests.cases.conftest import YOUTH_NAME
from tests.meetings.conftest import LOCATION, local

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def unfold(text: str) -> list[str]:
    """Content lines with folding undone (RFC 5545 §3.1)."""
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", ""), "bare LF"
    assert "\r" not in text.replace("\r\n", ""), "bare CR"
    return text[:-2].replace("\r\n ", "").split("\r\n")


def properties(lines: list[str]) -> dict[str, str]:
    return dict(line.split(":", 1) for line in lines if not line.startswith(("BEGIN", "END")))


def test_invitation_download(client_for, personas, world, meeting_world):
    item = meeting_world.item
    minutes_record(actor=personas.coordinator, item=item, minutes="Hemligt protokoll.")
    action_create(
        actor=personas.coordinator,
        item=item,
        text="Hemligt beslut.",
        responsible_agency=world.police,
        due_date=timezone.localdate() + timedelta(days=30),
    )
    response = client_for(personas.police).get(
        reverse("meetings:ics", args=[meeting_world.meeting.pk])
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment;")
    assert re.search(r'filename="meeting-\d{4}-\d{2}-\d{2}\.ics"', response["Content-Disposition"])
    text = response.content.decode("utf-8")

    for line in text.split("\r\n"):
        assert len(line.encode("utf-8")) <= 75
    lines = unfold(text)
    assert lines[0] == "BEGIN:VCALENDAR"
    assert lines[-1] == "END:VCALENDAR"
    assert [x for x in lines if x.startswith(("BEGIN", "END"))] == [
        "BEGIN:VCALENDAR",
        "BEGIN:VEVENT",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    props = properties(lines)
    meeting: Meeting = meeting_world.meeting
    assert props["VERSION"] == "2.0"
    assert props["PRODID"]
    assert props["UID"] == f"{meeting.uid}@samverkan"
    assert re.fullmatch(r"\d{8}T\d{6}Z", props["DTSTAMP"])
    assert props["DTSTART"] == meeting.starts_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    assert props["DTEND"] == meeting.ends_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    start = datetime.strptime(props["DTSTART"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert start == meeting.starts_at
    assert props["LOCATION"] == "Stadshuset\\, rum 3\\; plan 2"
    assert "SSPF Avesta" in props["SUMMARY"]

    # Calendar data leaves the system: no pseudonym, name, minutes or decision.
    for secret in (
        meeting_world.case.youth.pseudonym,
        YOUTH_NAME,
        "Kalle",
        "Hemligt",
        "AVE-",
    ):
        assert secret not in text


def test_times_are_converted_to_utc(personas, world):
    # 09:00 in Stockholm is 08:00Z in winter and 07:00Z in summer.
    winter = meeting_schedule(
        actor=personas.coordinator,
        group=world.avesta_group,
        starts_at=datetime(2027, 1, 12, 9, 0, tzinfo=STOCKHOLM),
        ends_at=datetime(2027, 1, 12, 10, 0, tzinfo=STOCKHOLM),
        location=LOCATION,
    )
    summer = meeting_schedule(
        actor=personas.coordinator,
        group=world.avesta_group,
        starts_at=datetime(2027, 6, 15, 9, 0, tzinfo=STOCKHOLM),
        ends_at=datetime(2027, 6, 15, 10, 0, tzinfo=STOCKHOLM),
        location=LOCATION,
    )
    assert "DTSTART:20270112T080000Z\r\n" in meeting_invitation(winter, summary="x")
    assert "DTSTART:20270615T070000Z\r\n" in meeting_invitation(summer, summary="x")


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("a,b", "a\\,b"),
        ("a;b", "a\\;b"),
        ("a\\b", "a\\\\b"),
        ("a\nb", "a\\nb"),
        ("a\r\nb", "a\\nb"),
        ("Rum: 3", "Rum: 3"),
    ],
)
def test_text_escaping(raw, escaped):
    assert escape_text(raw) == escaped


@pytest.mark.parametrize(
    "line", ["x" * 75, "x" * 76, "å" * 100, "LOCATION:" + "Ärlig väg 1, " * 20]
)
def test_folding_keeps_lines_short_and_characters_whole(line):
    folded = fold(line)
    parts = folded.split("\r\n")
    assert all(len(p.encode("utf-8")) <= 75 for p in parts)
    assert all(p.startswith(" ") for p in parts[1:])
    assert folded.replace("\r\n ", "") == line
    if len(line.encode()) <= 75:
        assert folded == line


def test_long_location_is_folded_in_the_download(client_for, personas, world, case_world):
    meeting = meeting_schedule(
        actor=personas.coordinator,
        group=world.avesta_group,
        starts_at=local(3, 9),
        ends_at=local(3, 10),
        location="Kommunhuset, Sessionssalen; ingång från Kungsgatan, våning två, höger om hissen",
    )
    text = client_for(personas.coordinator).get(reverse("meetings:ics", args=[meeting.pk])).content
    lines = text.decode().split("\r\n")
    assert any(line.startswith(" ") for line in lines)
    assert all(len(line.encode()) <= 75 for line in lines)
    assert properties(unfold(text.decode()))["LOCATION"].startswith(
        "Kommunhuset\\, Sessionssalen\\;"
    )
