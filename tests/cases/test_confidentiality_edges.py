"""Edges found in review: shared prefixes, guardians per case, access after a job change,
closed teams, the client address behind a proxy, a legal basis per entry read."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client, override_settings
from django.urls import reverse

from samverkan.audit.models import AuditEvent
from samverkan.cases.models import Status
from samverkan.cases.services import (
    case_raise,
    case_transition,
    entry_add,
    guardian_add,
    team_add,
    youth_register,
)
from samverkan.organisations.models import Membership, Role
from samverkan.organisations.services import membership_remove, municipality_create
from tests.cases.conftest import YOUTH_NUMBER


def test_municipalities_sharing_a_prefix_get_distinct_pseudonyms(personas, db):
    sala = municipality_create(actor=None, name="Sala", code="1981")
    salem = municipality_create(actor=None, name="Salem", code="0128")
    first = youth_register(
        actor=personas.practitioner, municipality=sala, identity_number="811228-9874", name="A B"
    )
    second = youth_register(
        actor=personas.practitioner, municipality=salem, identity_number="120315-1236", name="C D"
    )
    assert first.pseudonym.startswith("SAL-")
    assert second.pseudonym.startswith("SAL-")
    assert first.pseudonym != second.pseudonym


def test_guardians_recorded_on_one_case_do_not_surface_on_another(
    client_for, personas, case_world, world
):
    guardian_add(
        actor=personas.practitioner, case=case_world.case, name="Lisa Testmamma", has_custody=True
    )
    # Social services raise their own case for the same youth.
    other = case_raise(
        actor=personas.other_agency,
        group=world.avesta_group,
        agency=world.avesta_social,
        identity_number=YOUTH_NUMBER,
        name="Kalle Testberg",
        gender="M",
        reason="Egen oro",
    ).case
    assert other.youth_id == case_world.case.youth_id
    page = (
        client_for(personas.other_agency)
        .get(reverse("cases:detail", args=[other.pk]))
        .content.decode()
    )
    assert "Testmamma" not in page
    # Nor does screening on the other case reveal the first case's guardian.
    entry_add(
        actor=personas.other_agency,
        case=other,
        agency=world.avesta_social,
        category=case_world.social_category,
        text="Samtal med Testmamma bokat",
    )


def test_leaving_the_agency_ends_access_to_its_cases(client_for, personas, case_world):
    url = reverse("cases:detail", args=[case_world.case.pk])
    assert client_for(personas.police).get(url).status_code == 200
    membership = Membership.objects.get(user=personas.police, role=Role.PRACTITIONER)
    membership_remove(actor=personas.admin, membership=membership)
    assert client_for(personas.police).get(url).status_code == 404
    assert client_for(personas.police).get(reverse("cases:list")).context["rows"] == []


def test_a_closed_case_keeps_its_team(personas, case_world, world):
    case = case_transition(
        actor=personas.practitioner,
        case=case_world.case,
        to=Status.CLOSED,
        closure_reason="moved",
        closure_outcome="Flyttade.",
    )
    with pytest.raises(ValidationError, match="closed"):
        team_add(
            actor=personas.coordinator,
            case=case,
            user=personas.colleague,
            agency=world.avesta_school,
        )


def test_status_form_offers_only_allowed_transitions(client_for, personas, case_world):
    page = client_for(personas.practitioner).get(reverse("cases:detail", args=[case_world.case.pk]))
    offered = {value for value, _ in page.context["status_form"].fields["to"].choices}
    assert offered == {Status.AWAITING_CONSENT, Status.CLOSED}


def test_each_entry_read_records_its_own_legal_basis(client_for, personas, case_world, world):
    entry_add(
        actor=personas.practitioner,
        case=case_world.case,
        agency=world.avesta_school,
        category=case_world.school_category,
        text="Anteckning",
    )
    client_for(personas.practitioner).get(reverse("cases:detail", args=[case_world.case.pk]))
    event = AuditEvent.objects.filter(action="entry.viewed").latest("seq")
    assert event.legal_basis == "own_agency"


@override_settings(PROXY_COUNT=1)
def test_client_address_behind_a_proxy_reaches_the_audit_log(db):
    Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.9").post(
        "/accounts/login/", {"login": "nobody", "password": "wrong password"}
    )
    event = AuditEvent.objects.filter(action="auth.login_failed").latest("seq")
    assert event.ip == "203.0.113.9"
