"""Meeting services: who may change what, validation, screening of free text, audit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from samverkan.audit.models import AuditEvent
from samverkan.cases.models import Status
from samverkan.cases.services import case_raise, case_transition, guardian_add
from samverkan.meetings import rules
from samverkan.meetings.models import Action, ActionStatus, AgendaItem, Attendance, Meeting
from samverkan.meetings.services import (
    action_create,
    action_update,
    agenda_item_add,
    agenda_item_remove,
    attendance_record,
    meeting_schedule,
    minutes_record,
)
from samverkan.organisations.models import GroupRole, Role
from samverkan.organisations.services import group_create, group_member_add
from tests.cases.conftest import YOUTH_NAME, YOUTH_NUMBER
from tests.helpers import make_user
from tests.meetings.conftest import LOCATION, local, raise_cases, with_check_digit
from tests.rule16 import sign_pending


def _action(personas, world, meeting_world, **overrides) -> Action:
    kwargs = {
        "actor": personas.coordinator,
        "item": meeting_world.item,
        "text": "Skolan bokar ett möte med vårdnadshavarna.",
        "responsible_agency": world.avesta_school,
        "responsible_user": personas.practitioner,
        "due_date": timezone.localdate() + timedelta(days=14),
    }
    kwargs.update(overrides)
    return action_create(**kwargs)


def test_scheduling_invites_everyone_in_the_group_and_is_audited(personas, world, case_world):
    meeting = meeting_schedule(
        actor=personas.coordinator,
        group=world.avesta_group,
        starts_at=local(3, 13),
        ends_at=local(3, 15),
        location=LOCATION,
    )
    invited = set(Attendance.objects.filter(meeting=meeting).values_list("user_id", "present"))
    assert invited == {
        (personas.coordinator.pk, None),
        (personas.practitioner.pk, None),
        (personas.other_agency.pk, None),
        (personas.police.pk, None),
    }
    event = AuditEvent.objects.get(action="meeting.scheduled")
    assert event.object_id == str(meeting.pk)
    assert event.details == {"group_id": world.avesta_group.pk}


@pytest.mark.parametrize("persona", ["practitioner", "police", "outsider", "admin"])
def test_only_the_coordinator_schedules(personas, world, persona):
    with pytest.raises(ValidationError, match="coordinator"):
        meeting_schedule(
            actor=getattr(personas, persona),
            group=world.avesta_group,
            starts_at=local(3, 13),
            ends_at=local(3, 15),
            location=LOCATION,
        )
    assert not Meeting.objects.exists()


@pytest.mark.parametrize(
    ("start", "end", "location", "field"),
    [
        ((3, 13), (3, 13), LOCATION, "ends_at"),
        ((3, 13), (3, 12), LOCATION, "ends_at"),
        ((3, 13), (3, 14), "   ", "location"),
        ((3, 13), (3, 14), "Hos 120315-1236", "location"),
    ],
)
def test_schedule_validation(personas, world, start, end, location, field):
    with pytest.raises(ValidationError) as info:
        meeting_schedule(
            actor=personas.coordinator,
            group=world.avesta_group,
            starts_at=local(*start),
            ends_at=local(*end),
            location=location,
        )
    assert field in info.value.message_dict


def test_agenda_takes_open_cases_of_the_group_only(personas, world, meeting_world):
    meeting = meeting_world.meeting
    with pytest.raises(ValidationError, match="already on the agenda"):
        agenda_item_add(actor=personas.coordinator, meeting=meeting, case=meeting_world.case)
    with pytest.raises(ValidationError, match="coordinator"):
        agenda_item_add(actor=personas.practitioner, meeting=meeting, case=meeting_world.case)

    other_group = group_create(
        actor=None,
        municipality=world.avesta_group.municipality,
        name="SSPF Krylbo",
        min_age=10,
        max_age=17,
    )
    group_member_add(
        actor=None, group=other_group, user=personas.practitioner, agency=world.avesta_school
    )
    elsewhere = case_raise(
        actor=personas.practitioner,
        group=other_group,
        agency=world.avesta_school,
        identity_number=with_check_digit("120601123"),
        name="Annan Ungdom",
        gender="",
        reason="Oro.",
    ).case
    with pytest.raises(ValidationError, match="another group"):
        agenda_item_add(actor=personas.coordinator, meeting=meeting, case=elsewhere)

    (closed,) = raise_cases(personas, world, 1)
    case_transition(
        actor=personas.practitioner,
        case=closed,
        to=Status.CLOSED,
        closure_reason="moved",
        closure_outcome="Flyttade.",
    )
    with pytest.raises(ValidationError, match="closed"):
        agenda_item_add(actor=personas.coordinator, meeting=meeting, case=closed)

    (second,) = raise_cases(personas, world, 1, first=2)
    item = agenda_item_add(actor=personas.coordinator, meeting=meeting, case=second)
    assert item.order == meeting_world.item.order + 1
    event = AuditEvent.objects.filter(action="meeting.agenda_item_added").latest("id")
    assert event.case_id == second.pk


def test_item_with_minutes_stays_on_the_agenda(personas, world, meeting_world):
    minutes_record(
        actor=personas.coordinator, item=meeting_world.item, minutes="Gick igenom läget."
    )
    with pytest.raises(ValidationError, match="stays on the agenda"):
        agenda_item_remove(actor=personas.coordinator, item=meeting_world.item)
    (other,) = raise_cases(personas, world, 1)
    item = agenda_item_add(actor=personas.coordinator, meeting=meeting_world.meeting, case=other)
    agenda_item_remove(actor=personas.coordinator, item=item)
    assert not AgendaItem.objects.filter(pk=item.pk).exists()
    assert AuditEvent.objects.filter(
        action="meeting.agenda_item_removed", case_id=other.pk
    ).exists()


def test_closed_case_team_and_minutes_stay_as_they_were(client_for, personas, meeting_world):
    case = meeting_world.case
    minutes_record(
        actor=personas.coordinator, item=meeting_world.item, minutes="HEMLIGA minnesanteckningar"
    )
    item = meeting_world.meeting.agenda.get()  # reads its case afresh, once it is closed
    case_transition(
        actor=personas.practitioner,
        case=case,
        to=Status.CLOSED,
        closure_reason="moved",
        closure_outcome="Flyttade.",
    )
    member = case.team.get(user=personas.police)
    response = client_for(personas.coordinator).post(
        reverse("cases:team_remove", args=[case.pk, member.pk])
    )
    assert response.status_code == 302  # a message, not a 500
    member.refresh_from_db()
    assert member.removed_at is None
    with pytest.raises(ValidationError):
        minutes_record(actor=personas.coordinator, item=item, minutes="Ändrat i efterhand")


def test_minutes_are_encrypted_and_audited_with_the_case(personas, meeting_world):
    item = minutes_record(
        actor=personas.coordinator, item=meeting_world.item, minutes="Skolan följer upp närvaron."
    )
    raw = AgendaItem.objects.filter(pk=item.pk).values_list("minutes_enc", flat=True).get()
    assert "närvaron" not in raw
    assert raw.startswith("v1:")
    assert AgendaItem.objects.get(pk=item.pk).minutes == "Skolan följer upp närvaron."
    event = AuditEvent.objects.get(action="meeting.minutes_recorded")
    assert event.case_id == meeting_world.case.pk
    assert event.details["revision"] == 1
    minutes_record(actor=personas.coordinator, item=item, minutes="Rättat.")
    assert AuditEvent.objects.filter(action="meeting.minutes_recorded").count() == 2


BLOCKED = [
    "Kalle var borta hela veckan",
    "Pratade med Testberg om läget",
    f"Pnr {YOUTH_NUMBER.replace('-', '')} i papperen",
    f"Se {YOUTH_NUMBER[2:]}",
    "Mamma Lisa Testmamma ringde",
]


@pytest.mark.parametrize("text", BLOCKED)
def test_screening_blocks_names_and_numbers_in_minutes(personas, meeting_world, text):
    guardian_add(
        actor=personas.practitioner,
        case=meeting_world.case,
        name="Lisa Testmamma",
        has_custody=True,
    )
    sign_pending(meeting_world.case, actor=personas.practitioner)  # rule 16: still covered
    with pytest.raises(ValidationError) as info:
        minutes_record(actor=personas.coordinator, item=meeting_world.item, minutes=text)
    assert "pseudonym" in " ".join(info.value.messages)
    assert "minutes" in info.value.message_dict
    assert AgendaItem.objects.get(pk=meeting_world.item.pk).minutes_enc == ""
    assert not AuditEvent.objects.filter(action="meeting.minutes_recorded").exists()


@pytest.mark.parametrize("text", BLOCKED)
def test_screening_blocks_names_and_numbers_in_action_text(personas, world, meeting_world, text):
    guardian_add(
        actor=personas.practitioner,
        case=meeting_world.case,
        name="Lisa Testmamma",
        has_custody=True,
    )
    sign_pending(meeting_world.case, actor=personas.practitioner)  # rule 16: still covered
    with pytest.raises(ValidationError) as info:
        _action(personas, world, meeting_world, text=text)
    assert "text" in info.value.message_dict
    assert not Action.objects.exists()


def test_screening_applies_even_when_the_raising_agency_knows_the_youth(personas, meeting_world):
    # The raising school knows the name, but every agency at the table reads the minutes.
    assert YOUTH_NAME.split()[0] == "Kalle"
    with pytest.raises(ValidationError):
        minutes_record(
            actor=personas.coordinator, item=meeting_world.item, minutes=f"{YOUTH_NUMBER} ok"
        )


def test_action_validation(personas, world, meeting_world):
    meeting_day = timezone.localdate(meeting_world.meeting.starts_at)
    with pytest.raises(ValidationError, match="does not sit in the group"):
        _action(
            personas,
            world,
            meeting_world,
            responsible_agency=world.avesta_leisure,
            responsible_user=None,
        )
    with pytest.raises(ValidationError, match="for that agency"):
        # The police officer sits in the group, but not for the school.
        _action(personas, world, meeting_world, responsible_user=personas.police)
    with pytest.raises(ValidationError, match="before the meeting"):
        _action(personas, world, meeting_world, due_date=meeting_day - timedelta(days=1))
    with pytest.raises(ValidationError, match="coordinator"):
        _action(personas, world, meeting_world, actor=personas.practitioner)
    with pytest.raises(ValidationError):
        _action(personas, world, meeting_world, text="  ")
    action = _action(personas, world, meeting_world, due_date=meeting_day)
    assert action.status == ActionStatus.OPEN
    raw = Action.objects.filter(pk=action.pk).values_list("text_enc", flat=True).get()
    assert "vårdnadshavarna" not in raw
    event = AuditEvent.objects.get(action="meeting.action_created")
    assert event.case_id == meeting_world.case.pk
    assert event.agency_id == world.avesta_school.pk


def test_responsible_person_marks_done_others_cannot(personas, world, meeting_world):
    action = _action(personas, world, meeting_world)
    for persona in ("police", "other_agency", "colleague", "outsider"):
        with pytest.raises(ValidationError):
            action_update(actor=getattr(personas, persona), action=action, status="done")
    with pytest.raises(ValidationError):
        action_update(actor=personas.practitioner, action=action, status="cancelled")
    done = action_update(actor=personas.practitioner, action=action, status="done")
    assert done.status == ActionStatus.DONE
    assert done.status_changed_by == personas.practitioner
    event = AuditEvent.objects.get(action="meeting.action_updated")
    assert event.case_id == meeting_world.case.pk
    assert event.details == {"from": "open", "to": "done"}
    # Reopening is the coordinator's call.
    with pytest.raises(ValidationError):
        action_update(actor=personas.practitioner, action=done, status="open")
    assert action_update(actor=personas.coordinator, action=done, status="open").status == "open"


def test_agency_action_is_closed_by_a_practitioner_sitting_for_that_agency(
    personas, world, meeting_world
):
    action = _action(
        personas, world, meeting_world, responsible_agency=world.police, responsible_user=None
    )
    assert rules.may_mark_done(personas.police, action)
    assert not rules.may_mark_done(personas.practitioner, action)
    # A police officer who does not sit in the group cannot.
    stranger = make_user("polis2", world.police, Role.PRACTITIONER)
    assert not rules.may_mark_done(stranger, action)
    # Someone who is not a practitioner there cannot even take a seat for the police.
    editor = make_user("polis3", world.police, Role.AGREEMENT_EDITOR)
    with pytest.raises(ValidationError):
        group_member_add(
            actor=None,
            group=world.avesta_group,
            user=editor,
            agency=world.police,
            role=GroupRole.MEMBER,
        )
    assert not rules.may_mark_done(editor, action)
    assert action_update(actor=personas.police, action=action, status="done").status == "done"


def test_attendance(personas, world, meeting_world):
    meeting = meeting_world.meeting
    late = make_user("lena", world.avesta_leisure, Role.PRACTITIONER)
    group_member_add(actor=None, group=world.avesta_group, user=late, agency=world.avesta_leisure)
    attendance_record(
        actor=personas.coordinator,
        meeting=meeting,
        marks={
            (personas.practitioner.pk, world.avesta_school.pk): True,
            (personas.police.pk, world.police.pk): False,
            (late.pk, world.avesta_leisure.pk): True,
        },
    )
    present = dict(Attendance.objects.filter(meeting=meeting).values_list("user_id", "present"))
    assert present[personas.practitioner.pk] is True
    assert present[personas.police.pk] is False
    assert present[late.pk] is True
    assert present[personas.other_agency.pk] is None
    event = AuditEvent.objects.get(action="meeting.attendance_recorded")
    assert event.details == {"present": 2, "absent": 1, "changed": 3}
    with pytest.raises(ValidationError, match="sit in the group"):
        attendance_record(
            actor=personas.coordinator,
            meeting=meeting,
            marks={(personas.outsider.pk, world.hedemora_school.pk): True},
        )
    with pytest.raises(ValidationError, match="coordinator"):
        attendance_record(actor=personas.practitioner, meeting=meeting, marks={})


def test_no_identity_number_in_any_meeting_audit_event(personas, world, meeting_world):
    minutes_record(actor=personas.coordinator, item=meeting_world.item, minutes="Läget är stabilt.")
    _action(personas, world, meeting_world)
    digits = YOUTH_NUMBER.replace("-", "")
    for event in AuditEvent.objects.filter(action__startswith="meeting."):
        text = str(event.details) + event.object_id
        assert digits[2:8] not in text
        assert "Kalle" not in text
