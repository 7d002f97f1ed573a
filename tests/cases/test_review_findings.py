"""Regression tests for the security review of the case workspace (findings 1–5)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from samverkan.audit.models import AuditEvent
from samverkan.cases.services import entry_add, screen_case_text, team_add
from samverkan.lib.personnummer import looks_like_identity_number
from samverkan.meetings.services import agenda_item_add, meeting_schedule, minutes_record
from samverkan.organisations.models import GroupMembership, Membership, Role
from samverkan.organisations.services import group_member_add, membership_remove
from samverkan.plans.services import goal_add, plan_create
from tests.cases.conftest import YOUTH_NAME, YOUTH_NUMBER
from tests.helpers import make_user
from tests.rule16 import consent_covering


def _meeting_with_minutes(personas, world, case):
    start = timezone.now() + timedelta(days=1)
    meeting = meeting_schedule(
        actor=personas.coordinator,
        group=world.avesta_group,
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        location="Rum 1",
    )
    item = agenda_item_add(actor=personas.coordinator, meeting=meeting, case=case)
    # Rule 16: minutes only under a consent; it covers the police, so the police would read them.
    consent_covering(
        case, [world.avesta_school, world.avesta_social, world.police], actor=personas.practitioner
    )
    minutes_record(actor=personas.coordinator, item=item, minutes="HEMLIGA minnesanteckningar")
    return meeting


def test_text_written_before_others_join_is_screened_too(personas, case_world):
    """Finding 1: plan text is read by agencies that join later, so it is always screened."""
    lone = case_world.case
    lone.team.exclude(user=personas.practitioner).delete()
    plan = plan_create(actor=personas.practitioner, case=lone)
    with pytest.raises(ValidationError):
        goal_add(actor=personas.practitioner, plan=plan, text=f"{YOUTH_NAME} ska gå till skolan")
    assert AuditEvent.objects.filter(action="screening.refused", case_id=lone.pk).exists()


def test_meeting_access_ends_with_the_job(client_for, personas, world, case_world):
    """Finding 2: a seat in the group counts only while a practitioner role backs it."""
    meeting = _meeting_with_minutes(personas, world, case_world.case)
    url = reverse("meetings:detail", args=[meeting.pk])
    assert client_for(personas.police).get(url).status_code == 200
    membership_remove(
        actor=personas.admin,
        membership=Membership.objects.get(user=personas.police, role=Role.PRACTITIONER),
    )
    page = client_for(personas.police).get(url)
    assert page.status_code == 404
    assert b"HEMLIGA" not in page.content
    assert not GroupMembership.all_seats.filter(user=personas.police).exists()


def test_only_practitioners_and_coordinators_take_seats(personas, world):
    with pytest.raises(ValidationError):
        group_member_add(
            actor=None,
            group=world.avesta_group,
            user=personas.council_member,
            agency=world.avesta_other,
        )


def test_a_deactivated_agency_takes_its_seats_with_it(client_for, personas, world, case_world):
    meeting = _meeting_with_minutes(personas, world, case_world.case)
    world.police.is_active = False
    world.police.save()
    assert (
        client_for(personas.police).get(reverse("meetings:detail", args=[meeting.pk])).status_code
        == 404
    )


def test_coordinator_without_a_role_loses_the_index(client_for, personas, world):
    for membership in Membership.objects.filter(user=personas.coordinator):
        membership_remove(actor=personas.admin, membership=membership)
    url = reverse("cases:group_index", args=[world.avesta_group.pk])
    assert client_for(personas.coordinator).get(url).status_code == 404


def test_refusal_does_not_tell_a_pseudonymous_writer_which_word_matched(
    personas, case_world, world
):
    """Finding 3: one message for a name or a number, and every refusal is audited."""
    messages = []
    for text in ("Testberg var här", "000000-0000 var här"):
        with pytest.raises(ValidationError) as info:
            screen_case_text(actor=personas.police, case=case_world.case, text=text, field="text")
        messages.append(info.value.message_dict["text"])
    assert messages[0] == messages[1]
    refused = AuditEvent.objects.filter(action="screening.refused", actor=personas.police)
    assert refused.count() == 2
    assert {e.outcome for e in refused} == {"denied"}


def test_raising_agency_is_told_why(personas, case_world, world):
    with pytest.raises(ValidationError) as info:
        entry_add(
            actor=personas.practitioner,
            case=case_world.case,
            agency=world.avesta_school,
            category=case_world.school_category,
            text="Kalle skolkade",
        )
    assert "name" in " ".join(info.value.messages)


@pytest.mark.parametrize(
    "text",
    [
        "120315\u20101236",  # hyphen
        "120315\u22121236",  # minus sign
        "120315\u20131236",  # en dash, as word processors write it
        "2012-03-15-1236",
        "12 03 15-1236",
        "120315-12 36",
        "１２０３１５-１２３６",  # full-width digits
    ],
)
def test_number_spellings_are_caught(text):
    """Finding 4."""
    assert looks_like_identity_number(text)


def test_ordinary_numbers_pass():
    assert not looks_like_identity_number("Frånvaro 35 % i oktober, 12 dagar av 20.")
    assert not looks_like_identity_number("Möte kl 14.30 i rum 204")


def test_team_joiner_never_sees_earlier_screened_text(personas, case_world, world):
    """Finding 1, end to end: what the team reads was screened when it was written."""
    case = case_world.case
    plan = plan_create(actor=personas.practitioner, case=case)
    goal_add(actor=personas.practitioner, plan=plan, text="Gå till skolan varje dag")
    newcomer = make_user("ny", world.avesta_leisure, Role.PRACTITIONER)
    group_member_add(
        actor=None, group=world.avesta_group, user=newcomer, agency=world.avesta_leisure
    )
    team_add(actor=personas.coordinator, case=case, user=newcomer, agency=world.avesta_leisure)


def test_coordinator_index_shows_the_next_meeting(client_for, personas, world, case_world):
    meeting = _meeting_with_minutes(personas, world, case_world.case)
    page = client_for(personas.coordinator).get(
        reverse("cases:group_index", args=[world.avesta_group.pk])
    )
    row = next(r for r in page.context["rows"] if r.case.pk == case_world.case.pk)
    assert row.case.next_meeting == meeting.starts_at


def test_guardian_details_stay_with_the_case_that_recorded_them(
    client_for, personas, case_world, world
):
    """The same guardian (by number) recorded on two agencies' cases: each sees its own notes."""
    from samverkan.cases.services import case_raise, guardian_add

    guardian_add(
        actor=personas.practitioner,
        case=case_world.case,
        name="Lisa Skolnotering",
        identity_number="811228-9874",
        email="skolan-vet@example.invalid",
        has_custody=True,
    )
    other = case_raise(
        actor=personas.other_agency,
        group=world.avesta_group,
        agency=world.avesta_social,
        identity_number=YOUTH_NUMBER,
        name="Kalle Testberg",
        gender="M",
        reason="Egen oro",
    ).case
    guardian_add(
        actor=personas.other_agency,
        case=other,
        name="L. Socialnotering",
        identity_number="811228-9874",
        has_custody=True,
    )
    page = (
        client_for(personas.other_agency)
        .get(reverse("cases:detail", args=[other.pk]))
        .content.decode()
    )
    assert "Socialnotering" in page
    assert "Skolnotering" not in page
    assert "skolan-vet" not in page


def test_closed_case_team_and_minutes_stay_as_they_were(client_for, personas, world, case_world):
    from samverkan.cases.models import Status
    from samverkan.cases.services import case_transition

    meeting = _meeting_with_minutes(personas, world, case_world.case)
    item = meeting.agenda.get()
    case_transition(
        actor=personas.practitioner,
        case=case_world.case,
        to=Status.CLOSED,
        closure_reason="moved",
        closure_outcome="Flyttade.",
    )
    member = case_world.case.team.get(user=personas.police)
    response = client_for(personas.coordinator).post(
        reverse("cases:team_remove", args=[case_world.case.pk, member.pk])
    )
    assert response.status_code == 302  # a message, not a 500
    member.refresh_from_db()
    assert member.removed_at is None
    with pytest.raises(ValidationError):
        minutes_record(actor=personas.coordinator, item=item, minutes="Ändrat i efterhand")


def test_raising_does_not_reveal_a_stored_name(personas, case_world, world):
    """Screening the reason checks only the name the raiser typed, so a refusal cannot tell
    whether the youth is registered under another name."""
    from samverkan.cases.services import case_raise

    raised = case_raise(
        actor=personas.other_agency,
        group=world.avesta_group,
        agency=world.avesta_social,
        identity_number=YOUTH_NUMBER,
        name="Annat Namn",
        gender="",
        reason="Testberg nämns här",  # the stored surname, unknown to this raiser
    )
    assert raised.case.pk
