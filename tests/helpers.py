"""Helpers shared by the tests: accounts as the invitation flow makes them, logins, the trio."""

from __future__ import annotations

import base64
import secrets

from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth.tokens import default_token_generator
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from samverkan.accounts.models import User
from samverkan.accounts.services import user_accept_invitation, user_invite
from samverkan.organisations.models import Agency, Role

PASSWORD = "correct horse battery staple 42"


def new_totp_secret() -> str:
    return base64.b32encode(secrets.token_bytes(20)).decode("ascii")


def make_user(
    username: str,
    agency: Agency | None,
    role: Role | None,
    *,
    mfa: bool = True,
    password: str = PASSWORD,
) -> User:
    """An account as the invitation flow creates it, with a password and (by default) TOTP."""
    if agency is None or role is None:
        user = User.objects.create(username=username, email=f"{username}@test.invalid")
    else:
        user = user_invite(
            actor=None,
            username=username,
            email=f"{username}@test.invalid",
            first_name=username.capitalize(),
            last_name="Testsson",
            agency=agency,
            role=role,
            send=False,
        )
    user_accept_invitation(
        user=user, token=default_token_generator.make_token(user), password=password
    )
    if mfa:
        secret = new_totp_secret()
        TOTP.activate(user, secret)
        user.totp_secret = secret  # type: ignore[attr-defined]
    return user


def login(client: Client, user: User) -> Client:
    """A session as after a completed password + second-factor login."""
    client.force_login(user, backend="allauth.account.auth_backends.AuthenticationBackend")
    return client


def reauthenticate(client: Client, password: str = PASSWORD) -> None:
    """Confirm the password again, as allauth asks before sensitive actions."""
    response = client.post(reverse("account_reauthenticate"), {"password": password})
    assert response.status_code == 302, response.content[:500]


def assert_trio(
    client_for,
    url: str,
    *,
    allowed: User,
    outsider: User,
    read_only: User | None = None,
    method: str = "get",
    wrong_method: str = "put",
    data: dict[str, object] | None = None,
) -> None:
    """The endpoint trio of DESIGN §5: outsider 404, read-only 403, wrong method 405.

    ``allowed`` must reach the endpoint (any status but 403/404/405) so that the trio cannot
    pass on an endpoint that refuses everyone.
    """

    def call(user: User, verb: str):
        c = client_for(user, reauth=True)
        return getattr(c, verb)(url, data or {})

    ok = call(allowed, method)
    assert ok.status_code not in (403, 404, 405), f"{allowed} got {ok.status_code} on {url}"
    assert call(outsider, method).status_code == 404, f"outsider reached {url}"
    if read_only is not None:
        assert call(read_only, method).status_code == 403, f"read-only user changed {url}"
    assert call(allowed, wrong_method).status_code == 405, f"{wrong_method} accepted on {url}"


def count_queries(client: Client, url: str) -> int:
    """Queries for one GET of ``url``; pin list pages with it (DESIGN §5)."""
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    return len(ctx.captured_queries)
