"""Administrators keep the configurable lists: factors and information categories."""

from __future__ import annotations

import pytest
from django.urls import reverse

from samverkan.audit.models import AuditEvent
from samverkan.cases.models import Factor, InformationCategory
from tests.helpers import assert_trio


def test_lists_trio(client_for, personas):
    assert_trio(
        client_for, reverse("cases:lists"), allowed=personas.admin, outsider=personas.coordinator
    )


@pytest.mark.parametrize("persona", ["practitioner", "coordinator", "auditor", "council_member"])
def test_only_administrators_change_the_lists(client_for, personas, persona, db):
    client = client_for(getattr(personas, persona))
    factor = Factor.objects.order_by("pk")[0]
    assert client.post(reverse("cases:list_add", args=["factor"]), {}).status_code == 404
    assert client.post(reverse("cases:list_toggle", args=["factor", factor.pk])).status_code == 404


def test_add_and_retire(client_for, personas):
    admin = client_for(personas.admin)
    response = admin.post(
        reverse("cases:list_add", args=["factor"]),
        {"kind": "risk", "label_sv": "Ofta i bråk", "label_en": "Often in fights"},
    )
    assert response.status_code == 302
    factor = Factor.objects.get(code="often_in_fights")
    assert factor.is_active
    admin.post(reverse("cases:list_toggle", args=["factor", factor.pk]))
    factor.refresh_from_db()
    assert not factor.is_active
    admin.post(
        reverse("cases:list_add", args=["category"]),
        {"sector": "leisure", "label_sv": "Föreningsliv", "label_en": "Club life"},
    )
    assert InformationCategory.objects.filter(sector="leisure", code="club_life").exists()
    actions = set(AuditEvent.objects.filter(actor=personas.admin).values_list("action", flat=True))
    assert {"factor.added", "list_entry.retired", "category.added"} <= actions
    assert admin.post(reverse("cases:list_add", args=["nonsense"]), {}).status_code == 404


def test_a_retired_factor_is_no_longer_offered(client_for, personas, world):
    Factor.objects.filter(code="high_absence").update(is_active=False)
    page = client_for(personas.practitioner).get(reverse("cases:raise"))
    codes = {code for code, _ in page.context["form"].fields["risk_factors"].choices}
    assert "high_absence" not in codes
