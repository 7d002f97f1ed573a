"""A consent's evidence is never one staff member's word alone (DESIGN rule 20, issue 17 point 2):
the signers are told by e-mail when a consent naming them is registered and when staff record a
signature in their name; a signature recorded by the consent's drafter is flagged in log review;
and where a deployment asks for it, a staff-recorded signature counts only once a second staff
member has confirmed it — on every read path, since the policy derives the state from it."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Q
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from samverkan.api.models import Scope
from samverkan.audit.models import AuditEvent, Outcome
from samverkan.cases.models import GuardianLink, InformationCategory
from samverkan.cases.services import team_add
from samverkan.consent import selectors
from samverkan.consent.models import Consent, ConsentSignature, RequiredSigner, SignatureMethod
from samverkan.consent.services import (
    consent_create,
    signature_confirm,
    signature_record,
    signature_record_electronic,
)
from samverkan.disclosure import selectors as disclosure_selectors
from samverkan.disclosure.policy import State
from samverkan.records.log_rows import event_rows
from samverkan.records.review import LogFilters
from samverkan.records.selectors import log_search
from tests import scans
from tests.consent.conftest import (
    GUARDIAN_1_NAME,
    GUARDIAN_2_NAME,
    GUARDIAN_2_NUMBER,
    IDENTITY_NUMBERS,
    YOUTH_NAME,
    make_consent,
    sign_all,
)
from tests.consent.test_api import token
from tests.helpers import assert_trio

MARIA = "maria@example.invalid"  # guardian 1's address (conftest)
OLOF = "olof@example.invalid"  # guardian 2's
PORTAL = f"{settings.BASE_URL.rstrip('/')}/portal/consents/"
CONFIRMATION_ON = override_settings(CONSENT_SIGNATURE_CONFIRMATION=True)


def signers_of(consent: Consent) -> list[RequiredSigner]:
    return list(
        RequiredSigner.objects.filter(consent=consent).select_related("consent").order_by("order")
    )


def signature_of(signer: RequiredSigner) -> ConsentSignature:
    return ConsentSignature.objects.select_related("signer__consent").get(signer=signer)


def state_of(consent: Consent, viewer) -> State:
    return selectors.consent_get(viewer=viewer, pk=consent.pk).state


def assert_nothing_of_the_case(text: str, consent_case) -> None:
    """No name, no identity number in any form, no pseudonym, no reason for the case."""
    for name in (YOUTH_NAME, GUARDIAN_1_NAME, GUARDIAN_2_NAME):
        for part in name.split():
            assert part not in text, part
    for number in IDENTITY_NUMBERS:
        digits = number.replace("-", "")
        for form in (number, digits, digits[2:], f"{digits[2:8]}-{digits[8:]}"):
            assert form not in text, form
    assert consent_case.case.youth.pseudonym not in text
    assert "frånvaro" not in text.lower()
    assert "umgängen" not in text


def drop_address(link: GuardianLink) -> None:
    """As if the agency had recorded the guardian without an e-mail address."""
    GuardianLink.objects.filter(pk=link.pk).update(email_enc="", email_hash="")


def police_consent(personas, world, consent_case) -> Consent:
    """School and police on the team, a consent between them: the police see who the youth is
    only while it is active."""
    team_add(
        actor=personas.coordinator,
        case=consent_case.case,
        user=personas.police,
        agency=world.police,
    )
    today = timezone.localdate()
    return consent_create(
        actor=personas.practitioner,
        case=consent_case.case,
        agency_ids=[world.avesta_school.pk, world.police.pk],
        category_ids=[
            consent_case.school_category.pk,
            InformationCategory.objects.filter(sector="police").first().pk,  # type: ignore[union-attr]
        ],
        valid_from=today,
        valid_until=today + dt.timedelta(days=90),
    )


def police_sees_identity(personas, consent_case) -> bool:
    access = disclosure_selectors.case_open(viewer=personas.police, pk=consent_case.case.pk)
    return bool(access.identity)


# --- Signers are told ----------------------------------------------------------------------


def test_guardians_are_told_when_a_consent_is_registered_in_their_name(
    personas, world, consent_case, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        consent = make_consent(personas, world, consent_case)
    assert sorted(m.to[0] for m in mail.outbox) == [MARIA, OLOF]
    for message in mail.outbox:
        assert len(message.to) == 1
        body = message.body
        # The consent's language (Swedish) first, English below; the portal link in both.
        assert body.index("Samtycke nr") < body.index("Consent no.")
        assert f"Consent no. {consent.pk} names you as one of those who must sign it" in body
        assert "registered in Samverkan by Avesta skola" in body
        assert body.count(PORTAL) == 2
        assert "withdraw" in body
        assert_nothing_of_the_case(f"{body} {message.subject}", consent_case)
    event = AuditEvent.objects.get(action="consent.signers_notified")
    assert (event.actor_id, event.object_id, event.case_id) == (
        personas.practitioner.pk,
        str(consent.pk),
        consent_case.case.pk,
    )
    assert event.details == {"reason": "registered", "notified": 2, "without_address": 0}
    assert "@" not in json.dumps(event.details)


def test_a_signature_staff_record_is_told_to_that_signer_but_not_an_e_id_one(
    personas, world, consent_case, pending_consent, django_capture_on_commit_callbacks
):
    first, second = signers_of(pending_consent)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        signature_record(actor=personas.coordinator, signer=first, method=SignatureMethod.IN_PERSON)
    [message] = mail.outbox
    assert message.to == [MARIA]
    assert f"recorded in Samverkan that you signed consent no. {pending_consent.pk} in person" in (
        message.body
    )
    # The coordinator acts for their seat in the group: social services.
    assert "staff at Avesta socialtjänst" in message.body
    assert PORTAL in message.body
    assert_nothing_of_the_case(f"{message.body} {message.subject}", consent_case)
    notified = AuditEvent.objects.filter(action="consent.signers_notified").order_by("id").last()
    assert notified is not None
    assert notified.details == {"reason": "signature", "notified": 1, "without_address": 0}

    # The guardian's own e-ID signature: they know, nobody is mailed.
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        signature_record_electronic(
            signer=second,
            provider="development",
            reference="ref-1",
            identity_number=GUARDIAN_2_NUMBER.replace("-", ""),
        )
    assert mail.outbox == []


def test_a_paper_signature_notice_says_so(
    personas, pending_consent, consent_case, django_capture_on_commit_callbacks
):
    first = signers_of(pending_consent)[0]
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        signature_record(
            actor=personas.practitioner,
            signer=first,
            method=SignatureMethod.PAPER,
            evidence=SimpleUploadedFile("form.png", scans.scan_png(), content_type="image/png"),
        )
    [message] = mail.outbox
    assert message.to == [MARIA]
    assert "on a paper form, and uploaded the scanned form" in message.body
    assert_nothing_of_the_case(f"{message.body} {message.subject}", consent_case)


def test_no_mail_for_a_signer_without_an_address(
    personas, world, consent_case, django_capture_on_commit_callbacks
):
    drop_address(consent_case.guardian_2)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        consent = make_consent(personas, world, consent_case)
    assert [m.to for m in mail.outbox] == [[MARIA]]
    registered = AuditEvent.objects.get(action="consent.signers_notified")
    assert registered.details == {"reason": "registered", "notified": 1, "without_address": 1}

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        signature_record(
            actor=personas.practitioner,
            signer=signers_of(consent)[1],
            method=SignatureMethod.IN_PERSON,
        )
    assert mail.outbox == []
    signed = AuditEvent.objects.filter(action="consent.signers_notified").order_by("id").last()
    assert signed is not None
    assert signed.details == {"reason": "signature", "notified": 0, "without_address": 1}


# --- The drafter's own signature is flagged ------------------------------------------------


def _flags_of(auditor, event: AuditEvent) -> list[str]:
    today = timezone.localdate()
    filters = LogFilters(date_from=today, date_to=today, action="consent.")
    rows = event_rows(list(log_search(viewer=auditor, filters=filters).events))
    (row,) = [r for r in rows if r.event.pk == event.pk]
    return [name for name, _label in row.flags]


def test_a_signature_recorded_by_the_consents_drafter_is_flagged_for_log_review(
    personas, pending_consent, client_for
):
    first, second = signers_of(pending_consent)
    # The school counsellor drew the consent up and records the first signature herself; the
    # coordinator records the second.
    signature_record(actor=personas.practitioner, signer=first, method=SignatureMethod.IN_PERSON)
    signature_record(actor=personas.coordinator, signer=second, method=SignatureMethod.IN_PERSON)
    by_drafter, by_other = AuditEvent.objects.filter(action="consent.signed").order_by("id")
    assert by_drafter.details["recorded_by_drafter"] is True
    assert by_other.details["recorded_by_drafter"] is False
    assert "drafter" in _flags_of(personas.auditor, by_drafter)
    assert "drafter" not in _flags_of(personas.auditor, by_other)
    today = timezone.localdate()
    counts = log_search(
        viewer=personas.auditor,
        filters=LogFilters(date_from=today, date_to=today, action="consent."),
    ).counts
    assert counts["drafter"] == 1

    page = client_for(personas.auditor).get(
        reverse("records:review"),
        {"date_from": today.isoformat(), "date_to": today.isoformat(), "action": "consent.signed"},
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count("Signature recorded by the consent&#x27;s drafter") >= 2  # summary, row
    swedish = client_for(personas.auditor, language="sv").get(
        reverse("records:review"),
        {"date_from": today.isoformat(), "date_to": today.isoformat(), "action": "consent.signed"},
    )
    assert "Underskrift registrerad av den som upprättade samtycket" in swedish.content.decode()


# --- A second staff member's confirmation, where the deployment asks for it -----------------


@CONFIRMATION_ON
def test_with_confirmation_required_the_consent_waits_for_a_second_staff_member(
    personas, world, consent_case
):
    consent = police_consent(personas, world, consent_case)
    sign_all(personas, consent)  # both guardians, recorded by the school counsellor alone
    assert state_of(consent, personas.coordinator) == State.PENDING
    assert not police_sees_identity(personas, consent_case)
    assert not AuditEvent.objects.filter(action="consent.activated").exists()
    signed = AuditEvent.objects.filter(action="consent.signed")
    assert all(e.details["awaiting_confirmation"] is True for e in signed)

    first, second = (signature_of(s) for s in signers_of(consent))
    # The one who recorded it cannot vouch for it a second time; the attempt is logged.
    with pytest.raises(PermissionDenied):
        signature_confirm(actor=personas.practitioner, signature=first)
    refused = AuditEvent.objects.get(action="consent.signature_confirmation_refused")
    assert (refused.actor_id, refused.outcome) == (personas.practitioner.pk, Outcome.DENIED)
    # Someone who may not record signatures on the case may not confirm them either.
    with pytest.raises(PermissionDenied):
        signature_confirm(actor=personas.other_agency, signature=first)
    assert ConsentSignature.objects.filter(confirmed_at__isnull=False).count() == 0

    signature_confirm(actor=personas.coordinator, signature=first)
    assert state_of(consent, personas.coordinator) == State.PENDING
    assert not police_sees_identity(personas, consent_case)
    confirmed = signature_confirm(actor=personas.coordinator, signature=second)
    assert confirmed.confirmed_by == personas.coordinator
    assert state_of(consent, personas.coordinator) == State.ACTIVE
    assert police_sees_identity(personas, consent_case)
    # It counts from the confirmation, not from when it was recorded.
    view = selectors.consent_get(viewer=personas.coordinator, pk=consent.pk)
    assert view.facts.complete_at == confirmed.confirmed_at
    activated = AuditEvent.objects.get(action="consent.activated")
    assert activated.actor_id == personas.coordinator.pk
    assert AuditEvent.objects.filter(action="consent.signature_confirmed").count() == 2

    with pytest.raises(ValidationError):
        signature_confirm(
            actor=personas.coordinator, signature=signature_of(signers_of(consent)[0])
        )


def test_turning_confirmation_on_makes_unconfirmed_signatures_stop_counting(
    personas, world, consent_case
):
    consent = police_consent(personas, world, consent_case)
    sign_all(personas, consent)
    assert state_of(consent, personas.coordinator) == State.ACTIVE
    assert police_sees_identity(personas, consent_case)
    with CONFIRMATION_ON:
        # Read time decides: what no second person confirmed is no signature any more.
        assert state_of(consent, personas.coordinator) == State.PENDING
        assert not police_sees_identity(personas, consent_case)
    assert police_sees_identity(personas, consent_case)


def test_confirmation_is_refused_where_it_is_not_asked_for_or_not_needed(personas, pending_consent):
    first, second = signers_of(pending_consent)
    signature_record(actor=personas.practitioner, signer=first, method=SignatureMethod.IN_PERSON)
    with pytest.raises(ValidationError, match="no second confirmation"):
        signature_confirm(actor=personas.coordinator, signature=signature_of(first))
    signature_record_electronic(
        signer=second,
        provider="development",
        reference="ref-2",
        identity_number=GUARDIAN_2_NUMBER.replace("-", ""),
    )
    with CONFIRMATION_ON, pytest.raises(ValidationError, match="e-ID needs no confirmation"):
        signature_confirm(actor=personas.coordinator, signature=signature_of(second))
    with CONFIRMATION_ON:
        # An e-ID signature counts at once; the staff-recorded one still waits.
        assert state_of(pending_consent, personas.coordinator) == State.PENDING
        signature_confirm(actor=personas.coordinator, signature=signature_of(first))
        assert state_of(pending_consent, personas.coordinator) == State.ACTIVE


# --- The page and the endpoint -------------------------------------------------------------


@CONFIRMATION_ON
def test_the_consent_pages_say_a_signature_awaits_a_second_staff_member(
    personas, pending_consent, consent_case, client_for
):
    first = signers_of(pending_consent)[0]
    signature_record(actor=personas.practitioner, signer=first, method=SignatureMethod.IN_PERSON)
    confirm_url = reverse("consent:confirm", args=[pending_consent.pk, first.pk])
    detail = reverse("consent:detail", args=[pending_consent.pk])
    recorder_page = client_for(personas.practitioner).get(detail).content.decode()
    assert "Awaiting confirmation by a second staff member" in recorder_page
    assert confirm_url not in recorder_page  # no button for the one who recorded it
    listing = client_for(personas.practitioner).get(
        reverse("consent:case", args=[consent_case.case.pk])
    )
    assert "Awaiting confirmation by a second staff member" in listing.content.decode()
    swedish = client_for(personas.practitioner, language="sv").get(detail).content.decode()
    assert "Väntar på bekräftelse av ytterligare en medarbetare" in swedish
    awaiting = (
        f"Consent #{pending_consent.pk} is awaiting confirmation by a second staff member of a "
        "signature recorded by staff."
    )
    case_page = reverse("cases:detail", args=[consent_case.case.pk])
    # The case page says so to the whole team, the social worker too.
    assert awaiting in client_for(personas.other_agency).get(case_page).content.decode()

    coordinator = client_for(personas.coordinator)
    assert confirm_url in coordinator.get(detail).content.decode()
    response = coordinator.post(confirm_url)
    assert response.status_code == 302
    assert signature_of(first).confirmed_by == personas.coordinator
    page = coordinator.get(detail).content.decode()
    assert "confirmed by Eva Testsson" in page
    assert "Awaiting confirmation" not in page
    after = client_for(personas.other_agency).get(case_page)
    assert after.status_code == 200
    assert awaiting not in after.content.decode()
    # Already confirmed: refused with the reason, nothing changes.
    again = coordinator.post(confirm_url)
    assert again.status_code == 400
    assert "already been confirmed" in again.content.decode()


@CONFIRMATION_ON
def test_confirm_page_trio_and_the_recorder(personas, world, pending_consent, client_for):
    first = signers_of(pending_consent)[0]
    signature_record(actor=personas.practitioner, signer=first, method=SignatureMethod.IN_PERSON)
    url = reverse("consent:confirm", args=[pending_consent.pk, first.pk])
    # The social worker on the team reads the consent but does not obtain consent: 403.
    assert_trio(
        client_for,
        url,
        allowed=personas.coordinator,
        outsider=personas.outsider,
        read_only=personas.other_agency,
        method="post",
        wrong_method="get",
    )
    # Police: in the group, not on the team, and no consent covers them: nothing to see.
    assert client_for(personas.police).post(url).status_code == 404
    ConsentSignature.objects.filter(pk=signature_of(first).pk).update(
        confirmed_by=None, confirmed_at=None
    )
    assert client_for(personas.practitioner).post(url).status_code == 403
    assert signature_of(first).confirmed_at is None


@CONFIRMATION_ON
def test_confirm_endpoint_trio_and_the_recorder(client, personas, world, pending_consent):
    first = signers_of(pending_consent)[0]
    signature_record(actor=personas.practitioner, signer=first, method=SignatureMethod.IN_PERSON)
    url = f"/api/v1/consents/{pending_consent.pk}/signatures/{first.pk}/confirm"
    writer = token(personas.coordinator, Scope.WRITE)

    def post(auth: dict[str, Any]):
        return client.post(url, content_type="application/json", **auth)

    for outsider in (personas.outsider, personas.police):
        response = post(token(outsider, Scope.WRITE))
        assert response.status_code == 404
        assert response.json() == {"detail": "Not Found"}
    assert post(token(personas.coordinator, Scope.READ)).status_code == 403
    assert post(token(personas.other_agency, Scope.WRITE)).status_code == 403
    recorder = post(token(personas.practitioner, Scope.WRITE))
    assert recorder.status_code == 403
    assert "another staff member" in recorder.json()["detail"]
    for method in ("get", "put", "delete"):
        assert getattr(client, method)(url, **writer).status_code == 405, method
    assert signature_of(first).confirmed_at is None
    unsigned = signers_of(pending_consent)[1]
    missing = f"/api/v1/consents/{pending_consent.pk}/signatures/{unsigned.pk}/confirm"
    assert client.post(missing, content_type="application/json", **writer).status_code == 404

    response = post(writer)
    assert response.status_code == 200, response.content
    [signed] = [s for s in response.json()["signers"] if s["id"] == first.pk]
    assert signed["signature"]["confirmed_by"] == "eva"
    assert signed["signature"]["awaiting_confirmation"] is False
    assert response.json()["state"] == "pending"  # the second guardian has not signed
    assert post(writer).status_code == 400  # already confirmed


def test_confirm_endpoint_refuses_where_confirmation_is_off(client, personas, pending_consent):
    first = signers_of(pending_consent)[0]
    signature_record(actor=personas.practitioner, signer=first, method=SignatureMethod.IN_PERSON)
    url = f"/api/v1/consents/{pending_consent.pk}/signatures/{first.pk}/confirm"
    response = client.post(
        url, content_type="application/json", **token(personas.coordinator, Scope.WRITE)
    )
    assert response.status_code == 400
    assert "no second confirmation" in response.json()["detail"]
    assert not ConsentSignature.objects.filter(
        Q(confirmed_at__isnull=False) | Q(confirmed_by__isnull=False)
    ).exists()
