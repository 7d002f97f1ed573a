"""Every read of an action plan. Each takes the ``CaseAccess`` that ``cases.selectors.case_open``
gave, so only the case team gets this far; everyone else already had a 404.

The plan page runs a fixed number of queries however many goals and interventions it holds,
audit included (one event per object shown, written together).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from samverkan.accounts.models import User
from samverkan.audit.services import Subject, audit_record, audit_record_many
from samverkan.disclosure.selectors import CaseAccess
from samverkan.organisations.models import Agency
from samverkan.plans import rules
from samverkan.plans.models import ActionPlan, FollowUpDate, Goal, Intervention


class IdentityNotShown(PermissionDenied):
    """The family version names the youth, so a viewer who knows only the pseudonym cannot
    produce it."""


def _plan_queryset() -> QuerySet[ActionPlan]:
    return ActionPlan.objects.select_related("created_by").prefetch_related(
        Prefetch("goals", queryset=Goal.objects.order_by("order", "pk")),
        Prefetch(
            "interventions",
            queryset=Intervention.objects.select_related("agency", "responsible_user").order_by(
                "agency__name", "start_date", "pk"
            ),
        ),
        Prefetch("follow_ups", queryset=FollowUpDate.objects.order_by("date", "pk")),
    )


@dataclass
class AgencyInterventions:
    agency: Agency
    interventions: list[Intervention]
    may_change: bool


@dataclass
class PlanView:
    """The plan as the team sees it: all of it, whichever agency wrote each part."""

    access: CaseAccess
    plan: ActionPlan | None
    goals: list[Goal]
    interventions: list[Intervention]
    follow_ups: list[FollowUpDate]
    # Rule 16: the viewer's agency is not covered yet, so nothing of the plan is shown.
    withheld: bool = False

    @property
    def may_edit(self) -> bool:
        return not self.withheld and rules.may_edit_plan_ids(
            self.access.viewer.agency_ids, self.access.case
        )

    @property
    def by_agency(self) -> list[AgencyInterventions]:
        groups: dict[int, AgencyInterventions] = {}
        for intervention in self.interventions:
            group = groups.get(intervention.agency_id)
            if group is None:
                group = groups[intervention.agency_id] = AgencyInterventions(
                    agency=intervention.agency,
                    interventions=[],
                    may_change=rules.may_write_intervention_for_ids(
                        self.access.viewer.agency_ids, self.access.case, intervention.agency_id
                    ),
                )
            group.interventions.append(intervention)
        return list(groups.values())


def _subjects(
    plan: ActionPlan, goals: list[Goal], interventions: list[Intervention]
) -> list[Subject]:
    case_id = plan.case_id
    return [
        Subject("plans.actionplan", str(plan.pk), case_id),
        *(Subject("plans.goal", str(g.pk), case_id) for g in goals),
        *(Subject("plans.intervention", str(i.pk), case_id) for i in interventions),
    ]


def _load(access: CaseAccess) -> ActionPlan | None:
    if not access.content:
        return None
    plan = _plan_queryset().filter(case=access.case).first()
    if plan is not None:
        plan.case = access.case  # already loaded with its team; spares the services a query
    return plan


def plan_for_team(access: CaseAccess) -> PlanView:
    plan = _load(access)
    if plan is None:
        return PlanView(
            access=access,
            plan=None,
            goals=[],
            interventions=[],
            follow_ups=[],
            withheld=not access.content,
        )
    goals = list(plan.goals.all())
    interventions = list(plan.interventions.all())
    with transaction.atomic():
        audit_record_many(
            action="plan.viewed",
            actor=access.user,
            subjects=_subjects(plan, goals, interventions),
        )
    return PlanView(
        access=access,
        plan=plan,
        goals=goals,
        interventions=interventions,
        follow_ups=list(plan.follow_ups.all()),
    )


def plan_of(access: CaseAccess) -> ActionPlan | None:
    """The plan row alone, for a write; nothing in it is shown, so nothing is audited. None for
    a viewer rule 16 keeps from the plan: who may not read it does not change it either."""
    if not access.content:
        return None
    plan = ActionPlan.objects.filter(case=access.case).first()
    if plan is not None:
        plan.case = access.case
    return plan


def goal_for_team(access: CaseAccess, goal_pk: int) -> Goal | None:
    if not access.content:
        return None
    goal = Goal.objects.select_related("plan").filter(plan__case=access.case, pk=goal_pk).first()
    if goal is None:
        return None
    goal.plan.case = access.case
    with transaction.atomic():
        audit_record(action="plan.goal_viewed", actor=access.user, obj=goal, case_id=access.case.pk)
    return goal


def intervention_for_team(access: CaseAccess, intervention_pk: int) -> Intervention | None:
    if not access.content:
        return None
    intervention = (
        Intervention.objects.select_related("plan", "agency", "responsible_user", "created_by")
        .filter(plan__case=access.case, pk=intervention_pk)
        .first()
    )
    if intervention is None:
        return None
    intervention.plan.case = access.case
    with transaction.atomic():
        audit_record(
            action="plan.intervention_viewed",
            actor=access.user,
            agency=intervention.agency,
            obj=intervention,
            case_id=access.case.pk,
        )
    return intervention


def follow_up_of(access: CaseAccess, follow_up_pk: int) -> FollowUpDate | None:
    """A follow-up date holds no personal data; read for a write, not audited."""
    if not access.content:
        return None
    follow_up = (
        FollowUpDate.objects.select_related("plan")
        .filter(plan__case=access.case, pk=follow_up_pk)
        .first()
    )
    if follow_up is not None:
        follow_up.plan.case = access.case
    return follow_up


@dataclass
class FamilyPlan:
    """What the family's copy holds. Made only for a viewer who may see who the youth is."""

    access: CaseAccess
    plan: ActionPlan
    youth_name: str
    pseudonym: str
    goals: list[Goal]
    interventions: list[Intervention]
    follow_ups: list[FollowUpDate]
    contact: User
    contact_agency: Agency
    printed_on: date

    @property
    def subjects(self) -> list[Subject]:
        return _subjects(self.plan, self.goals, self.interventions)


def plan_for_family(access: CaseAccess) -> FamilyPlan | None:
    """The family's version of the plan, or None when the case has no plan yet.

    It names the youth, so it exists only for a viewer whose identity decision allows that.
    Not audited here: the export is, once the document exists (``services.plan_pdf_export``).
    """
    if not access.identity:
        raise IdentityNotShown(
            _(
                "The plan for the family names the youth, and your agency knows the youth "
                "only by pseudonym. Ask a team member from the agency that raised the case "
                "to print it."
            )
        )
    plan = _load(access)
    if plan is None:
        return None
    agencies = access.my_agencies
    # The raising agency knows the family; it is the natural contact when the viewer sits for it.
    contact_agency = next(
        (a for a in agencies if a.pk == access.case.raising_agency_id), agencies[0]
    )
    return FamilyPlan(
        access=access,
        plan=plan,
        youth_name=access.case.youth.name,
        pseudonym=access.case.youth.pseudonym,
        goals=list(plan.goals.all()),
        interventions=list(plan.interventions.all()),
        follow_ups=list(plan.follow_ups.all()),
        contact=access.user,
        contact_agency=contact_agency,
        printed_on=timezone.localdate(),
    )
