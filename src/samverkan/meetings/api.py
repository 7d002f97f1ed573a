"""The meetings part of the HTTP API (/api/v1/meetings). Same selectors and rules as the pages."""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError

from samverkan.api.auth import require_scope
from samverkan.api.conventions import ErrorOut, FieldErrorsOut, caller
from samverkan.api.models import Scope
from samverkan.api.schemas import JsonIn
from samverkan.meetings import rules, selectors, services
from samverkan.meetings.models import Meeting

router = Router(tags=["meetings"])


class MeetingOut(Schema):
    id: int
    uid: UUID
    group_id: int
    group: str
    starts_at: datetime
    ends_at: datetime
    location: str
    agenda_items: int


class ActionOut(Schema):
    id: int
    text: str
    responsible_agency_id: int
    responsible_agency: str
    responsible_user_id: int | None
    due_date: date
    status: str


class AgendaItemOut(Schema):
    id: int
    order: int
    case_id: int
    pseudonym: str = Field(description="The case appears at meetings only by pseudonym.")
    content_withheld: bool = Field(
        description="True while no consent or recorded statutory disclosure covers the caller's "
        "agencies for the case (DESIGN rule 16): minutes are then empty and actions left out."
    )
    discussed_anonymously: bool = Field(
        description="The youth was discussed without a consent covering the group: only that "
        "is recorded, never minutes or decisions."
    )
    minutes: str
    actions: list[ActionOut]


class AttendanceOut(Schema):
    user_id: int
    agency_id: int
    present: bool | None = Field(description="null: invited, not yet recorded.")


class MeetingDetailOut(MeetingOut):
    agenda: list[AgendaItemOut]
    attendance: list[AttendanceOut]


class MeetingIn(JsonIn):
    group_id: int
    starts_at: datetime = Field(description="ISO 8601; without an offset, Swedish local time.")
    ends_at: datetime
    location: str = Field(max_length=200, description="A room or an address, never a name.")


def _aware(moment: datetime, field: str) -> datetime:
    """The moment in UTC. ISO 8601 allows offsets to ±23:59, PostgreSQL stores ±15:59."""
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # the first or last hours of the calendar, moved past its ends
        raise ValidationError({field: [_("Enter a time between the years 1 and 9999.")]}) from None


def _meeting_out(meeting: Meeting, agenda_items: int) -> MeetingOut:
    return MeetingOut(
        id=meeting.pk,
        uid=meeting.uid,
        group_id=meeting.group_id,
        group=meeting.group.name,
        starts_at=meeting.starts_at,
        ends_at=meeting.ends_at,
        location=meeting.location,
        agenda_items=agenda_items,
    )


@router.get("", response=list[MeetingOut], summary="Meetings of the caller's groups")
def meeting_list(request: HttpRequest) -> list[MeetingOut]:
    meetings = selectors.meetings_visible(viewer=caller(request))
    return [_meeting_out(m, m.agenda_size) for m in meetings]  # type: ignore[attr-defined]


@router.post(
    "",
    response={
        201: MeetingOut,
        400: FieldErrorsOut,
        403: ErrorOut,
        404: ErrorOut,
    },
    summary="Schedule a meeting (the group's coordinator; needs the write scope)",
)
def meeting_create(request: HttpRequest, payload: MeetingIn) -> Status[MeetingOut]:
    user = caller(request)
    group = selectors.group_for_member(viewer=user, pk=payload.group_id)
    require_scope(request, Scope.WRITE)
    if not rules.can_schedule(user, group):
        raise HttpError(403, "Only the group's coordinator schedules its meetings.")
    meeting = services.meeting_schedule(
        actor=user,
        group=group,
        starts_at=_aware(payload.starts_at, "starts_at"),
        ends_at=_aware(payload.ends_at, "ends_at"),
        location=payload.location,
    )
    return Status(201, _meeting_out(meeting, 0))


@router.get(
    "/{meeting_id}",
    response={200: MeetingDetailOut, 404: ErrorOut},
    summary="A meeting with its agenda (cases by pseudonym), minutes, decisions and attendance",
)
def meeting_detail(request: HttpRequest, meeting_id: int) -> MeetingDetailOut:
    view = selectors.meeting_open(viewer=caller(request), pk=meeting_id)
    base = _meeting_out(view.meeting, len(view.agenda))
    return MeetingDetailOut(
        **base.model_dump(),
        agenda=[
            AgendaItemOut(
                id=row.item.pk,
                order=row.item.order,
                case_id=row.item.case_id,
                pseudonym=row.pseudonym,
                content_withheld=not row.content,
                discussed_anonymously=row.discussed_anonymously,
                minutes=row.minutes,
                actions=[
                    ActionOut(
                        id=a.action.pk,
                        text=a.text,
                        responsible_agency_id=a.action.responsible_agency_id,
                        responsible_agency=a.action.responsible_agency.name,
                        responsible_user_id=a.action.responsible_user_id,
                        due_date=a.action.due_date,
                        status=a.action.status,
                    )
                    for a in row.actions
                ],
            )
            for row in view.agenda
        ],
        attendance=[
            AttendanceOut(user_id=a.user_id, agency_id=a.agency_id, present=a.present)
            for a in view.attendance
        ],
    )
