"""Who may change which part of an action plan. Seeing it is the case team's (``case_open``).

The plan and its goals belong to the whole team; an intervention belongs to the agency that
carries it out, so only that agency's team members change it. A closed case is read-only.
The ``*_ids`` forms take the agencies already known from a ``CaseAccess`` so that templates
and views ask the same question without another query.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from samverkan.cases import rules as case_rules
from samverkan.disclosure.selectors import content_shown
from samverkan.disclosure.viewer import team_agency_ids

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from samverkan.accounts.models import User
    from samverkan.cases.models import Case
    from samverkan.plans.models import Intervention


def may_edit_plan_ids(agency_ids: frozenset[int], case: Case) -> bool:
    return case.is_open and bool(agency_ids)


def may_edit_plan(user: User | AnonymousUser, case: Case) -> bool:
    """For the services: the team, and only agencies rule 16 lets read the plan."""
    return may_edit_plan_ids(team_agency_ids(user, case), case) and content_shown(user, case)


def may_write_intervention_for_ids(agency_ids: frozenset[int], case: Case, agency_id: int) -> bool:
    return case.is_open and agency_id in agency_ids


def may_change_intervention_ids(
    agency_ids: frozenset[int], case: Case, intervention: Intervention
) -> bool:
    return may_write_intervention_for_ids(agency_ids, case, intervention.agency_id)


def may_write_intervention_for(user: User | AnonymousUser, case: Case, agency_id: int) -> bool:
    return case_rules.may_write_for(user, case, agency_id) and content_shown(user, case)
