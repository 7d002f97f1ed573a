"""Plan writes: validation with clear messages, screening of free text, the active-plan rule,
and no plaintext at rest."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from samverkan.cases.models import Status
from samverkan.cases.services import case_transition, guardian_add
from samverkan.plans.models import Goal, InterventionKind
from samverkan.plans.services import (
    follow_up_add,
    goal_add,
    goal_update,
    intervention_add,
    intervention_update,
    plan_create,
)
from tests.cases.conftest import YOUTH_NUMBER
from tests.cases.test_encryption import all_text_in_database
from tests.plans.conftest import GOAL_TEXT
from tests.rule16 import consent_covering

SCREENED = [
    "Kalle ska gå till skolan",
    "Testberg behöver stöd",
    f"Pnr {YOUTH_NUMBER.replace('-', '')} står i papperen",
    f"Se {YOUTH_NUMBER[2:]}",
    "Mamma Lisa Testmamma följer med",
]


@pytest.fixture
def guardian(personas, case_world):
    guardian_add(
        actor=personas.practitioner, case=case_world.case, name="Lisa Testmamma", has_custody=True
    )


@pytest.mark.parametrize("text", SCREENED)
def test_goals_are_screened_for_names_and_numbers(personas, plan_world, guardian, text):
    with pytest.raises(ValidationError) as info:
        goal_add(actor=personas.police, plan=plan_world.plan, text=text)
    assert "pseudonym" in " ".join(info.value.messages)
    with pytest.raises(ValidationError):
        goal_update(actor=personas.practitioner, goal=plan_world.goal, text=text, achieved=False)
    assert Goal.objects.get().text == GOAL_TEXT


@pytest.mark.parametrize("text", SCREENED)
def test_outcomes_and_descriptions_are_screened(personas, plan_world, guardian, text):
    intervention = plan_world.school_intervention
    with pytest.raises(ValidationError) as info:
        intervention_update(
            actor=personas.practitioner,
            intervention=intervention,
            responsible=personas.practitioner,
            start_date=intervention.start_date,
            end_date=None,
            status="done",
            outcome=text,
        )
    assert "outcome" in info.value.message_dict
    with pytest.raises(ValidationError) as info:
        intervention_add(
            actor=personas.practitioner,
            plan=plan_world.plan,
            agency=intervention.agency,
            kind=InterventionKind.OTHER,
            responsible=personas.practitioner,
            start_date=timezone.localdate(),
            description=text,
        )
    assert "description" in info.value.message_dict


def test_screening_message_reaches_the_page(client_for, personas, plan_world):
    response = client_for(personas.practitioner).post(
        reverse("plans:goal_add", args=[plan_world.cw.case.pk]), {"text": "Kalle ska trivas"}
    )
    assert response.status_code == 400
    assert "pseudonym" in response.content.decode()
    assert Goal.objects.count() == 1


def test_intervention_dates_and_responsible_are_checked(personas, world, plan_world):
    today = timezone.localdate()
    common = {"actor": personas.practitioner, "plan": plan_world.plan, "kind": "school_support"}
    with pytest.raises(ValidationError) as info:
        intervention_add(
            **common,
            agency=world.avesta_school,
            responsible=personas.practitioner,
            start_date=today,
            end_date=today - dt.timedelta(days=1),
        )
    assert info.value.message_dict["end_date"] == ["The end date cannot be before the start date."]
    # The police officer sits on the team, but for the police, not for the school.
    with pytest.raises(ValidationError) as info:
        intervention_add(
            **common, agency=world.avesta_school, responsible=personas.police, start_date=today
        )
    assert "responsible" in info.value.message_dict
    # The colleague works at the school but is not on the team.
    with pytest.raises(ValidationError) as info:
        intervention_add(
            **common, agency=world.avesta_school, responsible=personas.colleague, start_date=today
        )
    assert "responsible" in info.value.message_dict
    # An intervention is written only for an agency the author sits on the team for.
    with pytest.raises(ValidationError, match="agency you sit on the team for"):
        intervention_add(
            **common, agency=world.police, responsible=personas.police, start_date=today
        )
    with pytest.raises(ValidationError, match="own agency"):
        intervention_update(
            actor=personas.practitioner,
            intervention=plan_world.police_intervention,
            responsible=personas.police,
            start_date=today,
            end_date=None,
            status="done",
        )


def test_other_kind_needs_a_description(personas, world, plan_world):
    with pytest.raises(ValidationError) as info:
        intervention_add(
            actor=personas.practitioner,
            plan=plan_world.plan,
            agency=world.avesta_school,
            kind=InterventionKind.OTHER,
            responsible=personas.practitioner,
            start_date=timezone.localdate(),
        )
    assert "description" in info.value.message_dict


def test_follow_up_dates_are_not_in_the_past_and_not_twice(personas, plan_world):
    with pytest.raises(ValidationError) as info:
        follow_up_add(
            actor=personas.practitioner,
            plan=plan_world.plan,
            on=timezone.localdate() - dt.timedelta(days=1),
        )
    assert info.value.message_dict["date"] == ["A follow-up date cannot be in the past."]
    follow_up_add(actor=personas.practitioner, plan=plan_world.plan, on=timezone.localdate())
    with pytest.raises(ValidationError, match="already"):
        follow_up_add(actor=personas.practitioner, plan=plan_world.plan, on=timezone.localdate())


def test_one_plan_per_case_and_only_the_team_writes(personas, plan_world):
    with pytest.raises(ValidationError, match="already has"):
        plan_create(actor=personas.police, case=plan_world.cw.case)
    with pytest.raises(ValidationError, match="case team"):
        goal_add(actor=personas.colleague, plan=plan_world.plan, text="Mål")
    with pytest.raises(ValidationError, match="case team"):
        plan_create(actor=personas.coordinator, case=plan_world.cw.case)


def test_empty_goal_is_refused(personas, plan_world):
    with pytest.raises(ValidationError) as info:
        goal_add(actor=personas.practitioner, plan=plan_world.plan, text="   ")
    assert info.value.message_dict["text"] == ["Write the goal."]


def test_active_plan_needs_a_plan_with_a_goal(personas, world, case_world):
    case = case_world.case
    case = case_transition(actor=personas.practitioner, case=case, to=Status.AWAITING_CONSENT)
    consent_covering(  # rule 16: past "awaiting consent" only under an active consent
        case, [world.avesta_school, world.avesta_social, world.police], actor=personas.practitioner
    )
    case = case_transition(actor=personas.practitioner, case=case, to=Status.MAPPING)
    with pytest.raises(ValidationError, match="action plan has a goal") as info:
        case_transition(actor=personas.practitioner, case=case, to=Status.ACTIVE_PLAN)
    assert "to" in info.value.message_dict
    plan = plan_create(actor=personas.practitioner, case=case)
    with pytest.raises(ValidationError, match="action plan has a goal"):
        case_transition(actor=personas.practitioner, case=case, to=Status.ACTIVE_PLAN)
    goal_add(actor=personas.police, plan=plan, text="Trivas i skolan")
    case = case_transition(actor=personas.practitioner, case=case, to=Status.ACTIVE_PLAN)
    assert case.status == Status.ACTIVE_PLAN
    case = case_transition(actor=personas.practitioner, case=case, to=Status.FOLLOW_UP)
    case = case_transition(actor=personas.practitioner, case=case, to=Status.ACTIVE_PLAN)
    assert case.status == Status.ACTIVE_PLAN


def test_active_plan_message_reaches_the_case_page(client_for, personas, world, case_world):
    case = case_world.case
    case = case_transition(actor=personas.practitioner, case=case, to=Status.AWAITING_CONSENT)
    consent_covering(  # rule 16: past "awaiting consent" only under an active consent
        case, [world.avesta_school, world.avesta_social, world.police], actor=personas.practitioner
    )
    case_transition(actor=personas.practitioner, case=case, to=Status.MAPPING)
    response = client_for(personas.practitioner).post(
        reverse("cases:status", args=[case.pk]), {"to": Status.ACTIVE_PLAN}
    )
    assert response.status_code == 400
    assert "action plan has a goal" in response.content.decode()


def test_no_plaintext_plan_text_in_any_table(personas, plan_world):
    intervention_update(
        actor=personas.police,
        intervention=plan_world.police_intervention,
        responsible=personas.police,
        start_date=plan_world.police_intervention.start_date,
        end_date=None,
        status="done",
        outcome="Unikt utfall som inte får synas",
    )
    dump = all_text_in_database()
    for secret in (GOAL_TEXT, "Gå till skolan", "Extra stöd i matematik", "Unikt utfall"):
        assert secret not in dump, secret
    # ... and it reads back through the model.
    assert Goal.objects.get().text == GOAL_TEXT


def test_goal_text_moved_to_another_row_fails_to_decrypt(personas, plan_world):
    from samverkan.lib import crypto

    other = goal_add(actor=personas.practitioner, plan=plan_world.plan, text="Ett annat mål")
    Goal.objects.filter(pk=other.pk).update(text_enc=plan_world.goal.text_enc)
    with pytest.raises(crypto.DecryptionError):
        _ = Goal.objects.get(pk=other.pk).text
