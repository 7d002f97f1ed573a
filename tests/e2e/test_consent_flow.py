"""Issue 4's browser acceptance test: the coordinator draws up a consent, downloads the form and
records both guardians' signatures (one scanned paper form, one in person); the social worker
then sees the school's entry with the explanation of why; a guardian withdraws in the portal; the
social worker's next page load no longer shows it. axe-core (WCAG 2.1 A/AA) finds nothing on any
of these pages, the portal's included, and no page logs a Content-Security-Policy violation.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core import mail
from playwright.sync_api import Browser, Page, expect

from samverkan.cases.models import Case, InformationCategory
from samverkan.cases.services import entry_add
from samverkan.consent.models import Consent, ConsentSignature, ConsentWithdrawal
from tests import scans
from tests.conftest import Personas, World
from tests.e2e.browser import (
    LOGIN_URL,
    assert_accessible,
    fresh_totp_code,
    submit_code,
    submit_password,
)
from tests.e2e.conftest import TIMEOUT_MS, Console
from tests.e2e.test_portal import GUARDIAN_1_EMAIL, category, family_case

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ENTRY = "Frånvaro 40 % i oktober, mest måndagar."
# A real scan: the upload check decodes it and refuses a few magic bytes.
PDF = scans.scan_pdf()


def check(page: Page, console: Console, what: str) -> None:
    page.wait_for_load_state("load")
    assert_accessible(page, what)
    console.assert_clean()


def path_of(page: Page) -> str:
    return re.sub(r"^https?://[^/]+", "", page.url).split("?", 1)[0]


def log_in(page: Page, user) -> None:
    page.goto(LOGIN_URL)
    submit_password(page, user.username)
    submit_code(page, fresh_totp_code(user.totp_secret))
    assert path_of(page) == "/"


def submit(page: Page, selector: str) -> None:
    with page.expect_navigation():
        page.locator(selector).first.click()


def new_page(browser: Browser, live_server, console: Console) -> Page:
    context = browser.new_context(base_url=live_server.url, locale="sv-SE")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.on("console", console.on_console)
    page.on("response", console.on_response)
    return page


def _draw_up_the_consent(
    page: Page, console: Console, world: World, case: Case, attendance: InformationCategory
) -> Consent:
    """School and social services, attendance."""
    page.goto(f"/consents/case/{case.pk}/")
    check(page, console, "the case's consents")
    page.check(f"input[name=agencies][value='{world.avesta_school.pk}']")
    page.check(f"input[name=agencies][value='{world.avesta_social.pk}']")
    page.check(f"input[name=categories][value='{attendance.pk}']")
    submit(page, "main form button[type=submit]")
    consent = Consent.objects.get(case=case)
    assert path_of(page) == f"/consents/{consent.pk}/"
    check(page, console, "the consent, pending")
    return consent


def _download_the_form(page: Page, consent: Consent, tmp_path: Path) -> None:
    """The form to print: a real PDF, as a download."""
    with page.expect_download() as download:
        page.locator(f"main a[href='/consents/{consent.pk}/form.pdf?lang=sv']").click()
    saved = tmp_path / "form.pdf"
    download.value.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF-")


def _record_both_signatures(page: Page, console: Console, consent: Consent, tmp_path: Path) -> None:
    """Guardian 1 signed on paper: the scan is uploaded. Guardian 2 signs in person."""
    first, second = list(consent.signers.order_by("order").values_list("pk", flat=True))
    scan = tmp_path / "underskrift.pdf"
    scan.write_bytes(PDF)
    form = f"form[action='/consents/{consent.pk}/signers/{first}/sign/']"
    page.check(f"{form} input[name='signer{first}-method'][value=paper]")
    page.set_input_files(f"{form} input[name='signer{first}-evidence']", str(scan))
    submit(page, f"{form} button[type=submit]")
    check(page, console, "the consent, one signature")
    assert ConsentSignature.objects.count() == 1
    form = f"form[action='/consents/{consent.pk}/signers/{second}/sign/']"
    page.check(f"{form} input[name='signer{second}-method'][value=in_person]")
    submit(page, f"{form} button[type=submit]")
    expect(page.locator("main .state-active").first).to_be_visible()
    check(page, console, "the consent, active")


def _guardian_withdraws_in_the_portal(guardian: Page, console: Console, consent: Consent) -> None:
    guardian.goto("/portal/login/")
    check(guardian, console, "portal login")
    mail.outbox.clear()
    guardian.fill("input[name=email]", GUARDIAN_1_EMAIL)
    submit(guardian, "form[action='/portal/login/'] button[type=submit]")
    code = re.search(r"\b(\d{6})\b", str(mail.outbox[-1].body))
    assert code is not None
    guardian.fill("input[name=code]", code.group(1))
    submit(guardian, "form[action='/portal/login/code/'] button[type=submit]")
    guardian.goto(f"/portal/consents/{consent.pk}/")
    check(guardian, console, "portal consent")
    guardian.locator(f"main a[href='/portal/consents/{consent.pk}/withdraw/']").click()
    check(guardian, console, "portal withdrawal confirmation")
    submit(guardian, f"form[action='/portal/consents/{consent.pk}/withdraw/'] button[type=submit]")
    assert ConsentWithdrawal.objects.filter(consent=consent).exists()
    check(guardian, console, "portal consent after withdrawal")


def test_consent_from_form_to_withdrawal(
    page: Page,
    browser: Browser,
    live_server,
    console: Console,
    personas: Personas,
    world: World,
    tmp_path,
) -> None:
    case = family_case(personas, world)
    attendance = category("school", "attendance")
    category("social_services", "assessment")
    entry_add(
        actor=personas.practitioner,
        case=case,
        agency=world.avesta_school,
        category=attendance,
        text=ENTRY,
    )

    log_in(page, personas.coordinator)
    consent = _draw_up_the_consent(page, console, world, case, attendance)
    _download_the_form(page, consent, tmp_path)
    _record_both_signatures(page, console, consent, tmp_path)

    # The social worker now sees the school's entry, and why.
    social = new_page(browser, live_server, console)
    log_in(social, personas.other_agency)
    social.goto(f"/cases/{case.pk}/")
    journal = social.locator("#h-journal").locator("xpath=..")
    expect(journal).to_contain_text(ENTRY)
    number = re.compile(rf"(#|nr ){consent.pk}\b")  # Swedish writes "samtycke nr 12"
    expect(journal.locator(".basis")).to_contain_text(number)
    check(social, console, "the case page with a shared entry")

    _guardian_withdraws_in_the_portal(new_page(browser, live_server, console), console, consent)

    # The social worker's next page load no longer shows the entry, and says why.
    social.reload()
    journal = social.locator("#h-journal").locator("xpath=..")
    expect(journal).not_to_contain_text(ENTRY)
    expect(journal).to_contain_text(number)
    check(social, console, "the case page after the withdrawal")
    # And the team was told.
    social.goto("/notifications/")
    expect(social.locator("main")).to_contain_text(number)
    check(social, console, "notifications")
