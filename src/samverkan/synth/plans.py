"""A case's action plan: goals, interventions by the team's agencies, a follow-up date, and
their outcome when the case closes. Goals and interventions are made by the plan services'
``goal_prepare`` and ``intervention_prepare``."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from samverkan.accounts.models import User
from samverkan.cases.models import ClosureReason
from samverkan.organisations.models import Agency, Sector
from samverkan.plans.models import (
    ActionPlan,
    FollowUpDate,
    Goal,
    InterventionKind,
    InterventionStatus,
)
from samverkan.plans.services import goal_prepare, intervention_prepare
from samverkan.synth import words
from samverkan.synth.base import day_of

if TYPE_CHECKING:
    from samverkan.synth.cases import CaseStory


def _interventions(s: CaseStory, made: ActionPlan, at: datetime) -> None:
    b, rng = s.b, s.rng
    members: dict[int, tuple[User, Agency]] = {}
    for user, agency, joined in s.team:
        if joined <= at:
            members.setdefault(agency.pk, (user, agency))
    for user, agency in list(members.values())[: rng.randint(1, 3)]:
        kind = words.KIND_OF_SECTOR.get(Sector(agency.sector), InterventionKind.OTHER)
        if rng.random() < 0.1:
            kind = InterventionKind.OTHER
        start = day_of(at) + timedelta(days=rng.randint(0, 14))
        status = InterventionStatus.ONGOING if start <= b.today else InterventionStatus.PLANNED
        description = (
            rng.choice(words.OTHER_INTERVENTIONS) if kind == InterventionKind.OTHER else ""
        )
        intervention = intervention_prepare(
            plan=made,
            agency=agency,
            kind=kind,
            status=status,
            responsible=user,
            start_date=start,
            description=description,
            at=at,
        )
        s.chunk.add(intervention)
        s.interventions.append((intervention, user))
        s.audit(
            at,
            "plan.intervention_added",
            actor=user.pk,
            agency=agency.pk,
            obj=intervention,
            details={"kind": str(kind), "status": str(status)},
        )


def plan(s: CaseStory, at: datetime) -> list[Goal]:
    """The plan drawn up at ``at``: its goals, interventions and first follow-up."""
    b, rng = s.b, s.rng
    made = ActionPlan(case=s.case, created_by=s.raiser, created_at=at)
    s.chunk.add(made)
    s.plan = made
    s.audit(at, "plan.created", actor=s.raiser.pk, obj=made)
    goals: list[Goal] = []
    for order, text in enumerate(rng.sample(words.GOALS, k=rng.randint(1, 3)), start=1):
        goal = goal_prepare(plan=made, order=order, text=text, author=s.raiser, at=at)
        s.chunk.add(goal)
        goals.append(goal)
        s.audit(at, "plan.goal_added", actor=s.raiser.pk, obj=goal)
    _interventions(s, made, at)
    follow = day_of(at) + timedelta(days=rng.randint(42, 90))
    follow_up = FollowUpDate(
        plan=made, date=follow, created_by=s.raiser, created_at=at, done=follow < b.today
    )
    s.chunk.add(follow_up)
    s.audit(
        at,
        "plan.follow_up_added",
        actor=s.raiser.pk,
        obj=follow_up,
        details={"date": follow.isoformat()},
    )
    if follow_up.done:
        s.audit(b.work_time(follow), "plan.follow_up_done", actor=s.raiser.pk, obj=follow_up)
    return goals


def finish_plan(s: CaseStory, goals: list[Goal], closed: datetime, reason: str) -> None:
    rng = s.rng
    before = closed - timedelta(hours=1)
    for goal in goals:
        goal.achieved = reason == ClosureReason.GOALS_MET or rng.random() < 0.3
        goal.updated_at = before
        s.audit(
            before,
            "plan.goal_updated",
            actor=s.raiser.pk,
            obj=goal,
            details={"text_changed": False, "achieved": goal.achieved},
        )
    for intervention, user in s.interventions:
        previous = intervention.status
        intervention.status = (
            InterventionStatus.DONE if rng.random() < 0.8 else InterventionStatus.CANCELLED
        )
        intervention.end_date = max(day_of(before), intervention.start_date)
        intervention.outcome = rng.choice(words.OUTCOMES)
        intervention.updated_at = before
        s.audit(
            before,
            "plan.intervention_updated",
            actor=user.pk,
            agency=intervention.agency_id,
            obj=intervention,
            details={"from": str(previous), "to": str(intervention.status)},
        )
