from __future__ import annotations

from django.urls import reverse


def test_public_home_renders(client, db):
    response = client.get(reverse("web:home"))
    assert response.status_code == 200
    assert b"Samverkan" in response.content


def test_personas_reach_their_start_page(client_for, personas):
    for user in (personas.practitioner, personas.admin, personas.auditor, personas.coordinator):
        response = client_for(user).get(reverse("web:home"))
        assert response.status_code == 200
