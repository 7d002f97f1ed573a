"""An action plan on the case of ``tests/cases/conftest.py``: goals, one intervention by the
school (the raising agency), one by the police, and a follow-up date."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.utils import timezone

from samverkan.plans.models import ActionPlan, FollowUpDate, Goal, Intervention, InterventionKind
from samverkan.plans.services import follow_up_add, goal_add, intervention_add, plan_create
from tests.cases.conftest import CaseWorld, case_world  # noqa: F401 - the fixture, shared
from tests.rule16 import statutory_covering

GOAL_TEXT = "Gå till skolan varje dag och trivas i klassen"


def cover_by_statute(personas, world, case) -> None:
    """Social services and the police covered by a statutory disclosure each, not by consent."""
    statutory_covering(
        case,
        actor=personas.practitioner,
        from_agency=world.avesta_school,
        to_agency=world.avesta_social,
    )
    statutory_covering(
        case,
        actor=personas.practitioner,
        from_agency=world.avesta_school,
        to_agency=world.police,
        basis_code="duty_to_inform_police",
    )


@dataclass
class PlanWorld:
    cw: CaseWorld
    plan: ActionPlan
    goal: Goal
    school_intervention: Intervention
    police_intervention: Intervention
    follow_up: FollowUpDate


@pytest.fixture
def plan_world(personas, world, case_world) -> PlanWorld:  # noqa: F811
    case = case_world.case
    # Rule 16: the team's other agencies read the plan once something covers them. Statutory
    # disclosures do, without telling them who the youth is, which the tests also check.
    cover_by_statute(personas, world, case)
    plan = plan_create(actor=personas.practitioner, case=case)
    goal = goal_add(actor=personas.practitioner, plan=plan, text=GOAL_TEXT)
    today = timezone.localdate()
    school = intervention_add(
        actor=personas.practitioner,
        plan=plan,
        agency=world.avesta_school,
        kind=InterventionKind.SCHOOL_SUPPORT,
        responsible=personas.practitioner,
        start_date=today,
        end_date=today + dt.timedelta(days=90),
        description="Extra stöd i matematik två gånger i veckan",
    )
    police = intervention_add(
        actor=personas.police,
        plan=plan,
        agency=world.police,
        kind=InterventionKind.CONCERN_TALK,
        responsible=personas.police,
        start_date=today + dt.timedelta(days=7),
    )
    follow_up = follow_up_add(
        actor=personas.other_agency, plan=plan, on=today + dt.timedelta(days=30)
    )
    return PlanWorld(
        cw=case_world,
        plan=plan,
        goal=goal,
        school_intervention=school,
        police_intervention=police,
        follow_up=follow_up,
    )
