"""A case raised by the school counsellor in Avesta, with social services and police on the team."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from samverkan.cases.models import Case, InformationCategory
from samverkan.cases.services import case_raise, team_add
from tests.helpers import youth_number

# Fictional but valid (the check digit is right); a 14-year-old in any year (issue 19).
YOUTH_NUMBER = youth_number(14)
YOUTH_NAME = "Kalle Testberg"


@dataclass
class CaseWorld:
    case: Case
    school_category: InformationCategory
    social_category: InformationCategory
    police_category: InformationCategory


@pytest.fixture
def case_world(personas, world) -> CaseWorld:
    raised = case_raise(
        actor=personas.practitioner,
        group=world.avesta_group,
        agency=world.avesta_school,
        identity_number=YOUTH_NUMBER,
        name=YOUTH_NAME,
        gender="M",
        reason="Hög frånvaro sedan höstlovet och nya umgängen.",
        risk_factors=["high_absence", "destructive_peers"],
        protective_factors=["leisure_activity"],
    )
    team_add(
        actor=personas.coordinator,
        case=raised.case,
        user=personas.other_agency,
        agency=world.avesta_social,
    )
    team_add(
        actor=personas.coordinator, case=raised.case, user=personas.police, agency=world.police
    )
    return CaseWorld(
        case=raised.case,
        school_category=InformationCategory.objects.get(sector="school", code="attendance"),
        social_category=InformationCategory.objects.get(
            sector="social_services", code="assessment"
        ),
        police_category=InformationCategory.objects.get(sector="police", code="incidents"),
    )
