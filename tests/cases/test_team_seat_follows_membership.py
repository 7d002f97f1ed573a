"""A seat on a case team counts only while the person still practises at the seat's agency.

In the parametrised tests the person keeps practising elsewhere (at the leisure office), so
what ends the seat is the intersection with the agencies they practise at now; the last test
takes away the only practitioner role.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from samverkan.accounts.models import User
from samverkan.cases.models import Entry
from samverkan.cases.services import entry_add
from samverkan.organisations.models import Membership, Role
from samverkan.organisations.services import agency_update, membership_add, membership_remove
from samverkan.plans.models import ActionPlan
from samverkan.plans.services import plan_create

pytestmark = pytest.mark.django_db


def _leave_the_school(how: str, personas, world) -> User:
    """The school counsellor starts at the leisure office too, then leaves the school (or the
    school is closed). Returns the account fresh from the database (no cached memberships)."""
    anna = personas.practitioner
    membership_add(actor=None, user=anna, agency=world.avesta_leisure, role=Role.PRACTITIONER)
    if how == "membership_removed":
        membership_remove(
            actor=personas.admin,
            membership=Membership.objects.get(
                user=anna, agency=world.avesta_school, role=Role.PRACTITIONER
            ),
        )
    else:
        agency_update(
            actor=personas.admin,
            agency=world.avesta_school,
            name=world.avesta_school.name,
            sector=world.avesta_school.sector,
            is_active=False,
        )
    return User.objects.get(pk=anna.pk)


LEAVING = pytest.mark.parametrize("how", ["membership_removed", "agency_closed"])


@LEAVING
def test_one_who_left_the_agency_cannot_write_for_it(personas, world, case_world, how):
    """Issue 19 mutation 3: team_agency_ids keeps only the agencies the person still practises
    at — someone who left cannot write an entry for the old agency."""
    case = case_world.case
    left = _leave_the_school(how, personas, world)
    # The seat stays on the team (nobody took her off it), and she still practises somewhere.
    assert case.team.filter(user=left, removed_at__isnull=True).exists()
    assert Membership.objects.filter(user=left, role=Role.PRACTITIONER).exists()
    with pytest.raises(ValidationError):
        entry_add(
            actor=left,
            case=case,
            agency=world.avesta_school,
            category=case_world.school_category,
            text="Skrivet efter att hon slutat på skolan.",
        )
    assert not Entry.objects.filter(case=case).exists()


@LEAVING
def test_one_who_left_the_agency_cannot_start_the_plan(personas, world, case_world, how):
    """Issue 19 mutation 3: team_agency_ids keeps only the agencies the person still practises
    at — someone who left cannot start or change the case's action plan."""
    case = case_world.case
    left = _leave_the_school(how, personas, world)
    with pytest.raises(ValidationError):
        plan_create(actor=left, case=case)
    assert not ActionPlan.objects.filter(case=case).exists()


@LEAVING
def test_one_who_left_the_agency_loses_the_consent_page(
    client_for, personas, world, case_world, how
):
    """Issue 19 mutation 3: team_agency_ids keeps only the agencies the person still practises
    at — someone who left no longer opens the case's consent page (404, as for a stranger)."""
    consents = reverse("consent:case", args=[case_world.case.pk])
    assert client_for(personas.practitioner).get(consents).status_code == 200
    left = _leave_the_school(how, personas, world)
    assert client_for(left).get(consents).status_code == 404


def test_leaving_the_agency_ends_access_to_its_cases(client_for, personas, case_world):
    url = reverse("cases:detail", args=[case_world.case.pk])
    assert client_for(personas.police).get(url).status_code == 200
    membership = Membership.objects.get(user=personas.police, role=Role.PRACTITIONER)
    membership_remove(actor=personas.admin, membership=membership)
    assert client_for(personas.police).get(url).status_code == 404
    assert client_for(personas.police).get(reverse("cases:list")).context["rows"] == []
