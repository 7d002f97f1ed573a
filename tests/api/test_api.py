"""The HTTP API: bearer tokens, /me, token management, and the endpoint trio."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from samverkan.api.models import ApiToken, Scope
from samverkan.api.services import token_create, token_revoke
from samverkan.audit.models import AuditEvent
from samverkan.organisations.models import Role
from tests.helpers import make_user


def bearer(text: str) -> dict[str, Any]:
    return {"HTTP_AUTHORIZATION": f"Bearer {text}"}


def test_openapi_schema_is_public_and_lists_the_endpoints(client, db):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "Samverkan API"
    assert "/api/v1/me" in schema["paths"]
    assert "BearerToken" in schema["components"]["securitySchemes"]


def test_me_returns_identity_agencies_and_roles(client, personas, world):
    issued = token_create(actor=personas.coordinator, user=personas.coordinator, name="t", days=3)
    response = client.get("/api/v1/me", **bearer(issued.text))
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "eva"
    roles = {(a["id"], a["role"]) for a in body["agencies"]}
    assert (world.avesta_social.pk, Role.COORDINATOR) in roles
    assert (world.avesta_social.pk, Role.PRACTITIONER) in roles
    assert body["groups"][0]["name"] == "SSPF Avesta"
    assert body["token_scope"] == "read"
    assert response["Cache-Control"].find("no-store") >= 0
    used = AuditEvent.objects.filter(action="api_token.used", actor=personas.coordinator)
    assert used.count() == 1
    assert used.get().source == "api"


@pytest.mark.parametrize(
    "header",
    [
        {},
        bearer("svk_nonexist_secret"),
        bearer("not-a-token"),
        {"HTTP_AUTHORIZATION": "Basic dXNlcjpwYXNz"},
    ],
)
def test_missing_or_bad_token_is_401(client, db, header):
    assert client.get("/api/v1/me", **header).status_code == 401


def test_wrong_secret_with_a_real_prefix_is_refused(client, personas):
    issued = token_create(actor=None, user=personas.practitioner, name="t", days=3)
    forged = issued.text[:-4] + "AAAA"
    assert client.get("/api/v1/me", **bearer(forged)).status_code == 401
    assert AuditEvent.objects.filter(action="api_token.rejected", outcome="denied").exists()


def test_expired_revoked_and_deactivated_tokens_are_refused(client, personas):
    issued = token_create(actor=None, user=personas.practitioner, name="t", days=1)
    with time_machine.travel(issued.token.expires_at, tick=False):
        assert client.get("/api/v1/me", **bearer(issued.text)).status_code == 401
    token_revoke(actor=personas.practitioner, token=issued.token)
    assert client.get("/api/v1/me", **bearer(issued.text)).status_code == 401

    other = token_create(actor=None, user=personas.colleague, name="t", days=5)
    personas.colleague.is_active = False
    personas.colleague.save()
    assert client.get("/api/v1/me", **bearer(other.text)).status_code == 401


def test_token_is_stored_hashed(personas):
    issued = token_create(actor=None, user=personas.practitioner, name="t", days=3)
    secret = issued.text.split("_", 2)[2]
    row = ApiToken.objects.get(pk=issued.token.pk)
    assert secret not in row.secret_sha256
    assert row.prefix in issued.text


def test_no_token_for_an_account_without_second_factor(world):
    user = make_user("utan", world.avesta_school, Role.PRACTITIONER, mfa=False)
    with pytest.raises(ValidationError):
        token_create(actor=None, user=user, name="t", days=3)


def test_token_lifetime_is_capped(personas, settings):
    with pytest.raises(ValidationError):
        token_create(
            actor=None, user=personas.practitioner, name="t", days=settings.API_TOKEN_MAX_DAYS + 1
        )
    with pytest.raises(ValidationError):
        token_create(actor=None, user=personas.practitioner, name="t", days=0)


def test_token_list_shows_only_own_tokens(client, personas):
    mine = token_create(actor=None, user=personas.practitioner, name="mine", days=3)
    token_create(actor=None, user=personas.colleague, name="theirs", days=3)
    body = client.get("/api/v1/tokens", **bearer(mine.text)).json()
    assert [t["name"] for t in body] == ["mine"]


def test_revoke_token_trio(client, personas):
    """Outsider 404 (another user's token), read-only 403 (read scope), wrong method 405."""
    writer = token_create(
        actor=None, user=personas.practitioner, name="w", days=3, scope=Scope.WRITE
    )
    reader = token_create(
        actor=None, user=personas.practitioner, name="r", days=3, scope=Scope.READ
    )
    target = token_create(actor=None, user=personas.practitioner, name="target", days=3)
    stranger = token_create(
        actor=None, user=personas.colleague, name="s", days=3, scope=Scope.WRITE
    )
    url = f"/api/v1/tokens/{target.token.pk}"

    assert client.delete(url, **bearer(stranger.text)).status_code == 404
    assert client.delete(url, **bearer(reader.text)).status_code == 403
    assert client.post(url, **bearer(writer.text)).status_code == 405
    assert client.delete("/api/v1/tokens/999999", **bearer(writer.text)).status_code == 404
    response = client.delete(url, **bearer(writer.text))
    assert response.status_code == 200
    assert response.json()["revoked_at"] is not None
    assert client.get("/api/v1/me", **bearer(target.text)).status_code == 401


def test_me_is_read_only(client, personas):
    issued = token_create(
        actor=None, user=personas.practitioner, name="t", days=3, scope=Scope.WRITE
    )
    assert client.post("/api/v1/me", **bearer(issued.text)).status_code == 405


def test_session_cookies_do_not_open_the_api(client_for, personas):
    assert client_for(personas.practitioner).get("/api/v1/me").status_code == 401


class TestTokenPages:
    def test_list_trio(self, client_for, personas):
        assert_url = reverse("api:token_list")
        from tests.helpers import assert_trio

        assert_trio(
            client_for, assert_url, allowed=personas.practitioner, outsider=personas.no_role
        )

    def test_create_shows_the_token_once(self, client_for, personas):
        client = client_for(personas.practitioner, reauth=True)
        response = client.post(
            reverse("api:token_create"), {"name": "skript", "days": 7, "scope": "read"}
        )
        assert response.status_code == 200
        text = response.context["issued"].text
        assert text.startswith("svk_")
        assert Client().get("/api/v1/me", **bearer(text)).status_code == 200
        listing = client.get(reverse("api:token_list"))
        assert text not in listing.content.decode()

    def test_create_needs_reauthentication(self, client_for, personas):
        response = client_for(personas.practitioner).get(reverse("api:token_create"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_reauthenticate"))

    def test_revoke_someone_elses_token_is_404(self, client_for, personas):
        theirs = token_create(actor=None, user=personas.colleague, name="t", days=3)
        client = client_for(personas.practitioner)
        url = reverse("api:token_revoke", args=[theirs.token.pk])
        assert client.post(url).status_code == 404
        assert client.get(url).status_code == 405
        theirs.token.refresh_from_db()
        assert theirs.token.revoked_at is None
