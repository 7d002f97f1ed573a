"""A case raised by the school counsellor in Avesta, with social services and police on the team."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from samverkan.cases.models import Case, InformationCategory
from samverkan.cases.services import team_add
from tests.helpers import YOUTH_NAME as YOUTH_NAME
from tests.helpers import YOUTH_NUMBER as YOUTH_NUMBER
from tests.helpers import raise_youth_case

# YOUTH_NAME and YOUTH_NUMBER are re-exported: many tests import them from here.


@dataclass
class CaseWorld:
    case: Case
    school_category: InformationCategory
    social_category: InformationCategory
    police_category: InformationCategory


@pytest.fixture
def case_world(personas, world) -> CaseWorld:
    case = raise_youth_case(
        personas,
        world,
        risk_factors=["high_absence", "destructive_peers"],
        protective_factors=["leisure_activity"],
    )
    team_add(actor=personas.coordinator, case=case, user=personas.police, agency=world.police)
    return CaseWorld(
        case=case,
        school_category=InformationCategory.objects.get(sector="school", code="attendance"),
        social_category=InformationCategory.objects.get(
            sector="social_services", code="assessment"
        ),
        police_category=InformationCategory.objects.get(sector="police", code="incidents"),
    )
