"""The guardian portal in Chromium: a guardian logs in with a code sent by e-mail, reads a consent
in force, withdraws it after confirming, and reads the access log; another signs a pending
consent with the development e-ID. Every portal page passes axe-core (WCAG 2.1 A/AA), logs no
Content-Security-Policy violation and needs no JavaScript of its own.

The live server runs in a thread of this process, with the in-memory mail backend of the test
settings, so the code is read from ``django.core.mail.outbox``.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import Page, expect

from samverkan.cases.models import Case, InformationCategory
from samverkan.cases.services import case_raise, guardian_add, team_add
from samverkan.consent.models import (
    Consent,
    ConsentSignature,
    ConsentWithdrawal,
    RequiredSigner,
    SignatureMethod,
    WithdrawalMethod,
)
from samverkan.consent.services import consent_create, signature_record
from samverkan.disclosure import selectors as disclosure_selectors
from tests.conftest import Personas, World
from tests.e2e.browser import assert_accessible
from tests.e2e.conftest import Console
from tests.helpers import youth_number

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Fictional but valid in form; the youth is 14 in any year (issue 19).
YOUTH_NUMBER = youth_number(14)
GUARDIAN_1_NUMBER = "19800101-1231"
GUARDIAN_2_NUMBER = "19820202-4561"
GUARDIAN_1_EMAIL = "maria@example.invalid"
GUARDIAN_2_EMAIL = "olof@example.invalid"


def check(page: Page, console: Console, what: str) -> None:
    page.wait_for_load_state("load")
    assert_accessible(page, what)
    console.assert_clean()
    # The portal's pages carry no script at all: everything works without JavaScript.
    assert page.locator("script").count() == 0, what


def path_of(page: Page) -> str:
    return re.sub(r"^https?://[^/]+", "", page.url).split("?", 1)[0]


def submit(page: Page, form: str, button: str = "button[type=submit]") -> None:
    with page.expect_navigation():
        page.locator(f"{form} {button}").first.click()


def category(sector: str, code: str) -> InformationCategory:
    # A browser test's flush empties the seeded lists; put back what this test needs.
    found, _ = InformationCategory.objects.get_or_create(
        sector=sector, code=code, defaults={"label_sv": code, "label_en": code}
    )
    return found


def family_case(personas: Personas, world: World) -> Case:
    case = case_raise(
        actor=personas.practitioner,
        group=world.avesta_group,
        agency=world.avesta_school,
        identity_number=YOUTH_NUMBER,
        name="Kalle Testberg",
        gender="M",
        reason="Hög frånvaro sedan höstlovet.",
    ).case
    team_add(
        actor=personas.coordinator,
        case=case,
        user=personas.other_agency,
        agency=world.avesta_social,
    )
    for name, number, email in (
        ("Maria Testberg", GUARDIAN_1_NUMBER, GUARDIAN_1_EMAIL),
        ("Olof Testberg", GUARDIAN_2_NUMBER, GUARDIAN_2_EMAIL),
    ):
        guardian_add(
            actor=personas.practitioner,
            case=case,
            name=name,
            has_custody=True,
            identity_number=number,
            email=email,
        )
    return case


def new_consent(personas: Personas, world: World, case: Case) -> Consent:
    today = timezone.localdate()
    return consent_create(
        actor=personas.practitioner,
        case=case,
        agency_ids=[world.avesta_school.pk, world.avesta_social.pk],
        category_ids=[
            category("school", "attendance").pk,
            category("social_services", "assessment").pk,
        ],
        valid_from=today,
        valid_until=today + timedelta(days=90),
    )


def test_a_guardian_logs_in_by_code_and_withdraws_a_consent(
    page: Page, console: Console, personas: Personas, world: World
) -> None:
    case = family_case(personas, world)
    consent = new_consent(personas, world, case)
    for signer in RequiredSigner.objects.filter(consent=consent):
        signature_record(
            actor=personas.practitioner, signer=signer, method=SignatureMethod.IN_PERSON
        )
    # Someone at social services reads the case: the access log will show it.
    disclosure_selectors.case_open(viewer=personas.other_agency, pk=case.pk)

    page.goto("/portal/")
    assert path_of(page) == "/portal/login/"
    check(page, console, "portal login")

    mail.outbox.clear()
    page.fill("input[name=email]", GUARDIAN_1_EMAIL)
    submit(page, "form[action='/portal/login/']")
    assert path_of(page) == "/portal/login/code/"
    assert "example" not in page.url
    check(page, console, "portal code page")
    assert len(mail.outbox) == 1
    code = re.search(r"\b(\d{6})\b", str(mail.outbox[0].body))
    assert code is not None

    page.fill("input[name=code]", code.group(1))
    submit(page, "form[action='/portal/login/code/']")
    assert path_of(page) == "/portal/consents/"
    expect(page.locator("main")).to_contain_text(world.avesta_social.name)
    check(page, console, "portal consent list")

    page.locator(f"main a[href='/portal/consents/{consent.pk}/']").click()
    assert path_of(page) == f"/portal/consents/{consent.pk}/"
    expect(page.locator("main")).to_contain_text(world.avesta_school.name)
    check(page, console, "portal consent page")
    assert GUARDIAN_1_NUMBER[-4:] not in page.content()
    assert GUARDIAN_2_NUMBER[-4:] not in page.content()

    page.locator(f"main a[href='/portal/consents/{consent.pk}/withdraw/']").click()
    assert path_of(page) == f"/portal/consents/{consent.pk}/withdraw/"
    check(page, console, "portal withdrawal confirmation")
    assert not ConsentWithdrawal.objects.exists()

    submit(page, f"form[action='/portal/consents/{consent.pk}/withdraw/']")
    assert path_of(page) == f"/portal/consents/{consent.pk}/"
    withdrawal = ConsentWithdrawal.objects.get(consent=consent)
    assert withdrawal.method == WithdrawalMethod.PORTAL
    expect(page.locator(f"main a[href='/portal/consents/{consent.pk}/withdraw/']")).to_have_count(0)
    check(page, console, "portal consent page after withdrawal")

    page.locator("nav.user-menu a[href='/portal/access-log/']").click()
    assert path_of(page) == "/portal/access-log/"
    expect(page.locator("main table")).to_contain_text(world.avesta_social.name)
    assert personas.other_agency.last_name not in page.locator("main").inner_text()
    check(page, console, "portal access log")

    with page.expect_navigation():
        page.locator("nav.user-menu form button[type=submit]").click()
    assert path_of(page) == "/portal/login/"
    page.goto("/portal/consents/")
    assert path_of(page) == "/portal/login/"


def test_a_guardian_logs_in_and_signs_with_the_development_eid(
    page: Page, console: Console, personas: Personas, world: World
) -> None:
    case = family_case(personas, world)
    consent = new_consent(personas, world, case)

    page.goto("/portal/login/")
    submit(page, "form[action='/portal/login/eid/']")
    assert path_of(page) == "/portal/eid/"
    check(page, console, "e-ID waiting page")

    page.locator("main a[href^='/portal/eid/dev/']").click()
    assert path_of(page).startswith("/portal/eid/dev/")
    check(page, console, "development e-ID page")
    page.fill("input[name=identity_number]", GUARDIAN_2_NUMBER)
    submit(page, "main form", "button[value=approve]")
    assert GUARDIAN_2_NUMBER not in page.url
    page.locator("main a[href='/portal/eid/']").click()
    submit(page, "form[action='/portal/eid/']")
    assert path_of(page) == "/portal/consents/"

    page.goto(f"/portal/consents/{consent.pk}/")
    check(page, console, "pending consent page")
    submit(page, f"form[action='/portal/consents/{consent.pk}/sign/']")
    assert path_of(page) == "/portal/eid/"
    page.locator("main a[href^='/portal/eid/dev/']").click()
    expect(page.locator("main .token-text")).to_contain_text(world.avesta_school.name)
    check(page, console, "development e-ID signing page")
    page.fill("input[name=identity_number]", GUARDIAN_2_NUMBER)
    submit(page, "main form", "button[value=approve]")
    page.locator("main a[href='/portal/eid/']").click()
    submit(page, "form[action='/portal/eid/']")
    assert path_of(page) == f"/portal/consents/{consent.pk}/"
    signature = ConsentSignature.objects.get(signer__consent=consent)
    assert signature.method == SignatureMethod.ELECTRONIC
    check(page, console, "consent page after signing")
