"""Issue 6 in the browser: a council member logs in, opens the statistics dashboard, changes the
period and downloads the CSV. The dashboard passes axe-core (WCAG 2.1 A/AA) in Swedish and
English, its charts load under the strict CSP, and no page logs a CSP violation.

Elements are found by field names, table markup and link targets rather than visible text, so
the test does not depend on a translation.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from samverkan.accounts.models import User
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
from tests.stats.stats_data import THIS_MONTH, make_facts

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LAST_YEAR = date(THIS_MONTH.year - 1, 3, 1)


def path_of(page: Page) -> str:
    return re.sub(r"^https?://[^/]+", "", page.url).split("?", 1)[0]


def log_in(page: Page, user: User) -> None:
    page.goto(LOGIN_URL)
    submit_password(page, user.username)
    assert path_of(page) == MFA_URL, "password alone must not log in"
    submit_code(page, fresh_totp_code(user.totp_secret))  # type: ignore[attr-defined]
    assert path_of(page) == "/"


def test_council_member_reads_the_dashboard_and_downloads_it(
    page: Page, personas, world: World, tmp_path: Path
) -> None:
    avesta = world.avesta_group.municipality
    make_facts(avesta, 3)  # withheld: fewer than five
    make_facts(avesta, 9, gender="M", raising_sector="police", closed_month=THIS_MONTH)
    make_facts(avesta, 7, raised_month=LAST_YEAR, days_to_consent=12, consents_obtained=1)

    log_in(page, personas.council_member)
    page.click("nav.main-nav a[href='/stats/']")
    assert path_of(page) == "/stats/"
    assert_language(page, "sv")
    sector = page.locator("table[data-stats-table='raised-sector-gender']")
    expect(sector).to_be_visible()
    expect(sector.locator("td[data-suppressed]").first).to_be_visible()
    expect(page.locator("td[data-value='3']")).to_have_count(0)
    # Every chart on the page is an image that loaded (under its own SVG policy).
    charts = page.locator(".stats-chart img")
    assert charts.count() >= 8
    for index in range(charts.count()):
        loaded = charts.nth(index).evaluate("img => img.complete && img.naturalWidth > 0")
        assert loaded, charts.nth(index).get_attribute("src")
    assert_accessible(page, "the statistics dashboard")

    # Last year's figures: the period changes through the form.
    page.fill("input[name=from]", f"{LAST_YEAR.year}-01")
    page.fill("input[name=to]", f"{LAST_YEAR.year}-12")
    with page.expect_navigation():
        page.locator("form.stats-filter button[type=submit]").click()
    assert f"from={LAST_YEAR.year}-01" in page.url
    status = page.locator("table[data-stats-table='status']")
    expect(status.locator("tr[data-total] td[data-value='7']")).to_have_count(1)
    medians = page.locator("table[data-stats-table='medians']")
    expect(medians.locator("td[data-value='12.0'], td[data-value='12']").first).to_be_visible()

    with page.expect_download() as download_info:
        page.locator("a[href^='/stats/export.csv']").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    text = saved.read_text(encoding="utf-8-sig")
    assert f"{LAST_YEAR.year}-01" in text
    assert ";7" in text

    switch_language(page, "en")
    expect(page.locator("table[data-stats-table='status']")).to_be_visible()
    assert_accessible(page, "the statistics dashboard in English")
