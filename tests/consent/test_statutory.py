"""Statutory disclosure (DESIGN rule 5): each basis's conditions hold for an agency that is on
the team, so only the condition itself can refuse it.

The shared fixture's team is the school (raising) and social services; these tests add the
police, so every receiving agency is one the entry could otherwise reach.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError

from samverkan.audit.models import AuditEvent, Outcome
from samverkan.cases.models import Entry
from samverkan.cases.services import entry_add, team_add
from samverkan.consent.models import StatutoryDisclosure
from samverkan.consent.services import statutory_disclose
from samverkan.disclosure import selectors as disclosure_selectors
from samverkan.disclosure.facts import STOCKHOLM, birthday
from tests.helpers import statutory_conditions

JUSTIFICATION = "Samlad bedömning av risken, dokumenterad i akten enligt rutin."


@pytest.fixture
def police_on_team(personas, world, consent_case) -> None:
    team_add(
        actor=personas.coordinator,
        case=consent_case.case,
        user=personas.police,
        agency=world.police,
    )


def _entry(personas, world, consent_case, *, social: bool, text: str) -> Entry:
    return entry_add(
        actor=personas.other_agency if social else personas.practitioner,
        case=consent_case.case,
        agency=world.avesta_social if social else world.avesta_school,
        category=consent_case.social_category if social else consent_case.school_category,
        text=text,
    )


@pytest.mark.parametrize(
    ("basis_code", "to"),
    [
        ("concern_report", "police"),  # a report of concern goes to social services only
        ("suspected_crime_23", "avesta_social"),  # a suspected crime goes to the police only
        ("duty_to_inform_police", "avesta_social"),
    ],
)
def test_a_basis_refuses_an_agency_on_the_team_of_another_sector(
    personas, world, consent_case, police_on_team, basis_code, to
):
    """Issue 19 mutation 1: the receiving agency's sector must be allowed for the basis."""
    entry = _entry(personas, world, consent_case, social=False, text="Frånvaro 40 % i oktober.")
    to_agency = getattr(world, to)
    assert consent_case.case.team.filter(agency=to_agency, removed_at__isnull=True).exists()
    with pytest.raises(ValidationError) as exc:
        statutory_disclose(
            actor=personas.practitioner,
            entry=entry,
            to_agency_id=to_agency.pk,
            basis_code=basis_code,
            justification=JUSTIFICATION,
            conditions_confirmed=statutory_conditions(basis_code),
        )
    assert exc.value.message_dict == {
        "basis": ["This basis does not allow disclosure to that agency."]
    }
    assert not StatutoryDisclosure.objects.exists()
    refused = AuditEvent.objects.get(action="entry.statutory_disclosure_refused")
    assert refused.outcome == Outcome.DENIED
    assert refused.details == {"basis_code": basis_code, "to_agency_id": to_agency.pk}
    viewer = personas.police if to == "police" else personas.other_agency
    access = disclosure_selectors.case_open(viewer=viewer, pk=consent_case.case.pk)
    assert disclosure_selectors.entry_listing(access).visible == []


def test_the_under_21_basis_ends_on_the_21st_birthday(
    personas, world, consent_case, police_on_team
):
    """Issue 19 mutation 2: the basis's age limit (under 21) must be checked."""
    turns_21 = birthday(consent_case.case.youth.birth_date, 21)
    day_before = dt.datetime.combine(turns_21 - dt.timedelta(days=1), dt.time(10), STOCKHOLM)
    with time_machine.travel(day_before, tick=False):
        still_20 = _entry(personas, world, consent_case, social=True, text="Umgås med äldre.")
        statutory_disclose(
            actor=personas.other_agency,
            entry=still_20,
            to_agency_id=world.police.pk,
            basis_code="social_to_police_under_21",
            justification=JUSTIFICATION,
            conditions_confirmed=statutory_conditions("social_to_police_under_21"),
        )
    on_the_day = dt.datetime.combine(turns_21, dt.time(10), STOCKHOLM)
    with time_machine.travel(on_the_day, tick=False):
        now_21 = _entry(personas, world, consent_case, social=True, text="Ny uppgift om umgänge.")
        with pytest.raises(ValidationError) as exc:
            statutory_disclose(
                actor=personas.other_agency,
                entry=now_21,
                to_agency_id=world.police.pk,
                basis_code="social_to_police_under_21",
                justification=JUSTIFICATION,
                conditions_confirmed=statutory_conditions("social_to_police_under_21"),
            )
    assert exc.value.message_dict == {"basis": ["This basis applies only to a person under 21."]}
    assert list(StatutoryDisclosure.objects.values_list("entry_id", flat=True)) == [still_20.pk]
    assert AuditEvent.objects.filter(action="entry.statutory_disclosure_refused").count() == 1
