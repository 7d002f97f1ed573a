"""Every write to meetings. Each function runs in one transaction and audits inside it.

Minutes and action text are read by every member of the group whose agency a consent or a
statutory disclosure covers for the case (DESIGN rule 16), so they are always screened for the
youth's and guardians' names and for identity numbers: at a meeting the case is known only by
its pseudonym (DESIGN rule 6). Where no agency of the group besides the raising one is covered,
the youth can be discussed only anonymously, and only that it happened is recorded.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from samverkan.accounts.models import User
from samverkan.audit.services import audit_record
from samverkan.cases import rules as case_rules
from samverkan.cases.models import Case
from samverkan.cases.models import Status as CaseStatus
from samverkan.cases.services import screen_case_text
from samverkan.disclosure.policy import content_decision, discussion_is_anonymous
from samverkan.disclosure.selectors import grants_for
from samverkan.lib.bulk import Rows, insert_in_order
from samverkan.lib.personnummer import looks_like_identity_number
from samverkan.meetings import rules
from samverkan.meetings.models import Action, ActionStatus, AgendaItem, Attendance, Meeting
from samverkan.organisations.models import Agency, CollaborationGroup, GroupMembership

MAX_LOCATION = 200


def _require_coordinator(actor: User, group: CollaborationGroup) -> None:
    if not case_rules.is_coordinator(actor, group):
        raise ValidationError(_("Only the group's coordinator changes its meetings."))


def _clean_location(location: str) -> str:
    location = " ".join(location.split())
    if not location:
        raise ValidationError({"location": [_("Enter where the meeting is held.")]})
    if len(location) > MAX_LOCATION:
        raise ValidationError({"location": [_("The location is too long.")]})
    # The location travels in calendar invitations outside the system.
    if looks_like_identity_number(location):
        raise ValidationError(
            {"location": [_("The location must not contain an identity number.")]}
        )
    return location


def _checked_meeting(starts_at: datetime, ends_at: datetime, location: str) -> str:
    if timezone.is_naive(starts_at) or timezone.is_naive(ends_at):
        raise ValueError("meeting times must be timezone-aware")
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": [_("The meeting must end after it starts.")]})
    return _clean_location(location)


def meeting_schedule(
    *,
    actor: User,
    group: CollaborationGroup,
    starts_at: datetime,
    ends_at: datetime,
    location: str,
) -> Meeting:
    """A meeting of the group; everyone who sits in the group now is invited."""
    _require_coordinator(actor, group)
    location = _checked_meeting(starts_at, ends_at, location)
    with transaction.atomic():
        meeting = Meeting.objects.create(
            group=group, starts_at=starts_at, ends_at=ends_at, location=location, created_by=actor
        )
        seats = GroupMembership.objects.filter(group=group, user__is_active=True)
        Attendance.objects.bulk_create(
            [Attendance(meeting=meeting, user_id=s.user_id, agency_id=s.agency_id) for s in seats]
        )
        audit_record(
            action="meeting.scheduled",
            actor=actor,
            obj=meeting,
            details={"group_id": group.pk},
        )
    return meeting


def agenda_item_add(*, actor: User, meeting: Meeting, case: Case) -> AgendaItem:
    _require_coordinator(actor, meeting.group)
    if case.group_id != meeting.group_id:
        raise ValidationError({"case": [_("The case belongs to another group.")]})
    with transaction.atomic():
        # Locking the meeting serialises concurrent additions, so two items never share a place.
        Meeting.objects.select_for_update().filter(pk=meeting.pk).first()
        # The status as committed now, not as the caller's copy of the case remembers it.
        if Case.objects.filter(pk=case.pk, status=CaseStatus.CLOSED).exists():
            raise ValidationError({"case": [_("The case is closed.")]})
        if AgendaItem.objects.filter(meeting=meeting, case=case).exists():
            raise ValidationError({"case": [_("The case is already on the agenda.")]})
        last = AgendaItem.objects.filter(meeting=meeting).aggregate(m=Max("order"))["m"]
        item = AgendaItem.objects.create(meeting=meeting, case=case, order=(last or 0) + 1)
        audit_record(
            action="meeting.agenda_item_added",
            actor=actor,
            obj=item,
            case_id=case.pk,
            details={"meeting_id": meeting.pk},
        )
    return item


def agenda_item_remove(*, actor: User, item: AgendaItem) -> None:
    """Only an item with nothing recorded on it leaves the agenda: minutes and decisions stay."""
    _require_coordinator(actor, item.meeting.group)
    with transaction.atomic():
        locked = AgendaItem.objects.select_for_update().get(pk=item.pk)
        if (
            locked.minutes_enc
            or locked.discussed_anonymously_at is not None
            or locked.actions.exists()
        ):
            raise ValidationError(
                _("An item with minutes or decisions stays on the agenda of the meeting.")
            )
        audit_record(
            action="meeting.agenda_item_removed",
            actor=actor,
            obj=locked,
            case_id=locked.case_id,
            details={"meeting_id": locked.meeting_id},
        )
        locked.delete()


def attendance_record(
    *,
    actor: User,
    meeting: Meeting,
    marks: Mapping[tuple[int, int], bool | None],
) -> list[Attendance]:
    """Marks keyed by (user id, agency id): True present, False absent, None not recorded.

    A person who joined the group after the meeting was scheduled can be marked too; anyone
    else cannot, since the attendance list is read by every member of the group.
    """
    _require_coordinator(actor, meeting.group)
    seats = set(
        GroupMembership.objects.filter(group_id=meeting.group_id).values_list(
            "user_id", "agency_id"
        )
    )
    with transaction.atomic():
        existing = {
            (a.user_id, a.agency_id): a
            for a in Attendance.objects.select_for_update().filter(meeting=meeting)
        }
        unknown = set(marks) - seats - set(existing)
        if unknown:
            raise ValidationError(_("Only people who sit in the group can attend its meetings."))
        changed: list[Attendance] = []
        created: list[Attendance] = []
        for key, present in marks.items():
            row = existing.get(key)
            if row is None:
                created.append(
                    Attendance(meeting=meeting, user_id=key[0], agency_id=key[1], present=present)
                )
            elif row.present != present:
                row.present = present
                changed.append(row)
        Attendance.objects.bulk_create(created)
        Attendance.objects.bulk_update(changed, ["present"])
        audit_record(
            action="meeting.attendance_recorded",
            actor=actor,
            obj=meeting,
            details={
                "present": sum(1 for p in marks.values() if p is True),
                "absent": sum(1 for p in marks.values() if p is False),
                "changed": len(changed) + len(created),
            },
        )
    return list(Attendance.objects.filter(meeting=meeting))


def _require_content_allowed(
    actor: User, item: AgendaItem, field: str, responsible_agency: Agency | None = None
) -> None:
    """Rule 16 for what a meeting records about a case: nothing while the discussion is
    anonymous, nothing by a coordinator whose agency could not read it back, and no decision
    for an agency that could not read it."""
    case = item.case
    now = timezone.now()
    grants = grants_for(case)
    group_agencies = GroupMembership.objects.filter(group_id=item.meeting.group_id).values_list(
        "agency_id", flat=True
    )
    if item.discussed_anonymously_at is not None or discussion_is_anonymous(
        group_agencies, raising_agency_id=case.raising_agency_id, at=now, grants=grants
    ):
        raise ValidationError(
            {
                field: [
                    _(
                        "No consent covers the group for this youth: record that the youth was "
                        "discussed anonymously, without minutes or decisions."
                    )
                ]
            }
        )
    seat = rules.seat_in(actor, item.meeting.group)
    if not content_decision(
        seat.agency_ids, raising_agency_id=case.raising_agency_id, at=now, grants=grants
    ):
        raise ValidationError(
            {
                field: [
                    _(
                        "No consent covers your agency for this youth, so you cannot record "
                        "minutes or decisions about them."
                    )
                ]
            }
        )
    if responsible_agency is not None and not content_decision(
        (responsible_agency.pk,), raising_agency_id=case.raising_agency_id, at=now, grants=grants
    ):
        raise ValidationError(
            {
                "responsible": [
                    _(
                        "No consent covers the responsible agency for this youth: it could "
                        "not read the decision."
                    )
                ]
            }
        )


def anonymous_discussion_record(*, actor: User, item: AgendaItem) -> AgendaItem:
    """Record that the youth was discussed anonymously (rule 16): the fact and when, no content.
    Only an item with nothing recorded on it, so no minutes hide behind the mark."""
    _require_coordinator(actor, item.meeting.group)
    with transaction.atomic():
        locked = AgendaItem.objects.select_for_update().get(pk=item.pk)
        if locked.minutes_enc or locked.actions.exists():
            raise ValidationError(
                _("An item with minutes or decisions was not discussed anonymously.")
            )
        if locked.discussed_anonymously_at is not None:
            return locked
        locked.discussed_anonymously_at = timezone.now()
        locked.save(update_fields=["discussed_anonymously_at"])
        audit_record(
            action="meeting.discussed_anonymously",
            actor=actor,
            obj=locked,
            case_id=locked.case_id,
            details={"meeting_id": locked.meeting_id},
        )
    return locked


def minutes_record(*, actor: User, item: AgendaItem, minutes: str) -> AgendaItem:
    """The minutes of one agenda item; recording again replaces them and is audited again."""
    _require_coordinator(actor, item.meeting.group)
    if not item.case.is_open:
        raise ValidationError({"minutes": [_("The case is closed: its minutes cannot change.")]})
    _require_content_allowed(actor, item, "minutes")
    minutes = minutes.strip()
    if not minutes:
        raise ValidationError({"minutes": [_("Write the minutes.")]})
    screen_case_text(actor=actor, case=item.case, text=minutes, field="minutes")
    with transaction.atomic():
        locked = AgendaItem.objects.select_for_update().get(pk=item.pk)
        locked.minutes = minutes
        locked.minutes_revision += 1
        locked.minutes_recorded_at = timezone.now()
        locked.save(update_fields=["minutes_enc", "minutes_revision", "minutes_recorded_at"])
        audit_record(
            action="meeting.minutes_recorded",
            actor=actor,
            obj=locked,
            case_id=locked.case_id,
            details={"meeting_id": locked.meeting_id, "revision": locked.minutes_revision},
        )
    return locked


def action_create(
    *,
    actor: User,
    item: AgendaItem,
    text: str,
    responsible_agency: Agency,
    due_date: date,
    responsible_user: User | None = None,
) -> Action:
    """A decision on an agenda item. The responsible agency must sit in the group, and a named
    person must sit in it for that agency: they are the ones who will see and close it."""
    meeting = item.meeting
    _require_coordinator(actor, meeting.group)
    if not item.case.is_open:
        raise ValidationError(_("The case is closed: no new decisions are taken on it."))
    text = text.strip()
    if not text:
        raise ValidationError({"text": [_("Describe what is to be done.")]})
    seats = GroupMembership.objects.filter(group_id=meeting.group_id, agency=responsible_agency)
    if not seats.exists():
        raise ValidationError(
            {"responsible": [_("The responsible agency does not sit in the group.")]}
        )
    if responsible_user is not None and not seats.filter(user=responsible_user).exists():
        raise ValidationError(
            {"responsible": [_("The person does not sit in the group for that agency.")]}
        )
    if due_date < timezone.localdate(meeting.starts_at):
        raise ValidationError({"due_date": [_("The due date cannot be before the meeting.")]})
    _require_content_allowed(actor, item, "text", responsible_agency)
    screen_case_text(actor=actor, case=item.case, text=text, field="text")
    with transaction.atomic():
        locked = AgendaItem.objects.select_for_update().get(pk=item.pk)
        if locked.discussed_anonymously_at is not None:
            raise ValidationError(
                {"text": [_("The youth was discussed anonymously: no decisions are recorded.")]}
            )
        action = Action(
            agenda_item=item,
            responsible_agency=responsible_agency,
            responsible_user=responsible_user,
            due_date=due_date,
            created_by=actor,
        )
        action.text = text
        action.save()
        audit_record(
            action="meeting.action_created",
            actor=actor,
            agency=responsible_agency,
            obj=action,
            case_id=item.case_id,
            details={
                "meeting_id": meeting.pk,
                "responsible_user_id": responsible_user.pk if responsible_user else None,
            },
        )
    return action


def action_update(*, actor: User, action: Action, status: ActionStatus | str) -> Action:
    if status not in ActionStatus.values:
        raise ValidationError({"status": [_("Choose a status.")]})
    with transaction.atomic():
        locked = (
            Action.objects.select_for_update(of=("self",))
            .select_related("agenda_item__meeting__group")
            .get(pk=action.pk)
        )
        if not rules.may_change_status(actor, locked, str(status)):
            raise ValidationError(_("You cannot change the status of this action."))
        previous = locked.status
        if previous == status:
            return locked
        locked.status = str(status)
        locked.status_changed_at = timezone.now()
        locked.status_changed_by = actor
        locked.save(update_fields=["status", "status_changed_at", "status_changed_by"])
        audit_record(
            action="meeting.action_updated",
            actor=actor,
            agency=locked.responsible_agency,
            obj=locked,
            case_id=locked.agenda_item.case_id,
            details={"from": previous, "to": str(status)},
        )
    return locked


# Many rows at once, for the synthetic data set (``samverkan.synth``); the caller appends the
# audit events with ``audit.services.append_bulk``.

MEETING_TABLES: tuple[type[models.Model], ...] = (Meeting, Attendance, AgendaItem, Action)


def meeting_prepare(
    *,
    group: CollaborationGroup,
    starts_at: datetime,
    ends_at: datetime,
    location: str,
    created_by: User,
    created_at: datetime,
) -> Meeting:
    """An unsaved meeting, its times and location checked as ``meeting_schedule`` checks them."""
    location = _checked_meeting(starts_at, ends_at, location)
    return Meeting(
        group=group,
        starts_at=starts_at,
        ends_at=ends_at,
        location=location,
        created_by=created_by,
        created_at=created_at,
    )


def meetings_create_bulk(rows: Rows) -> Counter[str]:
    """Write the rows of the meeting tables among ``rows``, parents first."""
    return insert_in_order(MEETING_TABLES, rows)
