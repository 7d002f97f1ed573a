"""Steps and checks shared by the browser tests."""

from __future__ import annotations

import time

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

from samverkan.lib.totp import totp_code
from tests.helpers import PASSWORD

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
LOGIN_URL = "/accounts/login/"
MFA_URL = "/accounts/2fa/authenticate/"
ACTIVATE_TOTP_URL = "/accounts/2fa/totp/activate/"
REAUTHENTICATE_URL = "/accounts/reauthenticate/"
RECOVERY_CODES_URL = "/accounts/2fa/recovery-codes/"

_axe = Axe()


def assert_accessible(page: Page, what: str) -> None:
    """axe-core, restricted to the WCAG 2.0/2.1 A and AA rules, finds nothing on the page."""
    results = _axe.run(
        page,
        options={
            "runOnly": {"type": "tag", "values": WCAG_TAGS},
            "resultTypes": ["violations"],
        },
    )
    assert results.violations_count == 0, (
        f"{what} ({page.url}, lang={page.get_attribute('html', 'lang')}):\n"
        + results.generate_report()
    )


def assert_language(page: Page, code: str) -> None:
    assert page.get_attribute("html", "lang") == code, f"{page.url} is not in {code!r}"


def switch_language(page: Page, code: str) -> None:
    """Press the language button in the header, as a person would."""
    with page.expect_navigation():
        page.locator(f"form.language-form button[value='{code}']").click()
    assert_language(page, code)


def fresh_totp_code(secret: str, *, margin: float = 3.0) -> str:
    """The current code, waiting for the next period when this one is about to end.

    allauth accepts only the current period, so a code typed in the last moment of one could
    expire on its way to the server and make the test flaky.
    """
    remaining = 30 - time.time() % 30
    if remaining < margin:
        time.sleep(remaining + 0.1)
    return totp_code(secret)


def wrong_totp_code(secret: str) -> str:
    """A code that is valid in no period near now."""
    now = time.time()
    near = {totp_code(secret, at=now + delta) for delta in (-60, -30, 0, 30, 60)}
    return next(c for c in (f"{n:06d}" for n in range(0, 1_000_000, 7919)) if c not in near)


def submit_password(page: Page, username: str, password: str = PASSWORD) -> None:
    """Fill in the login form on the current page and send it."""
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.press("input[name=password]", "Enter")


def submit_code(page: Page, code: str) -> None:
    """Fill in the one-time code field on the current page and send its form."""
    page.fill("input[name=code]", code)
    with page.expect_navigation():
        page.press("input[name=code]", "Enter")
