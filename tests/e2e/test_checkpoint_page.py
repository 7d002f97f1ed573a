"""The public page of signed audit checkpoints in the browser: an anonymous visitor reaches it
from the public start page; it passes axe-core (WCAG 2.1 A/AA) in Swedish and English, logs no
CSP violation, and neither at 1366 px nor at 390 px does the page scroll sideways — the long
hashes and signatures break inside their cells, and the table scrolls in its own labelled
region if it must. The JSON feed beside it carries the same checkpoints.
"""

from __future__ import annotations

import json
import re

import pytest
from django.db import transaction
from playwright.sync_api import Page, expect

from samverkan.audit import checkpoints
from samverkan.audit.services import audit_record
from tests.e2e.browser import assert_accessible, assert_language, switch_language
from tests.e2e.conftest import Console

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PAGE = "/audit/checkpoints/"
FEED = "/audit/checkpoints.json"


def path_of(page: Page) -> str:
    return re.sub(r"^https?://[^/]+", "", page.url).split("?", 1)[0]


def page_fits(page: Page) -> bool:
    return bool(
        page.evaluate(
            "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        )
    )


def test_visitor_reads_the_checkpoints(page: Page, console: Console) -> None:
    made = []
    for _ in range(3):
        with transaction.atomic():
            audit_record(action="auth.login")
        made.append(checkpoints.checkpoint_make())
    newest = made[-1]

    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto("/")
    with page.expect_navigation():
        page.click(f"main a[href='{PAGE}']")
    assert path_of(page) == PAGE
    assert_language(page, "sv")
    table = page.locator("table.checkpoints")
    expect(table.locator("tbody tr")).to_have_count(3)
    expect(table.locator("tbody tr").first).to_contain_text(newest.signature)
    expect(page.locator("main")).to_contain_text(checkpoints.public_key_b64())
    assert page_fits(page), "the checkpoints page is wider than a 1366 px screen"
    assert_accessible(page, "the checkpoints, Swedish, 1366 px")
    console.assert_clean()

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert page_fits(page), "the page scrolls sideways at 390 px"
    region = page.locator("div.table-region[role=region]:has(table.checkpoints)")
    expect(region).to_have_attribute("aria-labelledby", "checkpoints-caption")
    assert_accessible(page, "the checkpoints, Swedish, 390 px")

    switch_language(page, "en")
    expect(page.locator("h1")).to_have_text("Checkpoints of the audit log")
    assert page_fits(page), "the English page scrolls sideways at 390 px"
    assert_accessible(page, "the checkpoints, English, 390 px")
    console.assert_clean()

    feed = page.request.get(FEED)
    assert feed.ok
    assert feed.headers["content-type"] == "application/json"
    data = json.loads(feed.text())
    assert [c["signature"] for c in data["checkpoints"]] == [c.signature for c in reversed(made)]
    assert data["public_key"] == checkpoints.public_key_b64()
