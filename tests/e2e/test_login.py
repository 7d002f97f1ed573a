"""Logging in with password and TOTP in a real browser; WCAG 2.1 AA and the strict CSP on the
pages a person meets on the way, in Swedish and in English."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from samverkan.organisations.models import Role
from tests.conftest import World
from tests.e2e.browser import (
    ACTIVATE_TOTP_URL,
    LOGIN_URL,
    MFA_URL,
    RECOVERY_CODES_URL,
    assert_accessible,
    assert_language,
    fresh_totp_code,
    submit_code,
    submit_password,
    switch_language,
    wrong_totp_code,
)
from tests.e2e.conftest import Console
from tests.helpers import make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def check(page: Page, console: Console, what: str) -> None:
    """The page in the browser passes axe-core and has logged no CSP violation or error."""
    page.wait_for_load_state("load")
    assert_accessible(page, what)
    console.assert_clean()


def path_of(page: Page) -> str:
    return re.sub(r"^https?://[^/]+", "", page.url).split("?", 1)[0]


def test_public_pages(page: Page, console: Console) -> None:
    page.goto("/")
    assert_language(page, "sv")
    # Each language is offered in its own name, for those who cannot read the current one.
    expect(page.locator("form.language-form button[lang=en]")).to_have_text("English")
    check(page, console, "public home, Swedish")
    page.get_by_role("link", name=re.compile("Log in|Logga in")).click()
    assert path_of(page) == LOGIN_URL
    check(page, console, "login page, Swedish")

    switch_language(page, "en")
    assert path_of(page) == LOGIN_URL
    check(page, console, "login page, English")
    expect(page.locator("form.language-form button[lang=sv]")).to_have_text("Svenska")
    page.goto("/")
    assert_language(page, "en")
    check(page, console, "public home, English")


@pytest.mark.parametrize(
    ("role", "agency", "panel", "first_language", "second_language"),
    [
        (Role.ADMINISTRATOR, "avesta_other", "#h-admin", "sv", "en"),
        (Role.AUDITOR, "avesta_other", "#h-auditor", "en", "sv"),
        (Role.PRACTITIONER, "avesta_school", "#h-practitioner", "sv", "en"),
    ],
)
def test_login_with_password_and_totp_reaches_start_page(
    page: Page,
    console: Console,
    world: World,
    role: Role,
    agency: str,
    panel: str,
    first_language: str,
    second_language: str,
) -> None:
    # A user per test: a TOTP code is accepted once per user and period (replay protection).
    user = make_user(f"e2e-{role}", getattr(world, agency), role)
    page.goto("/")
    if first_language != "sv":
        switch_language(page, first_language)

    page.goto(LOGIN_URL)
    submit_password(page, user.username)
    assert path_of(page) == MFA_URL, "password alone must not log in"
    assert_language(page, first_language)
    expect(page.locator("input[name=code]")).to_be_visible()
    expect(page.locator("nav.user-menu")).to_have_count(0)
    check(page, console, f"second-factor page, {first_language}")

    submit_code(page, fresh_totp_code(user.totp_secret))  # type: ignore[attr-defined]
    assert path_of(page) == "/"
    expect(page.locator("h1")).to_contain_text(user.get_full_name())
    expect(page.locator("nav.user-menu")).to_contain_text(user.get_full_name())
    expect(page.locator(panel)).to_be_visible()
    assert_language(page, first_language)
    check(page, console, f"{role} start page, {first_language}")

    switch_language(page, second_language)
    assert path_of(page) == "/"
    expect(page.locator(panel)).to_be_visible()
    check(page, console, f"{role} start page, {second_language}")


def test_wrong_totp_code_does_not_log_in(page: Page, console: Console, world: World) -> None:
    user = make_user("e2e-wrong-code", world.avesta_school, Role.PRACTITIONER)
    page.goto(LOGIN_URL)
    submit_password(page, user.username)
    assert path_of(page) == MFA_URL

    submit_code(page, wrong_totp_code(user.totp_secret))  # type: ignore[attr-defined]
    assert path_of(page) == MFA_URL
    expect(page.locator("main")).to_contain_text(re.compile("Incorrect code|Felaktig kod"))
    check(page, console, "second-factor page with an error, Swedish")

    page.goto("/")
    expect(page.locator("nav.user-menu")).to_have_count(0)
    expect(page.get_by_role("link", name=re.compile("Log in|Logga in"))).to_be_visible()
    assert user.get_full_name() not in page.locator("body").inner_text()


def test_account_without_second_factor_must_activate_totp(
    page: Page, console: Console, world: World
) -> None:
    user = make_user("e2e-no-mfa", world.avesta_school, Role.PRACTITIONER, mfa=False)
    page.goto(LOGIN_URL)
    submit_password(page, user.username)
    assert path_of(page) == ACTIVATE_TOTP_URL
    check(page, console, "TOTP activation page, Swedish")

    for path in ("/", "/admin/users/", "/admin/agencies/", "/records/review/", "/account/tokens/"):
        page.goto(path)
        assert path_of(page) == ACTIVATE_TOTP_URL, f"{path} reachable without a second factor"

    switch_language(page, "en")
    assert path_of(page) == ACTIVATE_TOTP_URL
    check(page, console, "TOTP activation page, English")

    secret = page.input_value("#authenticator_secret")
    assert re.fullmatch(r"[A-Z2-7]{16,}", secret), secret
    submit_code(page, fresh_totp_code(secret))
    assert path_of(page) != ACTIVATE_TOTP_URL, "activation with a correct code failed"
    # Next come the new recovery codes, without a second password prompt: the factor was
    # enrolled moments ago (AccountAdapter.is_reauthentication_required).
    assert path_of(page) == RECOVERY_CODES_URL
    check(page, console, "recovery codes after TOTP activation, English")

    page.goto("/")
    assert path_of(page) == "/"
    expect(page.locator("h1")).to_contain_text(user.get_full_name())
    expect(page.locator("#h-practitioner")).to_be_visible()


def test_the_checks_themselves_catch_problems(page: Page, console: Console) -> None:
    """Guards the harness: axe and the CSP listener must notice a planted fault."""
    page.goto("/")
    page.evaluate(
        """() => {
            const input = document.createElement("input");
            document.querySelector("main").append(input);
            const script = document.createElement("script");
            script.textContent = "window.inlineRan = true";
            document.body.append(script);
        }"""
    )
    with pytest.raises(AssertionError, match="label"):
        assert_accessible(page, "public home with a planted unlabelled field")
    assert page.evaluate("window.inlineRan") is None, "inline script ran despite the CSP"
    page.wait_for_timeout(100)
    assert console.csp, "the planted inline script caused no CSP report"
    console.csp.clear()
