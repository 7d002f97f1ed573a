"""The data-protection officer's one audit log page in the browser: reached from the start page,
it passes axe-core (WCAG 2.1 A/AA) in Swedish and English, logs no CSP violation, fits a
1366 px screen, and at 390 px the page itself does not scroll sideways — the table scrolls
inside its own labelled region. The old /audit/ address leads to the same page.
"""

from __future__ import annotations

import re

import pytest
from django.db import transaction
from playwright.sync_api import Page, expect

from samverkan.accounts.models import User
from samverkan.audit.models import Outcome
from samverkan.audit.services import audit_record
from tests.conftest import World
from tests.e2e.browser import (
    LOGIN_URL,
    MFA_URL,
    assert_accessible,
    assert_language,
    fresh_totp_code,
    submit_code,
    submit_password,
    switch_language,
)
from tests.e2e.conftest import Console

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LOG_URL = "/records/review/"


def path_of(page: Page) -> str:
    return re.sub(r"^https?://[^/]+", "", page.url).split("?", 1)[0]


def log_in(page: Page, user: User) -> None:
    page.goto(LOGIN_URL)
    submit_password(page, user.username)
    assert path_of(page) == MFA_URL, "password alone must not log in"
    submit_code(page, fresh_totp_code(user.totp_secret))  # type: ignore[attr-defined]
    assert path_of(page) == "/"


def page_fits(page: Page) -> bool:
    return bool(
        page.evaluate(
            "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        )
    )


def test_auditor_reads_the_audit_log_in_words(
    page: Page, console: Console, personas, world: World
) -> None:
    with transaction.atomic():
        for user, agency in ((personas.practitioner, world.avesta_school),) * 3 + (
            (personas.other_agency, world.avesta_social),
        ):
            audit_record(action="entry.viewed", actor=user, agency=agency, legal_basis="own_agency")
        audit_record(action="case.view_denied", actor=personas.outsider, outcome=Outcome.DENIED)
        audit_record(action="user.viewed", actor=personas.admin, obj=personas.colleague)

    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page, personas.auditor)
    page.click(f"#h-auditor ~ p a[href='{LOG_URL}']")
    assert path_of(page) == LOG_URL
    assert_language(page, "sv")
    events = page.locator("table.log-events")
    expect(events).to_be_visible()
    expect(events).to_contain_text("Läste journalanteckningar")
    expect(page.locator("time.nowrap").first).to_be_visible()
    assert page_fits(page), "the audit log is wider than a 1366 px screen"
    assert_accessible(page, "the audit log, Swedish, 1366 px")
    console.assert_clean()

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert page_fits(page), "the page scrolls sideways at 390 px"
    region = page.locator("div.table-region[role=region]:has(table.log-events)")
    expect(region).to_have_attribute("aria-labelledby", "events-caption")
    assert_accessible(page, "the audit log, Swedish, 390 px")

    switch_language(page, "en")
    expect(events).to_contain_text("Read journal entries")
    assert_accessible(page, "the audit log, English, 390 px")
    console.assert_clean()

    page.goto("/audit/?action=entry.")
    assert path_of(page) == LOG_URL
    assert "action=entry." in page.url
