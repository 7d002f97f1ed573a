"""Guardians belong to the case that recorded them: another agency's case for the same youth
shows neither their names nor their details, and its screening does not reveal them."""

from __future__ import annotations

from django.urls import reverse

from samverkan.cases.models import Case, Entry
from samverkan.cases.services import case_raise, entry_add, guardian_add
from tests.cases.conftest import YOUTH_NAME, YOUTH_NUMBER


def _social_services_raise_their_own_case(personas, world) -> Case:
    return case_raise(
        actor=personas.other_agency,
        group=world.avesta_group,
        agency=world.avesta_social,
        identity_number=YOUTH_NUMBER,
        name=YOUTH_NAME,
        gender="M",
        reason="Egen oro",
    ).case


def test_guardians_recorded_on_one_case_do_not_surface_on_another(
    client_for, personas, case_world, world
):
    guardian_add(
        actor=personas.practitioner, case=case_world.case, name="Lisa Testmamma", has_custody=True
    )
    other = _social_services_raise_their_own_case(personas, world)
    assert other.youth_id == case_world.case.youth_id
    page = (
        client_for(personas.other_agency)
        .get(reverse("cases:detail", args=[other.pk]))
        .content.decode()
    )
    assert "Testmamma" not in page
    # Nor does screening on the other case reveal the first case's guardian: the text is kept.
    entry = entry_add(
        actor=personas.other_agency,
        case=other,
        agency=world.avesta_social,
        category=case_world.social_category,
        text="Samtal med Testmamma bokat",
    )
    assert Entry.objects.filter(pk=entry.pk, case=other).exists()


def test_guardian_details_stay_with_the_case_that_recorded_them(
    client_for, personas, case_world, world
):
    """The same guardian (by number) recorded on two agencies' cases: each sees its own notes."""
    guardian_add(
        actor=personas.practitioner,
        case=case_world.case,
        name="Lisa Skolnotering",
        identity_number="811228-9874",
        email="skolan-vet@example.invalid",
        has_custody=True,
    )
    other = _social_services_raise_their_own_case(personas, world)
    guardian_add(
        actor=personas.other_agency,
        case=other,
        name="L. Socialnotering",
        identity_number="811228-9874",
        has_custody=True,
    )
    page = (
        client_for(personas.other_agency)
        .get(reverse("cases:detail", args=[other.pk]))
        .content.decode()
    )
    assert "Socialnotering" in page
    assert "Skolnotering" not in page
    assert "skolan-vet" not in page
