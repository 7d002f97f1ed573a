"""The group's meetings every other Tuesday, their attendance, and the cases on their agendas."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from samverkan.meetings.models import Action, ActionStatus, AgendaItem, Attendance, Meeting
from samverkan.meetings.services import meeting_prepare
from samverkan.synth import words
from samverkan.synth.base import Builder, Chunk, day_of, local
from samverkan.synth.organisations import Town

if TYPE_CHECKING:
    from samverkan.synth.cases import CaseStory

LOCATION = "Kommunhuset, sammanträdesrum 2"


def meetings(b: Builder, town: Town) -> list[Meeting]:
    """Every other Tuesday 09:00–10:30 from the start, and the next one ahead."""
    day = b.start
    while day.weekday() != 1:
        day += timedelta(days=1)
    rows: list[Meeting] = []
    while True:
        starts = local(day, 9)
        rows.append(
            meeting_prepare(
                group=town.group,
                starts_at=starts,
                ends_at=starts + timedelta(hours=1, minutes=30),
                location=LOCATION,
                created_by=town.coordinator,
                created_at=local(day - timedelta(days=14), 10),
            )
        )
        if starts > b.now:
            return rows
        day += timedelta(days=14)


def town_meetings(b: Builder, chunk: Chunk, town: Town) -> list[Meeting]:
    """The town's meetings with everyone in the group invited, and attendance once held."""
    rows = meetings(b, town)
    for meeting in rows:
        chunk.add(meeting)
        b.audit.add(
            meeting.created_at,
            "meeting.scheduled",
            actor=town.coordinator.pk,
            obj=meeting,
            details={"group_id": town.group.pk},
        )
        held = meeting.ends_at <= b.now
        marks = [b.rng.random() < 0.9 if held else None for _ in town.seats]
        for (user, agency), present in zip(town.seats, marks, strict=True):
            chunk.add(Attendance(meeting=meeting, user=user, agency=agency, present=present))
        if held:
            b.audit.add(
                meeting.ends_at,
                "meeting.attendance_recorded",
                actor=town.coordinator.pk,
                obj=meeting,
                details={
                    "present": marks.count(True),
                    "absent": marks.count(False),
                    "changed": len(marks),
                },
            )
    return rows


def agenda(s: CaseStory) -> None:
    """On the agenda of the first meeting after raising, and now and then later on."""
    b, rng = s.b, s.rng
    until = s.until()
    moments = [s.raised + timedelta(days=2)]
    span = (until - s.raised).days
    moments += [s.raised + timedelta(days=rng.randint(14, max(15, span))) for _ in range(2)]
    seen: set[int] = set()
    coordinator = s.town.coordinator
    for moment in moments:
        meeting = next((m for m in s.meetings if m.starts_at >= moment), None)
        if meeting is None or id(meeting) in seen:
            continue
        added = min(meeting.starts_at - timedelta(days=2), b.now)
        if added > until or added < s.raised:
            continue
        seen.add(id(meeting))
        items = s.agenda[id(meeting)]
        item = AgendaItem(meeting=meeting, case=s.case, order=len(items) + 1)
        items.append(item)
        s.chunk.add(item)
        details = {"meeting_id": meeting}
        s.audit(added, "meeting.agenda_item_added", actor=coordinator.pk, obj=item, details=details)
        recorded = meeting.ends_at + timedelta(minutes=rng.randint(5, 600))
        if recorded > b.now or recorded > until:
            continue
        item.minutes = rng.choice(words.MINUTES)
        item.minutes_revision = 1
        item.minutes_recorded_at = recorded
        s.audit(
            recorded,
            "meeting.minutes_recorded",
            actor=coordinator.pk,
            obj=item,
            details={"meeting_id": meeting, "revision": 1},
        )
        if rng.random() < 0.35:
            _action(s, meeting, item, recorded)


def _action(s: CaseStory, meeting: Meeting, item: AgendaItem, recorded: datetime) -> None:
    """A decision on the item, for one of the team, done or cancelled once it is due."""
    b, rng, coordinator = s.b, s.rng, s.town.coordinator
    user, agency, _ = rng.choice(s.team)
    due = day_of(meeting.starts_at) + timedelta(days=rng.randint(7, 30))
    action = Action(
        agenda_item=item,
        responsible_agency=agency,
        responsible_user=user,
        due_date=due,
        created_by=coordinator,
        created_at=recorded,
    )
    action.text = rng.choice(words.ACTIONS)
    s.chunk.add(action)
    s.audit(
        recorded,
        "meeting.action_created",
        actor=coordinator.pk,
        agency=agency.pk,
        obj=action,
        details={"meeting_id": meeting, "responsible_user_id": user.pk},
    )
    if due < b.today:
        done_at = b.work_time(due)
        if done_at <= b.now:
            action.status = ActionStatus.DONE if rng.random() < 0.85 else ActionStatus.CANCELLED
            action.status_changed_at = done_at
            action.status_changed_by = user
            s.audit(
                done_at,
                "meeting.action_updated",
                actor=user.pk,
                agency=agency.pk,
                obj=action,
                details={"from": "open", "to": action.status},
            )
