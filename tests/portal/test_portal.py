"""The guardian portal: login by e-mail code and by e-ID, the consents a subject may see, signing
with e-ID, withdrawal, the access log, and the security properties around them."""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import re
import time

import pytest
from django.apps import apps
from django.core import mail
from django.db import connection
from django.test import Client, TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import get_resolver, reverse
from django.utils import timezone

from samverkan.audit.models import AuditEvent
from samverkan.cases import selectors as case_selectors
from samverkan.cases.models import Guardian, GuardianLink
from samverkan.cases.services import case_raise, entry_add, guardian_add, team_add
from samverkan.consent.models import (
    Consent,
    ConsentSignature,
    ConsentWithdrawal,
    RequiredSigner,
    SignatureMethod,
    SignerKind,
    WithdrawalMethod,
)
from samverkan.consent.services import consent_create, signature_record
from samverkan.disclosure import selectors as disclosure_selectors
from samverkan.disclosure.facts import consent_queryset, facts_of
from samverkan.disclosure.policy import State, state_at
from samverkan.portal import selectors, services
from samverkan.portal import session as portal_session
from samverkan.portal.models import EidOrder, PortalLoginCode
from samverkan.portal.subjects import LoginRefusedError, PortalSubject
from tests.consent.conftest import (
    GUARDIAN_1_NUMBER,
    GUARDIAN_2_NUMBER,
    IDENTITY_NUMBERS,
    YOUTH_NAME,
)
from tests.helpers import login, make_user, youth_number

GUARDIAN_1_EMAIL = "maria@example.invalid"
GUARDIAN_2_EMAIL = "olof@example.invalid"
# Another family, in the same municipality.
# Between the signing age and 18 in any year: signs with e-ID alongside the guardian (issue 19).
OTHER_YOUTH_NUMBER = youth_number(16)
OTHER_GUARDIAN_NUMBER = "19750303-1234"
OTHER_GUARDIAN_EMAIL = "sara@example.invalid"
# Fictional, valid in form, not in the service.
STRANGER_NUMBER = "19900909-1233"


def portal_client() -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE="en")


def code_from_mail() -> str:
    assert mail.outbox, "no code was sent"
    match = re.search(r"\b(\d{6})\b", str(mail.outbox[-1].body))
    assert match is not None
    return match.group(1)


def request_code(client: Client, email: str):
    # The code is mailed after commit; the test's own transaction never commits.
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(reverse("portal:login"), {"email": email})


def log_in_by_code(client: Client, email: str) -> Client:
    mail.outbox.clear()
    response = request_code(client, email)
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:code")
    response = client.post(reverse("portal:code"), {"code": code_from_mail()})
    assert response.status_code == 302, response.content[:400]
    assert response["Location"] == reverse("portal:consent_list")
    return client


def approve_dev_order(client: Client, number: str) -> None:
    """Play the person in the development e-ID "app"."""
    order = client.session[portal_session.EID_ORDER]
    response = client.post(
        reverse("portal:eid_dev", args=[order["reference"]]),
        {"identity_number": number, "decision": "approve"},
    )
    assert response.status_code == 200
    assert "Approved" in response.content.decode()


def log_in_by_eid(client: Client, number: str):
    response = client.post(reverse("portal:eid_login"))
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:eid_wait")
    approve_dev_order(client, number)
    return client.post(reverse("portal:eid_wait"))


def sign_by_eid(client: Client, consent: Consent, number: str):
    response = client.post(reverse("portal:consent_sign", args=[consent.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:eid_wait")
    approve_dev_order(client, number)
    return client.post(reverse("portal:eid_wait"))


def state_of(consent: Consent) -> State:
    fresh = consent_queryset().get(pk=consent.pk)
    return state_at(facts_of(fresh), timezone.now())


@pytest.fixture
def other_family(personas, world) -> Consent:
    case = case_raise(
        actor=personas.practitioner,
        group=world.avesta_group,
        agency=world.avesta_school,
        identity_number=OTHER_YOUTH_NUMBER,
        name="Lisa Annanberg",
        gender="F",
        reason="Oro för skolk.",
        risk_factors=["high_absence"],
    ).case
    team_add(
        actor=personas.coordinator,
        case=case,
        user=personas.other_agency,
        agency=world.avesta_social,
    )
    guardian_add(
        actor=personas.practitioner,
        case=case,
        name="Sara Annanberg",
        has_custody=True,
        identity_number=OTHER_GUARDIAN_NUMBER,
        email=OTHER_GUARDIAN_EMAIL,
    )
    today = timezone.localdate()
    return consent_create(
        actor=personas.practitioner,
        case=case,
        agency_ids=[world.avesta_school.pk, world.avesta_social.pk],
        category_ids=[
            c.pk
            for c in apps.get_model("cases", "InformationCategory").objects.filter(
                code__in=["attendance", "assessment"]
            )
        ],
        valid_from=today,
        valid_until=today + dt.timedelta(days=60),
        youth_also_signs=True,
    )


# --- The GuardianLink change ---------------------------------------------------------------


def test_guardian_add_stores_a_keyed_hash_of_the_normalised_address(consent_case):
    link = consent_case.guardian_1
    assert link.email_hash == GuardianLink.hash_email(" Maria@Example.INVALID ")
    assert link.email_hash not in ("", GUARDIAN_1_EMAIL)
    assert GuardianLink.hash_email("  ") == ""


def test_the_migration_hashes_addresses_already_stored(consent_case):
    migration = importlib.import_module("samverkan.cases.migrations.0005_guardianlink_email_hash")
    GuardianLink.objects.filter(pk=consent_case.guardian_1.pk).update(email_hash="")
    migration.hash_addresses(apps, None)
    consent_case.guardian_1.refresh_from_db()
    assert consent_case.guardian_1.email_hash == GuardianLink.hash_email(GUARDIAN_1_EMAIL)


# --- Login by e-mail code ------------------------------------------------------------------


def test_a_guardian_logs_in_with_a_code_and_sees_the_consent(pending_consent, world):
    client = log_in_by_code(portal_client(), GUARDIAN_1_EMAIL)
    assert mail.outbox[-1].to == [GUARDIAN_1_EMAIL]
    page = client.get(reverse("portal:consent_list")).content.decode()
    assert f"Consent no. {pending_consent.pk} about {YOUTH_NAME}" in page
    assert world.avesta_school.name in page
    assert world.avesta_social.name in page
    assert "Waiting for signatures" in page
    detail = client.get(reverse("portal:consent_detail", args=[pending_consent.pk]))
    text = detail.content.decode()
    assert "You" in text
    assert "The other guardian" in text
    assert "Olof" not in text, "the other guardian's name is not shown"
    for number in IDENTITY_NUMBERS:
        assert number not in text
        assert number.replace("-", "") not in text


def test_the_answer_is_the_same_for_an_unknown_address(pending_consent):
    known, unknown = portal_client(), portal_client()
    mail.outbox.clear()
    first = request_code(known, GUARDIAN_1_EMAIL)
    second = request_code(unknown, "nobody@example.invalid")
    assert (first.status_code, first["Location"]) == (second.status_code, second["Location"])
    assert len(mail.outbox) == 1
    page_known = known.get(reverse("portal:code")).content.decode()
    page_unknown = unknown.get(reverse("portal:code")).content.decode()
    strip = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    assert strip.sub("", page_known) == strip.sub("", page_unknown)
    assert PortalLoginCode.objects.count() == 2


def test_no_code_goes_to_a_guardian_who_signs_nothing(pending_consent, personas, consent_case):
    guardian_add(
        actor=personas.practitioner,
        case=consent_case.case,
        name="Utan Vårdnad",
        has_custody=False,
        email="utan@example.invalid",
    )
    mail.outbox.clear()
    assert request_code(portal_client(), "utan@example.invalid").status_code == 302
    assert mail.outbox == []


def test_the_code_is_stored_only_as_a_keyed_hash(pending_consent):
    request_code(portal_client(), GUARDIAN_1_EMAIL)
    code = code_from_mail()
    row = PortalLoginCode.objects.get()
    assert code not in (row.code_hash, row.email_hash)
    assert GUARDIAN_1_EMAIL not in row.email_hash


def test_five_wrong_codes_lock_the_code(pending_consent):
    client = portal_client()
    mail.outbox.clear()
    request_code(client, GUARDIAN_1_EMAIL)
    right = code_from_mail()
    wrong = "000000" if right != "000000" else "111111"
    for attempt in range(1, 5):
        response = client.post(reverse("portal:code"), {"code": wrong})
        assert response.status_code == 200
        left = 5 - attempt
        expected = "1 more try." if left == 1 else f"{left} more tries."
        assert expected in response.content.decode()
    fifth = client.post(reverse("portal:code"), {"code": wrong})
    assert fifth.status_code == 302
    assert fifth["Location"] == reverse("portal:login")
    # The right code no longer helps: the challenge is gone, and the row is locked.
    assert client.post(reverse("portal:code"), {"code": right})["Location"] == reverse(
        "portal:login"
    )
    row = PortalLoginCode.objects.get()
    assert row.attempts == 5
    assert row.used_at is None
    with pytest.raises(LoginRefusedError) as refused:
        services.login_code_verify(challenge=str(row.uid), code=right, ip="127.0.0.1")
    assert refused.value.reason == "locked"
    assert portal_session.SUBJECT not in client.session
    assert AuditEvent.objects.filter(action="portal.login_refused", outcome="denied").count() >= 5


def test_an_expired_code_is_refused(pending_consent):
    client = portal_client()
    mail.outbox.clear()
    request_code(client, GUARDIAN_1_EMAIL)
    code = code_from_mail()
    PortalLoginCode.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    response = client.post(reverse("portal:code"), {"code": code})
    assert response["Location"] == reverse("portal:login")
    assert portal_session.SUBJECT not in client.session
    assert client.get(reverse("portal:consent_list"))["Location"] == reverse("portal:login")


def test_a_code_works_once(pending_consent):
    client = log_in_by_code(portal_client(), GUARDIAN_1_EMAIL)
    row = PortalLoginCode.objects.get()
    with pytest.raises(LoginRefusedError) as refused:
        services.login_code_verify(challenge=str(row.uid), code=code_from_mail(), ip="127.0.0.1")
    assert refused.value.reason == "missing"
    assert client.get(reverse("portal:consent_list")).status_code == 200


def test_code_requests_are_rate_limited_per_address_alike(pending_consent):
    for address in (GUARDIAN_1_EMAIL, "nobody@example.invalid"):
        for _ in range(services.CODES_PER_ADDRESS):
            assert request_code(portal_client(), address).status_code == 302
        refused = request_code(portal_client(), address)
        assert refused.status_code == 200
        assert "Too many attempts" in refused.content.decode()


def test_code_requests_are_rate_limited_per_client_address(pending_consent):
    client = portal_client()
    for n in range(services.CODE_REQUESTS_PER_IP):
        assert request_code(client, f"person{n}@example.invalid").status_code == 302
    assert request_code(client, "one-more@example.invalid").status_code == 200


def test_an_address_shared_by_two_guardians_tells_no_one_apart(pending_consent, consent_case):
    GuardianLink.objects.filter(pk=consent_case.guardian_2.pk).update(
        email_hash=GuardianLink.hash_email(GUARDIAN_1_EMAIL)
    )
    client = portal_client()
    mail.outbox.clear()
    request_code(client, GUARDIAN_1_EMAIL)
    response = client.post(reverse("portal:code"), {"code": code_from_mail()})
    assert response["Location"] == reverse("portal:login")
    assert portal_session.SUBJECT not in client.session


# --- Sessions ------------------------------------------------------------------------------


def test_the_session_key_changes_at_login_and_logout(pending_consent, consent_case):
    client = portal_client()
    client.get(reverse("portal:login"))
    request_code(client, GUARDIAN_1_EMAIL)
    before = client.session.session_key
    client.post(reverse("portal:code"), {"code": code_from_mail()})
    after = client.session.session_key
    assert before != after
    assert dict(client.session[portal_session.SUBJECT]) == {
        "kind": "guardian",
        "id": consent_case.guardian_1.guardian_id,
    }
    response = client.post(reverse("portal:logout"))
    assert response["Location"] == reverse("portal:login")
    assert client.session.session_key != after
    assert client.get(reverse("portal:consent_list"))["Location"] == reverse("portal:login")
    assert AuditEvent.objects.filter(action="portal.logout").exists()


def test_the_portal_session_ends_after_15_idle_minutes(pending_consent):
    client = log_in_by_code(portal_client(), GUARDIAN_1_EMAIL)
    session = client.session
    session[portal_session.SEEN] = time.time() - portal_session.IDLE_TIMEOUT_SECONDS - 1
    session.save()
    response = client.get(reverse("portal:consent_list"))
    assert response["Location"] == reverse("portal:login")
    assert AuditEvent.objects.filter(
        action="portal.session_expired", details__reason="idle"
    ).exists()
    assert client.get(reverse("portal:consent_list"))["Location"] == reverse("portal:login")


def test_a_portal_session_reaches_no_staff_page(pending_consent, consent_case):
    client = log_in_by_code(portal_client(), GUARDIAN_1_EMAIL)
    for url in (
        reverse("cases:list"),
        reverse("cases:detail", args=[consent_case.case.pk]),
        reverse("records:review"),
    ):
        response = client.get(url)
        assert response.status_code in (302, 404), url
        if response.status_code == 302:
            assert response["Location"].startswith(reverse("account_login")), url
    assert client.get("/api/v1/cases/").status_code in (401, 404)


def test_a_staff_session_grants_no_portal_access(client_for, personas, pending_consent):
    staff = client_for(personas.practitioner)
    for url in (
        reverse("portal:consent_list"),
        reverse("portal:consent_detail", args=[pending_consent.pk]),
        reverse("portal:access_log"),
    ):
        assert staff.get(url)["Location"] == reverse("portal:login"), url


def test_staff_middleware_leaves_the_portal_alone(world):
    """A staff account without a second factor is sent to enrol one everywhere — but not from
    the portal, whose pages a staff login does not concern."""
    no_factor = make_user("utan-mfa", world.avesta_school, None, mfa=False)
    client = login(Client(HTTP_ACCEPT_LANGUAGE="en"), no_factor)
    assert client.get(reverse("web:home")).status_code == 302
    assert client.get(reverse("portal:login")).status_code == 200


def test_an_idle_staff_session_is_neither_ended_nor_renewed_by_the_portal(client_for, personas):
    staff = client_for(personas.practitioner)
    staff.get(reverse("cases:list"))
    session = staff.session
    stale = time.time() - 10_000
    session["samverkan_last_seen"] = stale
    session.save()
    assert staff.get(reverse("portal:login")).status_code == 200
    assert staff.session["samverkan_last_seen"] == stale
    assert "_auth_user_id" in staff.session
    # The next staff page ends it as before.
    assert staff.get(reverse("cases:list"))["Location"].startswith(reverse("account_login"))


# --- Who sees what -------------------------------------------------------------------------


def test_another_familys_consent_answers_404(pending_consent, other_family):
    client = log_in_by_code(portal_client(), GUARDIAN_1_EMAIL)
    assert client.get(reverse("portal:consent_detail", args=[other_family.pk])).status_code == 404
    assert client.get(reverse("portal:consent_withdraw", args=[other_family.pk])).status_code == 404
    assert (
        client.post(reverse("portal:consent_withdraw", args=[other_family.pk]), {"confirm": "yes"})
    ).status_code == 404
    assert client.post(reverse("portal:consent_sign", args=[other_family.pk])).status_code == 404
    assert client.get(reverse("portal:consent_detail", args=[999_999])).status_code == 404
    assert not ConsentWithdrawal.objects.filter(consent=other_family).exists()
    listing = client.get(reverse("portal:consent_list")).content.decode()
    assert "Lisa" not in listing
    assert f"no. {other_family.pk} " not in listing


def test_only_required_signers_see_a_consent(pending_consent, personas, consent_case):
    """A guardian without custody is no signer: no consent, no access log."""
    guardian_add(
        actor=personas.practitioner,
        case=consent_case.case,
        name="Utan Vårdnad",
        has_custody=False,
        identity_number=STRANGER_NUMBER,
        email="utan@example.invalid",
    )
    client = portal_client()
    response = log_in_by_eid(client, STRANGER_NUMBER)
    assert response["Location"] == reverse("portal:login")
    assert portal_session.SUBJECT not in client.session
    link = GuardianLink.objects.get(email_hash=GuardianLink.hash_email("utan@example.invalid"))
    subject = PortalSubject("guardian", link.guardian_id)
    assert selectors.consent_list(subject=subject) == []
    assert selectors.access_log(subject=subject, page_number=None).rows == []


@pytest.mark.parametrize(
    ("name", "args", "method"),
    [
        ("portal:home", [], "post"),
        ("portal:login", [], "put"),
        ("portal:code", [], "delete"),
        ("portal:eid_login", [], "get"),
        ("portal:logout", [], "get"),
        ("portal:eid_wait", [], "put"),
        ("portal:eid_cancel", [], "get"),
        ("portal:consent_list", [], "post"),
        ("portal:consent_detail", ["pk"], "post"),
        ("portal:consent_sign", ["pk"], "get"),
        ("portal:consent_withdraw", ["pk"], "put"),
        ("portal:access_log", [], "post"),
    ],
)
def test_wrong_method_405(pending_consent, name, args, method):
    client = log_in_by_code(portal_client(), GUARDIAN_1_EMAIL)
    url = reverse(name, args=[pending_consent.pk if a == "pk" else a for a in args])
    assert getattr(client, method)(url).status_code == 405


def test_the_dev_page_refuses_wrong_methods(pending_consent):
    client = log_in_by_code(portal_client(), GUARDIAN_1_EMAIL)
    client.post(reverse("portal:consent_sign", args=[pending_consent.pk]))
    reference = client.session[portal_session.EID_ORDER]["reference"]
    assert client.put(reverse("portal:eid_dev", args=[reference])).status_code == 405


# --- Signing with e-ID ---------------------------------------------------------------------


def test_both_guardians_sign_with_eid_and_the_consent_comes_into_force(pending_consent):
    first = log_in_by_code(portal_client(), GUARDIAN_1_EMAIL)  # a code login still signs by e-ID
    response = sign_by_eid(first, pending_consent, GUARDIAN_1_NUMBER)
    assert response["Location"] == reverse("portal:consent_detail", args=[pending_consent.pk])
    signature = ConsentSignature.objects.get(signer__consent=pending_consent)
    assert signature.method == SignatureMethod.ELECTRONIC
    assert signature.eid_provider == "development"
    order = EidOrder.objects.get(reference=signature.eid_reference)
    assert order.collected_at is not None
    assert order.text_sha256
    assert state_of(pending_consent) == State.PENDING

    second = portal_client()
    assert log_in_by_eid(second, GUARDIAN_2_NUMBER)["Location"] == reverse("portal:consent_list")
    page = second.get(reverse("portal:consent_detail", args=[pending_consent.pk])).content.decode()
    assert "Sign with e-ID" in page
    sign_by_eid(second, pending_consent, GUARDIAN_2_NUMBER)
    assert state_of(pending_consent) == State.ACTIVE
    assert AuditEvent.objects.filter(action="portal.consent_signed").count() == 2
    assert AuditEvent.objects.filter(action="consent.activated").exists()


def test_an_eid_of_someone_else_does_not_sign(pending_consent):
    client = log_in_by_code(portal_client(), GUARDIAN_1_EMAIL)
    response = sign_by_eid(client, pending_consent, GUARDIAN_2_NUMBER)
    assert response["Location"] == reverse("portal:consent_detail", args=[pending_consent.pk])
    assert not ConsentSignature.objects.filter(signer__consent=pending_consent).exists()
    assert AuditEvent.objects.filter(action="portal.signing_refused", outcome="denied").exists()
    assert "does not belong" in client.get(response["Location"]).content.decode()


def test_the_signed_text_must_be_the_one_asked_for(pending_consent):
    client = log_in_by_code(portal_client(), GUARDIAN_1_EMAIL)
    client.post(reverse("portal:consent_sign", args=[pending_consent.pk]))
    session = client.session
    order = dict(session[portal_session.EID_ORDER])
    order["text_sha256"] = "0" * 64
    session[portal_session.EID_ORDER] = order
    session.save()
    approve_dev_order(client, GUARDIAN_1_NUMBER)
    client.post(reverse("portal:eid_wait"))
    assert not ConsentSignature.objects.filter(signer__consent=pending_consent).exists()


def test_a_pending_order_waits_and_a_cancelled_one_signs_nothing(pending_consent):
    client = log_in_by_code(portal_client(), GUARDIAN_1_EMAIL)
    client.post(reverse("portal:consent_sign", args=[pending_consent.pk]))
    response = client.post(reverse("portal:eid_wait"))
    assert response["Location"] == reverse("portal:eid_wait")
    assert client.get(reverse("portal:eid_wait")).status_code == 200
    response = client.post(reverse("portal:eid_cancel"))
    assert response["Location"] == reverse("portal:consent_detail", args=[pending_consent.pk])
    assert EidOrder.objects.get().hint == "user_cancel"
    assert not ConsentSignature.objects.exists()


def test_a_guardian_without_a_recorded_number_is_told_how_to_sign(pending_consent, consent_case):
    Guardian.objects.filter(pk=consent_case.guardian_1.guardian_id).update(
        identity_number_hash=None, identity_number_enc=""
    )
    client = log_in_by_code(portal_client(), GUARDIAN_1_EMAIL)
    page = client.get(reverse("portal:consent_detail", args=[pending_consent.pk])).content.decode()
    assert "cannot sign with e-ID" in page
    assert client.post(reverse("portal:consent_sign", args=[pending_consent.pk]))[
        "Location"
    ] == reverse("portal:consent_detail", args=[pending_consent.pk])
    assert not EidOrder.objects.exists()


# --- The young person ----------------------------------------------------------------------


def test_a_young_person_logs_in_with_eid_signs_and_sees_their_guardian(other_family):
    client = portal_client()
    assert log_in_by_eid(client, OTHER_YOUTH_NUMBER)["Location"] == reverse("portal:consent_list")
    assert client.session[portal_session.SUBJECT]["kind"] == "youth"
    page = client.get(reverse("portal:consent_detail", args=[other_family.pk])).content.decode()
    assert "Your guardian" in page
    assert "Sara" not in page
    sign_by_eid(client, other_family, OTHER_YOUTH_NUMBER)
    signer = RequiredSigner.objects.get(consent=other_family, kind=SignerKind.YOUTH)
    assert ConsentSignature.objects.filter(signer=signer).exists()


def test_a_young_person_under_the_signing_age_signs_with_staff(
    pending_consent, personas, world, consent_case
):
    """The 14-year-old of the shared fixture signs only where staff asked for it too."""
    today = timezone.localdate()
    consent = consent_create(
        actor=personas.practitioner,
        case=consent_case.case,
        agency_ids=[world.avesta_school.pk, world.avesta_social.pk],
        category_ids=[consent_case.school_category.pk],
        valid_from=today,
        valid_until=today + dt.timedelta(days=30),
        youth_also_signs=True,
    )
    client = portal_client()
    assert log_in_by_eid(client, IDENTITY_NUMBERS[0])["Location"] == reverse("portal:consent_list")
    page = client.get(reverse("portal:consent_detail", args=[consent.pk])).content.decode()
    assert "together with the staff" in page
    assert "Sign with e-ID" not in page


def test_a_person_the_portal_has_nothing_for_is_told_so_alike(pending_consent):
    for number in (STRANGER_NUMBER, IDENTITY_NUMBERS[0]):  # unknown; a youth who signs nothing
        client = portal_client()
        response = log_in_by_eid(client, number)
        assert response["Location"] == reverse("portal:login")
        assert (
            "no consent here that you have been asked to sign"
            in client.get(reverse("portal:login")).content.decode()
        )


# --- Withdrawal ----------------------------------------------------------------------------


def test_a_guardian_withdraws_after_confirming(active_consent):
    client = log_in_by_code(portal_client(), GUARDIAN_1_EMAIL)
    url = reverse("portal:consent_withdraw", args=[active_consent.pk])
    confirm = client.get(url)
    assert confirm.status_code == 200
    assert "Yes, withdraw my consent" in confirm.content.decode()
    assert not ConsentWithdrawal.objects.exists(), "the confirmation page changes nothing"
    # A POST without the confirmation shows the question again and changes nothing.
    assert client.post(url).status_code == 200
    assert not ConsentWithdrawal.objects.exists()
    response = client.post(url, {"confirm": "yes"})
    assert response["Location"] == reverse("portal:consent_detail", args=[active_consent.pk])
    withdrawal = ConsentWithdrawal.objects.get(consent=active_consent)
    assert withdrawal.method == WithdrawalMethod.PORTAL
    assert withdrawal.recorded_by is None
    link = withdrawal.signer.guardian_link
    assert link is not None
    assert link.email_hash == GuardianLink.hash_email(GUARDIAN_1_EMAIL)
    assert state_of(active_consent) == State.WITHDRAWN
    page = client.get(response["Location"]).content.decode()
    assert "Withdrawn" in page
    assert "Withdraw the consent" not in page
    assert client.post(url, {"confirm": "yes"}).status_code == 302
    assert ConsentWithdrawal.objects.count() == 1
    assert AuditEvent.objects.filter(
        action="portal.consent_withdrawn", details__portal_subject="guardian"
    ).exists()


def test_withdrawal_takes_effect_for_staff_at_once(active_consent, personas, world, consent_case):
    entry_add(
        actor=personas.practitioner,
        case=consent_case.case,
        agency=world.avesta_school,
        category=consent_case.school_category,
        text="Frånvaro 40 % i oktober.",
    )

    def seen() -> int:
        access = disclosure_selectors.case_open(
            viewer=personas.other_agency, pk=consent_case.case.pk
        )
        return len(disclosure_selectors.entry_listing(access).visible)

    assert seen() == 1
    client = log_in_by_code(portal_client(), GUARDIAN_2_EMAIL)
    client.post(reverse("portal:consent_withdraw", args=[active_consent.pk]), {"confirm": "yes"})
    assert seen() == 0


def test_a_guardian_who_has_not_signed_refuses_in_the_portal(pending_consent, personas):
    """Issue 19 mutation 16: every required signer may withdraw, not only those who signed."""
    first = RequiredSigner.objects.select_related("consent").get(
        consent=pending_consent, guardian_link__email_hash=GuardianLink.hash_email(GUARDIAN_1_EMAIL)
    )
    signature_record(actor=personas.practitioner, signer=first, method=SignatureMethod.IN_PERSON)
    client = log_in_by_code(portal_client(), GUARDIAN_2_EMAIL)
    detail_url = reverse("portal:consent_detail", args=[pending_consent.pk])
    page = client.get(detail_url).content.decode()
    assert "Sign with e-ID" in page, "the second guardian has not signed"
    assert "Withdraw the consent" in page
    url = reverse("portal:consent_withdraw", args=[pending_consent.pk])
    assert "Yes, withdraw my consent" in client.get(url).content.decode()
    assert client.post(url, {"confirm": "yes"})["Location"] == detail_url
    withdrawal = ConsentWithdrawal.objects.get(consent=pending_consent)
    assert withdrawal.method == WithdrawalMethod.PORTAL
    assert withdrawal.signer.guardian_link is not None
    assert withdrawal.signer.guardian_link.email_hash == GuardianLink.hash_email(GUARDIAN_2_EMAIL)
    assert not ConsentSignature.objects.filter(signer=withdrawal.signer).exists()
    assert state_of(pending_consent) == State.WITHDRAWN
    assert AuditEvent.objects.filter(action="portal.consent_withdrawn").count() == 1


# --- Access log ----------------------------------------------------------------------------


def _staff_reads(personas, consent_case, times: int) -> None:
    for _ in range(times):
        access = disclosure_selectors.case_open(
            viewer=personas.other_agency, pk=consent_case.case.pk
        )
        disclosure_selectors.entry_listing(access)
        disclosure_selectors.case_open(viewer=personas.practitioner, pk=consent_case.case.pk)


def test_the_access_log_names_agency_and_role_never_the_person(
    active_consent, personas, world, consent_case
):
    _staff_reads(personas, consent_case, 1)
    client = log_in_by_code(portal_client(), GUARDIAN_1_EMAIL)
    page = client.get(reverse("portal:access_log")).content.decode()
    assert world.avesta_social.name in page
    assert world.avesta_school.name in page
    assert "Practitioner" in page
    assert "Opened the case" in page
    for person in (personas.other_agency, personas.practitioner, personas.coordinator):
        assert person.first_name not in page
        assert person.username not in page
    assert AuditEvent.objects.filter(
        action="portal.access_log_viewed", case_id=consent_case.case.pk
    ).exists()


def test_the_access_log_shows_the_coordinator_by_seat(active_consent, personas, consent_case):
    case_selectors.case_card(viewer=personas.coordinator, pk=consent_case.case.pk)
    subject = PortalSubject("guardian", consent_case.guardian_1.guardian_id)
    rows = selectors.access_log(subject=subject, page_number=None).rows
    coordinator_rows = [r for r in rows if r.role == "SSPF coordinator"]
    assert coordinator_rows, [(r.agency, r.role, r.action) for r in rows]


def test_the_access_log_shows_nothing_of_other_families(
    pending_consent, other_family, personas, consent_case
):
    subject = PortalSubject("guardian", consent_case.guardian_1.guardian_id)
    before = selectors.access_log(subject=subject, page_number=None).page.paginator.count
    disclosure_selectors.case_open(viewer=personas.other_agency, pk=other_family.case_id)
    after = selectors.access_log(subject=subject, page_number=None).page.paginator.count
    assert after == before
    logged = AuditEvent.objects.filter(action="portal.access_log_viewed")
    assert {e.case_id for e in logged} == {consent_case.case.pk}


def test_the_access_log_query_count_does_not_grow(active_consent, personas, consent_case):
    client = log_in_by_code(portal_client(), GUARDIAN_1_EMAIL)
    _staff_reads(personas, consent_case, 2)
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("portal:access_log")).status_code == 200
    _staff_reads(personas, consent_case, 15)
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("portal:access_log"))
    assert response.status_code == 200
    assert len(response.context["log"].rows) > 20
    assert len(many.captured_queries) == len(few.captured_queries)


def test_the_consent_list_query_count_does_not_grow(pending_consent, personas, world, consent_case):
    client = log_in_by_code(portal_client(), GUARDIAN_1_EMAIL)
    with CaptureQueriesContext(connection) as one:
        assert client.get(reverse("portal:consent_list")).status_code == 200
    today = timezone.localdate()
    for days in (20, 40, 60):
        consent_create(
            actor=personas.practitioner,
            case=consent_case.case,
            agency_ids=[world.avesta_school.pk, world.avesta_social.pk],
            category_ids=[consent_case.school_category.pk],
            valid_from=today,
            valid_until=today + dt.timedelta(days=days),
        )
    with CaptureQueriesContext(connection) as four:
        response = client.get(reverse("portal:consent_list"))
    assert len(response.context["consents"]) == 4
    assert len(four.captured_queries) == len(one.captured_queries)


def test_the_access_log_pages(active_consent, personas, consent_case):
    _staff_reads(personas, consent_case, 30)
    client = log_in_by_code(portal_client(), GUARDIAN_1_EMAIL)
    first = client.get(reverse("portal:access_log"))
    log = first.context["log"]
    assert log.page.paginator.num_pages > 1
    assert "?page=2" in first.content.decode()
    assert client.get(reverse("portal:access_log") + "?page=2").status_code == 200


def test_every_portal_read_is_audited(pending_consent):
    client = log_in_by_code(portal_client(), GUARDIAN_1_EMAIL)
    client.get(reverse("portal:consent_list"))
    client.get(reverse("portal:consent_detail", args=[pending_consent.pk]))
    client.get(reverse("portal:access_log"))
    for action in (
        "portal.login",
        "portal.consents_viewed",
        "portal.consent_viewed",
        "portal.access_log_viewed",
    ):
        event = AuditEvent.objects.filter(action=action).last()
        assert event is not None, action
        assert event.actor_id is None
        assert event.details["portal_subject"] == "guardian"
        assert isinstance(event.details["portal_subject_id"], int)


# --- Nothing personal in URLs, logs or audit details ---------------------------------------


def test_no_identity_number_or_address_in_urls_logs_or_audit(pending_consent, caplog):
    caplog.set_level(logging.DEBUG)
    visited: list[str] = []
    client = portal_client()
    mail.outbox.clear()
    response = request_code(client, GUARDIAN_1_EMAIL)
    visited.append(response["Location"])
    response = client.post(reverse("portal:code"), {"code": code_from_mail()})
    visited.append(response["Location"])
    response = client.post(reverse("portal:consent_sign", args=[pending_consent.pk]))
    visited.append(response["Location"])
    reference = client.session[portal_session.EID_ORDER]["reference"]
    visited.append(reverse("portal:eid_dev", args=[reference]))
    bad = client.post(visited[-1], {"identity_number": "19800101-1232", "decision": "approve"})
    assert "19800101-1232" not in bad.content.decode(), "a mistyped number is not echoed"
    approve_dev_order(client, GUARDIAN_1_NUMBER)
    response = client.post(reverse("portal:eid_wait"))
    visited.append(response["Location"])
    texts = [*visited, *(r.getMessage() for r in caplog.records)]
    texts += [str(e.details) + e.object_id for e in AuditEvent.objects.all()]
    for text in texts:
        assert GUARDIAN_1_EMAIL not in text.lower(), text
        for number in (GUARDIAN_1_NUMBER, "19800101-1232"):
            assert number not in text, text
            assert number.replace("-", "") not in text, text
    for route in _routes():
        assert "email" not in route
        assert "identity" not in route
        assert "code/<" not in route


def _routes():
    def walk(resolver, prefix=""):
        for pattern in resolver.url_patterns:
            if hasattr(pattern, "url_patterns"):
                yield from walk(pattern, prefix + str(pattern.pattern))
            else:
                yield prefix + str(pattern.pattern)

    return [r for r in walk(get_resolver()) if r.startswith("portal/")]


def test_portal_pages_are_never_cached(pending_consent):
    client = log_in_by_code(portal_client(), GUARDIAN_1_EMAIL)
    for url in (reverse("portal:login"), reverse("portal:consent_list")):
        assert "no-store" in client.get(url).get("Cache-Control", "")


def test_swedish_is_the_default(pending_consent):
    client = Client()
    page = client.get(reverse("portal:login")).content.decode()
    assert 'lang="sv"' in page
