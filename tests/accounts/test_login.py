"""Login with password and second factor, lockout, session timeouts, audit of each step."""

from __future__ import annotations

import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse

from samverkan.audit.models import AuditEvent
from samverkan.lib.totp import totp_code
from tests.helpers import PASSWORD, make_user

LOGIN = "/accounts/login/"
MFA = "/accounts/2fa/authenticate/"


def password_step(client: Client, username: str, password: str = PASSWORD):
    return client.post(LOGIN, {"login": username, "password": password})


def is_logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_password_then_totp_logs_in(client, personas):
    user = personas.practitioner
    response = password_step(client, "anna")
    assert response.status_code == 302
    assert response["Location"] == MFA
    assert not is_logged_in(client), "a password alone must not log in"
    assert client.get(reverse("web:home")).templates[0].name == "web/public_home.html"

    response = client.post(MFA, {"code": totp_code(user.totp_secret)})
    assert response.status_code == 302
    assert is_logged_in(client)
    home = client.get(reverse("web:home"))
    assert "web/home.html" in [t.name for t in home.templates]
    assert AuditEvent.objects.filter(action="auth.login", actor=user).count() == 1


def test_wrong_totp_code_does_not_log_in(client, personas):
    user = personas.practitioner
    password_step(client, "anna")
    wrong = f"{(int(totp_code(user.totp_secret)) + 1) % 10**6:06d}"
    response = client.post(MFA, {"code": wrong})
    assert response.status_code == 200
    assert not is_logged_in(client)
    assert AuditEvent.objects.filter(action="mfa.authentication_failed", actor=user).exists()


def test_a_used_code_cannot_be_replayed(personas):
    user = personas.practitioner
    code = totp_code(user.totp_secret)
    first, second = Client(), Client()
    password_step(first, "anna")
    first.post(MFA, {"code": code})
    assert is_logged_in(first)
    password_step(second, "anna")
    second.post(MFA, {"code": code})
    assert not is_logged_in(second)


def test_account_without_second_factor_can_only_enrol(client, world):
    from samverkan.organisations.models import Role

    make_user("nyanstalld", world.avesta_school, Role.PRACTITIONER, mfa=False)
    response = password_step(client, "nyanstalld")
    assert response.status_code == 302
    enrol = reverse("mfa_activate_totp")
    for url in (reverse("web:home"), reverse("api:token_list"), reverse("mfa_index") + "../x/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == enrol
    assert client.get(enrol).status_code == 200


def test_enrolling_totp_opens_the_application(client, world):
    from samverkan.organisations.models import Role

    make_user("nyanstalld", world.avesta_school, Role.PRACTITIONER, mfa=False)
    password_step(client, "nyanstalld")
    page = client.get(reverse("mfa_activate_totp"))
    secret = page.context["form"].secret
    response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert response.status_code == 302
    assert client.get(reverse("web:home")).status_code == 200
    assert AuditEvent.objects.filter(action="mfa.authenticator_added").exists()


def test_the_last_second_factor_cannot_be_removed(client_for, personas):
    client = client_for(personas.practitioner, reauth=True)
    response = client.post(reverse("mfa_deactivate_totp"))
    from allauth.mfa.models import Authenticator

    assert Authenticator.objects.filter(user=personas.practitioner, type="totp").exists()
    assert response.status_code in (200, 302)


def test_six_wrong_passwords_lock_the_account_out(client, personas):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = password_step(client, "anna", "wrong password")
        assert response.status_code in (200, 429)
    # Locked: even the right password is refused now, and no second-factor step is offered.
    response = password_step(client, "anna")
    assert response.status_code == 429
    assert not is_logged_in(client)
    assert MFA not in response.get("Location", "")
    assert AuditEvent.objects.filter(action="auth.locked_out", actor=personas.practitioner).exists()
    failed = AuditEvent.objects.filter(action="auth.login_failed", actor=personas.practitioner)
    assert failed.count() >= settings.AXES_FAILURE_LIMIT


def test_lockout_is_per_account_and_ignores_case(client, personas):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        password_step(client, "ANNA", "wrong password")
    assert password_step(Client(), "anna").status_code == 429
    assert password_step(Client(), "bertil").status_code == 302


def test_lockout_expires_after_the_cool_off(client, personas):
    with time_machine.travel("2026-01-01 10:00", tick=False):
        for _ in range(settings.AXES_FAILURE_LIMIT):
            password_step(client, "anna", "wrong password")
        assert password_step(Client(), "anna").status_code == 429
    with time_machine.travel("2026-01-01 10:16", tick=False):
        assert password_step(Client(), "anna").status_code == 302


def test_failed_login_for_unknown_name_stores_no_name(client, db):
    password_step(client, "19121212-1212", "whatever password")
    event = AuditEvent.objects.filter(action="auth.login_failed").latest("id")
    assert event.actor_id is None
    assert "1212" not in str(event.details) + event.object_id


def test_idle_session_ends(client_for, personas):
    with time_machine.travel("2026-01-01 09:00", tick=False) as traveller:
        client = client_for(personas.practitioner)
        assert client.get(reverse("web:home")).status_code == 200
        traveller.shift(settings.SESSION_IDLE_TIMEOUT - 120)
        assert client.get(reverse("api:token_list")).status_code == 200
        traveller.shift(settings.SESSION_IDLE_TIMEOUT + 1)
        response = client.get(reverse("api:token_list"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
        assert not is_logged_in(client)
    assert AuditEvent.objects.filter(action="auth.session_expired", details__reason="idle").exists()


def test_session_has_an_absolute_limit(client_for, personas):
    with time_machine.travel("2026-01-01 07:00", tick=False) as traveller:
        client = client_for(personas.practitioner)
        client.get(reverse("web:home"))
        # Keep the session busy: never idle, but past the absolute limit.
        step = settings.SESSION_IDLE_TIMEOUT // 2
        for _ in range(settings.SESSION_ABSOLUTE_TIMEOUT // step):
            traveller.shift(step)
            client.get(reverse("web:home"))
        traveller.shift(step)
        response = client.get(reverse("api:token_list"))
        assert response.status_code == 302
        assert not is_logged_in(client)


def test_logout_is_post_only_and_audited(client_for, personas):
    client = client_for(personas.practitioner)
    assert client.get(reverse("account_logout")).status_code in (200, 405)
    assert is_logged_in(client)
    client.post(reverse("account_logout"))
    assert not is_logged_in(client)
    assert AuditEvent.objects.filter(action="auth.logout", actor=personas.practitioner).exists()


def test_public_sign_up_is_closed(client, db):
    response = client.post(
        "/accounts/signup/",
        {
            "username": "x",
            "email": "x@example.invalid",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    from samverkan.accounts.models import User

    assert not User.objects.filter(username="x").exists()
    assert response.status_code in (200, 403)


def test_second_factor_guessing_is_rate_limited(client, personas):
    user = personas.practitioner
    password_step(client, "anna")
    right = totp_code(user.totp_secret)
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    for _ in range(10):
        client.post(MFA, {"code": wrong})
    # Now even the right code is refused: the limit, not the code, decides.
    response = client.post(MFA, {"code": right})
    assert not is_logged_in(client)
    assert response.status_code in (200, 429)


def test_recovery_codes_right_after_enrolment_need_no_second_password(client, world):
    from samverkan.organisations.models import Role

    make_user("nyanstalld", world.avesta_school, Role.PRACTITIONER, mfa=False)
    with time_machine.travel("2026-03-01 10:00", tick=False) as traveller:
        password_step(client, "nyanstalld")
        secret = client.get(reverse("mfa_activate_totp")).context["form"].secret
        client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
        assert client.get(reverse("mfa_view_recovery_codes")).status_code == 200
        # Later the same page asks for the password again, as every sensitive page does.
        traveller.shift(settings.ACCOUNT_REAUTHENTICATION_TIMEOUT + 60)
        response = client.get(reverse("mfa_view_recovery_codes"))
        assert response.status_code == 302
        assert reverse("account_reauthenticate") in response["Location"]


def test_lockout_records_keep_no_typed_name(client, db):
    from axes.models import AccessAttempt

    password_step(client, "19121212-1212", "whatever password")
    stored = " ".join(AccessAttempt.objects.values_list("username", flat=True))
    assert "1212" not in stored
