"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's live server.

Policy: without a browser these tests skip, unless ``SAMVERKAN_REQUIRE_BROWSER=1`` (CI sets it),
in which case they fail, so that a broken CI image cannot pass by skipping its browser tests.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    Playwright,
    Response,
    sync_playwright,
)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Long enough for a cold page load on a busy CI machine, short enough to fail fast.
TIMEOUT_MS = 15_000


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    """The one place that decides whether a missing browser skips or fails."""
    if CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    reason = f"{CHROMIUM} is missing (install Debian's chromium package)"
    if os.environ.get("SAMVERKAN_REQUIRE_BROWSER", "") not in ("", "0"):
        pytest.fail(f"SAMVERKAN_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    pytest.skip(f"browser tests skipped: {reason}; set SAMVERKAN_REQUIRE_BROWSER=1 to fail")


@pytest.fixture(scope="package")
def playwright(chromium_path: Path) -> Iterator[Playwright]:
    # Playwright's sync API keeps an asyncio event loop marked as running in this thread, so
    # Django's async-safety check would refuse every ORM call the test thread makes (fixtures
    # creating users, pytest-django flushing the database). Nothing here is really async.
    # Set only while the browser runs, so that the rest of the suite keeps the check.
    added = "DJANGO_ALLOW_ASYNC_UNSAFE" not in os.environ
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    try:
        with sync_playwright() as pw:
            yield pw
    finally:
        if added:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture(scope="package")
def browser(playwright: Playwright, chromium_path: Path) -> Iterator[Browser]:
    browser = playwright.chromium.launch(
        executable_path=str(chromium_path), headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@dataclass
class Console:
    """What the browser reported while a test ran."""

    csp: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def on_console(self, message: ConsoleMessage) -> None:
        if "content security policy" in message.text.lower():
            self.csp.append(f"{message.page.url if message.page else '?'}: {message.text}")
        elif message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(message.text)

    def on_response(self, response: Response) -> None:
        # Browsers ask for /favicon.ico on their own; the application declares no icon.
        if response.status >= 400 and not response.url.endswith("/favicon.ico"):
            self.errors.append(f"{response.status} {response.request.method} {response.url}")

    def assert_clean(self) -> None:
        assert not self.csp, "Content Security Policy violations:\n" + "\n".join(self.csp)
        assert not self.errors, "Errors in the browser:\n" + "\n".join(self.errors)


@pytest.fixture
def console() -> Console:
    return Console()


@pytest.fixture
def page(browser: Browser, live_server: Any, console: Console) -> Iterator[Page]:
    """A fresh browser profile (no cookies) per test; fails the test on any CSP violation."""
    context = browser.new_context(base_url=live_server.url, locale="sv-SE")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.on("console", console.on_console)
    page.on("response", console.on_response)
    page.on("pageerror", lambda error: console.errors.append(f"page error: {error}"))
    yield page
    context.close()
    console.assert_clean()
