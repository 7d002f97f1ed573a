"""iCalendar (RFC 5545) invitations for meetings.

A calendar file leaves the system (mail clients, phones, shared calendars), so it carries only
the group's name, the time and the place: never a pseudonym, a name or the minutes.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.utils import timezone

from samverkan.meetings.models import Meeting

CRLF = "\r\n"
MAX_OCTETS = 75  # RFC 5545 §3.1: lines longer than this are folded


def escape_text(value: str) -> str:
    """A TEXT value (RFC 5545 §3.3.11): backslash, semicolon, comma and newlines escaped."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def fold(line: str) -> str:
    """Split a content line into lines of at most 75 octets, never inside a UTF-8 character;
    each continuation starts with a space, which counts towards its 75."""
    parts: list[str] = []
    current = ""
    size = 0
    limit = MAX_OCTETS
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            parts.append(current)
            current, size, limit = "", 0, MAX_OCTETS - 1
        current += char
        size += width
    parts.append(current)
    return (CRLF + " ").join(parts)


def utc_stamp(moment: datetime) -> str:
    if timezone.is_naive(moment):
        raise ValueError("calendar times must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def meeting_invitation(meeting: Meeting, *, summary: str, now: datetime | None = None) -> str:
    """The VCALENDAR text for one meeting, CRLF line endings throughout."""
    stamp = now or timezone.now()
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Samverkan//Meetings//SV",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{meeting.uid}@samverkan",
        f"DTSTAMP:{utc_stamp(stamp)}",
        f"DTSTART:{utc_stamp(meeting.starts_at)}",
        f"DTEND:{utc_stamp(meeting.ends_at)}",
        f"SUMMARY:{escape_text(summary)}",
        f"LOCATION:{escape_text(meeting.location)}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "".join(fold(line) + CRLF for line in lines)
