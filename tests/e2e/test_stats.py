"""Issue 6 in the browser: a council member logs in, opens the statistics dashboard (the current
year, preliminary), chooses last year and downloads the CSV. The dashboard passes axe-core
(WCAG 2.1 A/AA) in Swedish and English, its charts load under the strict CSP, and no page logs
a CSP violation.

Elements are found by field names, table markup and link targets rather than visible text, so
the test does not depend on a translation.
"""

from __future__ import annotations

import re
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
from tests.stats.stats_data import make_facts, this_month

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


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
    month = this_month()
    last_year = month.replace(year=month.year - 1, month=3)
    make_facts(avesta, 3)  # withheld: fewer than five
    make_facts(avesta, 9, gender="M", raising_sector="police", closed_month=month)
    # Ten: a median needs at least STATS_MEDIAN_MINIMUM (10) values (issue 19).
    make_facts(avesta, 10, raised_month=last_year, days_to_consent=12, consents_obtained=1)

    log_in(page, personas.council_member)
    page.click("nav.main-nav a[href='/stats/']")
    assert path_of(page) == "/stats/"
    assert_language(page, "sv")
    sector = page.locator("table[data-stats-table='raised-sector-gender']")
    expect(sector).to_be_visible()
    expect(sector.locator("td[data-suppressed]").first).to_be_visible()
    expect(page.locator("td[data-value='3']")).to_have_count(0)
    expect(page.locator("[data-preliminary]")).to_be_visible()  # the current year, to date
    expect(page.locator("input[name=from], input[name=to]")).to_have_count(0)
    # Every chart on the page is an image that loaded (under its own SVG policy).
    charts = page.locator(".stats-chart img")
    assert charts.count() >= 8
    # Each chart builds the dashboard and writes its audit event: wait until all have come in.
    page.wait_for_function(
        "() => [...document.querySelectorAll('.stats-chart img')].every(img => img.complete)"
    )
    for index in range(charts.count()):
        loaded = charts.nth(index).evaluate("img => img.complete && img.naturalWidth > 0")
        assert loaded, charts.nth(index).get_attribute("src")
    assert_accessible(page, "the statistics dashboard")

    # Last year's figures: the period is a whole year, chosen in the form.
    page.select_option("select[name=year]", str(last_year.year))
    with page.expect_navigation():
        page.locator("form.stats-filter button[type=submit]").click()
    assert f"year={last_year.year}" in page.url
    expect(page.locator("[data-preliminary]")).to_have_count(0)
    outcomes = page.locator("table[data-stats-table='outcomes']")
    expect(outcomes.locator("tr[data-total] td[data-value='10']")).to_have_count(1)
    medians = page.locator("table[data-stats-table='medians']")
    expect(medians.locator("td[data-value='12.0'], td[data-value='12']").first).to_be_visible()

    with page.expect_download() as download_info:
        page.locator("a[href^='/stats/export.csv']").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    text = saved.read_text(encoding="utf-8-sig")
    assert f"{last_year.year}-01" in text
    assert ";10" in text

    switch_language(page, "en")
    expect(page.locator("table[data-stats-table='outcomes']")).to_be_visible()
    assert_accessible(page, "the statistics dashboard in English")
