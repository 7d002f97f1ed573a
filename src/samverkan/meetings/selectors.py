"""Every read of meetings for a user. A meeting the viewer may not see answers 404, exactly like
a missing one (DESIGN rule 7); what is shown of a case is its pseudonym, never the youth's
identity. Reads of minutes and action text are audited, one event per object with its case,
in a fixed number of queries whatever the number of rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from samverkan.accounts.models import User
from samverkan.audit.models import Outcome
from samverkan.audit.services import Subject, audit_record, audit_record_many
from samverkan.cases.models import Case
from samverkan.cases.models import Status as CaseStatus
from samverkan.disclosure.selectors import content_case_ids
from samverkan.meetings import rules
from samverkan.meetings.models import Action, ActionStatus, AgendaItem, Attendance, Meeting
from samverkan.meetings.rules import Seat
from samverkan.organisations.models import (
    CollaborationGroup,
    GroupMembership,
    GroupRole,
    Membership,
    Role,
)


def _groups_of(viewer: User) -> QuerySet[GroupMembership]:
    return GroupMembership.objects.filter(user_id=viewer.pk)


def meetings_visible(*, viewer: User) -> QuerySet[Meeting]:
    """The meetings of every group the viewer sits in, with the size of each agenda."""
    if not viewer.is_active:
        return Meeting.objects.none()
    return (
        Meeting.objects.filter(group_id__in=_groups_of(viewer).values("group_id"))
        .select_related("group", "group__municipality")
        .annotate(agenda_size=Count("agenda"))
        .order_by("starts_at", "pk")
    )


@dataclass
class MeetingListing:
    upcoming: list[Meeting]
    past: list[Meeting]
    schedulable: list[CollaborationGroup]


def meeting_list(*, viewer: User) -> MeetingListing:
    """Upcoming and past meetings of the viewer's groups; 404 for someone in no group."""
    if not rules.sits_in_any_group(viewer):
        raise Http404
    now = timezone.now()
    meetings = list(meetings_visible(viewer=viewer))
    return MeetingListing(
        upcoming=[m for m in meetings if m.ends_at >= now],
        past=[m for m in reversed(meetings) if m.ends_at < now],
        schedulable=groups_to_schedule(viewer=viewer),
    )


def groups_to_schedule(*, viewer: User) -> list[CollaborationGroup]:
    if not viewer.is_active:
        return []
    return list(
        CollaborationGroup.objects.filter(
            members__user_id=viewer.pk, members__role=GroupRole.COORDINATOR
        )
        .select_related("municipality")
        .distinct()
    )


def group_for_member(*, viewer: User, pk: int) -> CollaborationGroup:
    """A group the viewer sits in; 404 otherwise (the API schedules meetings through it)."""
    group = CollaborationGroup.objects.select_related("municipality").filter(pk=pk).first()
    if group is None or not rules.is_group_member(viewer, group):
        raise Http404
    return group


@dataclass
class MeetingAccess:
    """A meeting the viewer may see, and their place in its group."""

    meeting: Meeting
    seat: Seat

    @property
    def can_manage(self) -> bool:
        return self.seat.is_coordinator


def _meeting_queryset() -> QuerySet[Meeting]:
    return Meeting.objects.select_related("group", "group__municipality", "created_by")


def _access(viewer: User, meeting: Meeting | None) -> MeetingAccess:
    if meeting is None:
        raise Http404
    seat = rules.seat_in(viewer, meeting.group)
    if not seat.is_member:
        # Log review looks for attempts on meetings that exist.
        with transaction.atomic():
            audit_record(
                action="meeting.view_denied", actor=viewer, obj=meeting, outcome=Outcome.DENIED
            )
        raise Http404
    return MeetingAccess(meeting=meeting, seat=seat)


def meeting_get(*, viewer: User, pk: int) -> MeetingAccess:
    """The meeting itself (group, time, place) without its agenda: for changes and the
    calendar invitation. Nothing about a case is read, so nothing is audited as read."""
    return _access(viewer, _meeting_queryset().filter(pk=pk).first())


@dataclass
class ActionRow:
    action: Action
    pseudonym: str
    may_mark_done: bool = False

    @property
    def text(self) -> str:
        return self.action.text


@dataclass
class AgendaRow:
    """One case on the agenda. ``content`` False (rule 16: no consent or statutory disclosure
    covers the viewer's agencies for this case) leaves the pseudonym alone: no minutes and no
    decisions, not even that there are some."""

    item: AgendaItem
    pseudonym: str
    actions: list[ActionRow] = field(default_factory=list)
    content: bool = True

    @property
    def minutes(self) -> str:
        return self.item.minutes if self.content else ""

    @property
    def discussed_anonymously(self) -> bool:
        return self.item.discussed_anonymously_at is not None


@dataclass
class MeetingView(MeetingAccess):
    agenda: list[AgendaRow] = field(default_factory=list)
    attendance: list[Attendance] = field(default_factory=list)


def meeting_open(*, viewer: User, pk: int) -> MeetingView:
    """The meeting with its agenda (by pseudonym), attendance, minutes and actions."""
    meeting = (
        _meeting_queryset()
        .prefetch_related(
            Prefetch(
                "agenda",
                queryset=AgendaItem.objects.select_related("case", "case__youth").order_by(
                    "order", "pk"
                ),
            ),
            Prefetch(
                "agenda__actions",
                queryset=Action.objects.select_related(
                    "responsible_agency", "responsible_user", "status_changed_by"
                ).order_by("created_at", "pk"),
            ),
            Prefetch(
                "attendance",
                queryset=Attendance.objects.select_related("user", "agency"),
            ),
        )
        .filter(pk=pk)
        .first()
    )
    access = _access(viewer, meeting)
    seat = access.seat
    items = list(access.meeting.agenda.all())
    covered = content_case_ids([item.case for item in items], lambda _case: seat.agency_ids)
    agenda = [
        AgendaRow(
            item=item,
            pseudonym=item.case.youth.pseudonym,
            content=item.case_id in covered,
            actions=[
                ActionRow(
                    action=action,
                    pseudonym=item.case.youth.pseudonym,
                    may_mark_done=rules.seat_may_change_status(seat, action, ActionStatus.DONE),
                )
                for action in item.actions.all()
            ]
            if item.case_id in covered
            else [],
        )
        for item in items
    ]
    with transaction.atomic():
        audit_record(
            action="meeting.viewed",
            actor=viewer,
            obj=access.meeting,
            details={"group_id": access.meeting.group_id, "agenda_items": len(agenda)},
        )
        audit_record_many(
            action="meeting.minutes_viewed",
            actor=viewer,
            subjects=[_subject(row.item) for row in agenda if row.minutes],
        )
        audit_record_many(
            action="meeting.agenda_item_viewed",
            actor=viewer,
            subjects=[_subject(row.item) for row in agenda if not row.minutes],
        )
        audit_record_many(
            action="meeting.action_viewed",
            actor=viewer,
            subjects=[
                Subject("meetings.action", str(a.action.pk), row.item.case_id)
                for row in agenda
                for a in row.actions
            ],
        )
    return MeetingView(
        meeting=access.meeting,
        seat=seat,
        agenda=agenda,
        attendance=list(access.meeting.attendance.all()),
    )


def _subject(item: AgendaItem) -> Subject:
    return Subject("meetings.agendaitem", str(item.pk), item.case_id)


def agenda_item_get(access: MeetingAccess, item_pk: int) -> AgendaItem:
    item = (
        AgendaItem.objects.select_related("case", "case__youth", "meeting", "meeting__group")
        .filter(meeting=access.meeting, pk=item_pk)
        .first()
    )
    if item is None:
        raise Http404
    return item


def action_get(access: MeetingAccess, action_pk: int) -> Action:
    action = (
        Action.objects.select_related(
            "agenda_item", "agenda_item__meeting", "agenda_item__meeting__group"
        )
        .filter(agenda_item__meeting=access.meeting, pk=action_pk)
        .first()
    )
    if action is None:
        raise Http404
    return action


def agenda_candidates(access: MeetingAccess) -> list[Case]:
    """Open cases of the group not yet on the agenda, for the coordinator to choose by
    pseudonym (the same the coordinator's case index lists); nothing for anyone else."""
    if not access.can_manage:
        return []
    return list(
        Case.objects.filter(group_id=access.meeting.group_id)
        .exclude(status=CaseStatus.CLOSED)
        .exclude(agenda_items__meeting=access.meeting)
        .select_related("youth")
        .order_by("youth__pseudonym")
    )


@dataclass
class MyAction:
    """An open action on the viewer's start page: labelled by pseudonym, never by name."""

    action: Action
    pseudonym: str
    meeting: Meeting
    starts_at: datetime

    @property
    def text(self) -> str:
        return self.action.text


def actions_for(*, viewer: User) -> list[MyAction]:
    """Open actions the viewer is responsible for: named as the person, or through their agency
    when the decision named no person. Only in groups they still sit in."""
    if not viewer.is_active:
        return []
    sits = GroupMembership.objects.filter(
        group_id=OuterRef("agenda_item__meeting__group_id"), user_id=viewer.pk
    )
    practitioner_agencies = Membership.objects.filter(
        user_id=viewer.pk, role=Role.PRACTITIONER, agency__is_active=True
    ).values("agency_id")
    actions = list(
        Action.objects.filter(status=ActionStatus.OPEN)
        .alias(
            has_seat=Exists(sits),
            has_agency_seat=Exists(sits.filter(agency_id=OuterRef("responsible_agency_id"))),
        )
        .filter(
            Q(responsible_user_id=viewer.pk, has_seat=True)
            | Q(
                responsible_user__isnull=True,
                responsible_agency_id__in=practitioner_agencies,
                has_agency_seat=True,
            )
        )
        .select_related(
            "agenda_item__case__youth",
            "agenda_item__meeting__group",
            "responsible_agency",
        )
        .order_by("due_date", "pk")
    )
    # Rule 16: an action whose case no consent covers for the viewer's agencies stays hidden,
    # even from the person it names (they read it once a consent covers them).
    seats: dict[int, set[int]] = {}
    for group_id, agency_id in _groups_of(viewer).values_list("group_id", "agency_id"):
        seats.setdefault(group_id, set()).add(agency_id)
    covered = content_case_ids(
        [a.agenda_item.case for a in actions], lambda case: seats.get(case.group_id, set())
    )
    rows = [
        MyAction(
            action=a,
            pseudonym=a.agenda_item.case.youth.pseudonym,
            meeting=a.agenda_item.meeting,
            starts_at=a.agenda_item.meeting.starts_at,
        )
        for a in actions
        if a.agenda_item.case_id in covered
    ]
    with transaction.atomic():
        audit_record_many(
            action="meeting.action_viewed",
            actor=viewer,
            subjects=[
                Subject("meetings.action", str(r.action.pk), r.action.agenda_item.case_id)
                for r in rows
            ],
        )
    return rows
