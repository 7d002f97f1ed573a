"""Screening of free text for the youth's name and number: always, one message for either,
every refusal audited, and nothing that tells a writer what the case holds."""

from __future__ import annotations

from contextlib import suppress

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from samverkan.accounts.models import User
from samverkan.audit.models import AuditEvent
from samverkan.cases.models import Case
from samverkan.cases.services import case_raise, entry_add, screen_case_text, team_add
from samverkan.organisations.models import Role
from samverkan.organisations.services import group_member_add
from samverkan.plans.models import Goal
from samverkan.plans.services import goal_add, plan_create
from tests.cases.conftest import YOUTH_NAME, YOUTH_NUMBER
from tests.helpers import make_user
from tests.rule16 import statutory_covering

CLEAN_GOAL = "Gå till skolan varje dag"


def test_text_written_before_others_join_is_screened_too(personas, case_world):
    """Plan text is read by agencies that join later, so it is always screened."""
    lone = case_world.case
    lone.team.exclude(user=personas.practitioner).delete()
    plan = plan_create(actor=personas.practitioner, case=lone)
    with pytest.raises(ValidationError):
        goal_add(actor=personas.practitioner, plan=plan, text=f"{YOUTH_NAME} ska gå till skolan")
    assert AuditEvent.objects.filter(action="screening.refused", case_id=lone.pk).exists()


def test_refusal_does_not_tell_a_pseudonymous_writer_which_word_matched(
    personas, case_world, world
):
    """One message for a name or a number, and every refusal is audited."""
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


def _join_the_team(personas, world, case: Case) -> User:
    """A social worker new to the group joins the case, covered by a statutory disclosure,
    which does not tell them who the youth is."""
    newcomer = make_user("ny", world.avesta_social, Role.PRACTITIONER)
    group_member_add(
        actor=None, group=world.avesta_group, user=newcomer, agency=world.avesta_social
    )
    team_add(actor=personas.coordinator, case=case, user=newcomer, agency=world.avesta_social)
    statutory_covering(
        case,
        actor=personas.practitioner,
        from_agency=world.avesta_school,
        to_agency=world.avesta_social,
    )
    return newcomer


def test_team_joiner_never_sees_earlier_screened_text(client_for, personas, case_world, world):
    """End to end: what the raiser wrote while alone on the team was screened when it was
    written, so an agency that joins later reads the plan without the youth's name."""
    case = case_world.case
    case.team.exclude(user=personas.practitioner).delete()
    plan = plan_create(actor=personas.practitioner, case=case)
    goal_add(actor=personas.practitioner, plan=plan, text=CLEAN_GOAL)
    # Refused (the first test says so); whether or not, the newcomer's page is what counts here.
    with suppress(ValidationError):
        goal_add(actor=personas.practitioner, plan=plan, text=f"{YOUTH_NAME} ska gå till skolan")
    newcomer = _join_the_team(personas, world, case)
    page = client_for(newcomer).get(reverse("plans:detail", args=[case.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert CLEAN_GOAL in html
    assert "Testberg" not in html
    assert [goal.text for goal in Goal.objects.filter(plan=plan)] == [CLEAN_GOAL]


def test_raising_does_not_reveal_a_stored_name(personas, case_world, world):
    """Screening the reason checks only the name the raiser typed, so a refusal cannot tell
    whether the youth is registered under another name."""
    raised = case_raise(
        actor=personas.other_agency,
        group=world.avesta_group,
        agency=world.avesta_social,
        identity_number=YOUTH_NUMBER,
        name="Annat Namn",
        gender="",
        reason="Testberg nämns här",  # the stored surname, unknown to this raiser
    )
    assert raised.case.youth_id == case_world.case.youth_id
    assert raised.case.reason == "Testberg nämns här"
    assert not AuditEvent.objects.filter(
        action="screening.refused", actor=personas.other_agency
    ).exists()
