"""Shared consent fixtures: a case raised by the school counsellor (anna) about a 14-year-old,
with two guardians who both have custody, and social services (cecilia) on the team; a consent
between school and social services through the real services, pending or signed by both
guardians.

Other agencies (police) are not on this case's team: tests that need them add them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.utils import timezone

from samverkan.cases.models import Case, GuardianLink, InformationCategory
from samverkan.cases.services import guardian_add
from samverkan.consent.models import Consent, RequiredSigner, SignatureMethod
from samverkan.consent.services import consent_create, signature_record, youth_cosigner_ensure
from tests.helpers import YOUTH_NAME as YOUTH_NAME
from tests.helpers import YOUTH_NUMBER, raise_youth_case

# The youth (YOUTH_NAME, YOUTH_NUMBER, re-exported for the tests that import them from here) is
# tests.helpers'; the guardians' numbers are fictional but valid (the check digits are right).
GUARDIAN_1_NUMBER = "19800101-1231"
GUARDIAN_1_NAME = "Maria Testberg"
GUARDIAN_2_NUMBER = "19820202-4561"
GUARDIAN_2_NAME = "Olof Testberg"
IDENTITY_NUMBERS = (YOUTH_NUMBER, GUARDIAN_1_NUMBER, GUARDIAN_2_NUMBER)


@dataclass
class ConsentCase:
    case: Case
    guardian_1: GuardianLink
    guardian_2: GuardianLink
    school_category: InformationCategory
    social_category: InformationCategory


@pytest.fixture
def consent_case(personas, world) -> ConsentCase:
    case = raise_youth_case(personas, world, risk_factors=["high_absence"])
    for name, number in (
        (GUARDIAN_1_NAME, GUARDIAN_1_NUMBER),
        (GUARDIAN_2_NAME, GUARDIAN_2_NUMBER),
    ):
        guardian_add(
            actor=personas.practitioner,
            case=case,
            name=name,
            has_custody=True,
            identity_number=number,
            email=f"{name.split()[0].lower()}@example.invalid",
        )
    links = list(GuardianLink.objects.filter(case=case).order_by("pk"))
    return ConsentCase(
        case=case,
        guardian_1=links[0],
        guardian_2=links[1],
        school_category=InformationCategory.objects.get(sector="school", code="attendance"),
        social_category=InformationCategory.objects.get(
            sector="social_services", code="assessment"
        ),
    )


def make_consent(
    personas, world, consent_case: ConsentCase, *, language: str = "sv", months: int = 6
) -> Consent:
    today = timezone.localdate()
    return consent_create(
        actor=personas.practitioner,
        case=consent_case.case,
        agency_ids=[world.avesta_school.pk, world.avesta_social.pk],
        category_ids=[consent_case.school_category.pk, consent_case.social_category.pk],
        valid_from=today,
        valid_until=today + dt.timedelta(days=30 * months),
        language=language,
    )


def sign_all(personas, consent: Consent) -> None:
    """Every required signer signs in person, witnessed by the school counsellor."""
    for signer in RequiredSigner.objects.filter(consent=consent).select_related("consent"):
        signature_record(
            actor=personas.practitioner, signer=signer, method=SignatureMethod.IN_PERSON
        )


def cosign_youth(personas, consent: Consent) -> None:
    """The youth co-signs a consent the guardians signed (DESIGN rule 18), in person, with the
    maturity assessment a youth under the signing age needs; nothing if they signed already."""
    signer = youth_cosigner_ensure(consent=consent, actor=personas.practitioner)
    assert signer is not None
    if RequiredSigner.objects.filter(pk=signer.pk, signature__isnull=True).exists():
        signature_record(
            actor=personas.practitioner,
            signer=signer,
            method=SignatureMethod.IN_PERSON,
            maturity_assessment="Förstår samtycket och vill själv skriva under det.",
        )


@pytest.fixture
def pending_consent(personas, world, consent_case) -> Consent:
    """School and social services, attendance and assessment, six months; nobody has signed."""
    return make_consent(personas, world, consent_case)


@pytest.fixture
def active_consent(personas, world, consent_case) -> Consent:
    """As ``pending_consent``, signed in person by both guardians."""
    consent = make_consent(personas, world, consent_case)
    sign_all(personas, consent)
    return consent
