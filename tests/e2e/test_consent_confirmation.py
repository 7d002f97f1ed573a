"""Issue 17's second staff confirmation in a real browser: where the deployment requires it, the
consent page says that the staff-recorded signatures await a second staff member, the
coordinator confirms them one by one, and the consent comes into force. axe-core (WCAG 2.1 A/AA)
finds nothing on the page in any of these states, and no page logs a CSP violation."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings
from django.utils import timezone
from playwright.sync_api import Page, expect

from samverkan.consent.models import ConsentSignature, RequiredSigner, SignatureMethod
from samverkan.consent.services import consent_create, signature_record
from tests.conftest import Personas, World
from tests.e2e.conftest import Console
from tests.e2e.test_consent_flow import check, log_in, submit
from tests.e2e.test_portal import category, family_case

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@override_settings(CONSENT_SIGNATURE_CONFIRMATION=True)
def test_a_second_staff_member_confirms_the_signatures(
    page: Page, live_server, console: Console, personas: Personas, world: World
) -> None:
    case = family_case(personas, world)
    attendance = category("school", "attendance")
    today = timezone.localdate()
    consent = consent_create(
        actor=personas.practitioner,
        case=case,
        agency_ids=[world.avesta_school.pk, world.avesta_social.pk],
        category_ids=[attendance.pk],
        valid_from=today,
        valid_until=today + dt.timedelta(days=90),
    )
    signers = list(RequiredSigner.objects.filter(consent=consent).order_by("order"))
    for signer in signers:
        signature_record(
            actor=personas.practitioner, signer=signer, method=SignatureMethod.IN_PERSON
        )

    log_in(page, personas.coordinator)
    page.goto(f"/consents/{consent.pk}/")
    main = page.locator("main")
    expect(main).to_contain_text("Väntar på bekräftelse av ytterligare en medarbetare")
    expect(page.locator("main .state-pending").first).to_be_visible()
    check(page, console, "the consent, awaiting confirmation")
    for signer in signers:
        submit(page, f"form[action='/consents/{consent.pk}/signers/{signer.pk}/confirm/'] button")
        check(page, console, "the consent after a confirmation")
    assert ConsentSignature.objects.filter(confirmed_by=personas.coordinator).count() == 2
    expect(page.locator("main .state-active").first).to_be_visible()
    expect(main).not_to_contain_text("Väntar på bekräftelse")
    page.goto(f"/consents/case/{case.pk}/")
    check(page, console, "the case's consents")
