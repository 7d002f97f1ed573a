"""Signature services: a signature and its audit event stand or fall together, and e-ID is
refused to a young person under the signing age whatever the portal shows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection
from django.utils import timezone

from samverkan.audit.models import AuditEvent
from samverkan.consent.models import (
    ConsentSignature,
    RequiredSigner,
    SignatureMethod,
    SignerKind,
)
from samverkan.consent.services import (
    consent_create,
    signature_record,
    signature_record_electronic,
)
from tests.consent.conftest import GUARDIAN_1_NUMBER, YOUTH_NUMBER

# Run again through pgbouncer in transaction mode in CI (.ci/run: -m postgresql).
pytestmark = pytest.mark.postgresql

# The identity an e-ID provider vouches for: twelve digits.
GUARDIAN_1_DIGITS = GUARDIAN_1_NUMBER.replace("-", "")
YOUTH_DIGITS = YOUTH_NUMBER.replace("-", "")


@contextmanager
def audit_store_refuses(action: str) -> Iterator[None]:
    """The database refuses every audit event of ``action``: the audit write itself fails, as
    it would on a full disk or a lost connection, while the real ``audit_record`` runs."""
    assert action.replace(".", "").replace("_", "").isalnum()  # it is spliced into the SQL
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE FUNCTION test_audit_refuse() RETURNS trigger AS $$ BEGIN "
                "RAISE EXCEPTION 'audit store refused'; END; $$ LANGUAGE plpgsql"
            )
            cursor.execute(
                "CREATE TRIGGER test_audit_refuse BEFORE INSERT ON audit_auditevent FOR EACH ROW "
                f"WHEN (NEW.action = '{action}') EXECUTE FUNCTION test_audit_refuse()"
            )
        else:
            cursor.execute(
                "CREATE TRIGGER test_audit_refuse BEFORE INSERT ON audit_auditevent "
                f"WHEN NEW.action = '{action}' "
                "BEGIN SELECT RAISE(ABORT, 'audit store refused'); END"
            )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(
                "DROP TRIGGER test_audit_refuse"
                + (" ON audit_auditevent" if connection.vendor == "postgresql" else "")
            )
            if connection.vendor == "postgresql":
                cursor.execute("DROP FUNCTION test_audit_refuse()")


def _guardian_1(consent) -> RequiredSigner:
    return RequiredSigner.objects.select_related("consent").get(
        consent=consent, kind=SignerKind.GUARDIAN, order=0
    )


def _signed_events(signer: RequiredSigner) -> list[str]:
    """The object ids of the ``consent.signed`` events of ``signer``'s signatures."""
    ids = [
        str(pk)
        for pk in ConsentSignature.objects.filter(signer=signer).values_list("pk", flat=True)
    ]
    return list(
        AuditEvent.objects.filter(action="consent.signed", object_id__in=ids).values_list(
            "object_id", flat=True
        )
    )


# --- The audit event is part of the signature's transaction ---------------------------------


def test_a_staff_recorded_signature_is_not_kept_when_its_audit_event_fails(
    personas, pending_consent
):
    """Issue 19 mutation 7: the signature's audit call must be inside its transaction."""
    signer = _guardian_1(pending_consent)
    with audit_store_refuses("consent.signed"), pytest.raises(DatabaseError):
        signature_record(
            actor=personas.practitioner, signer=signer, method=SignatureMethod.IN_PERSON
        )
    assert not ConsentSignature.objects.filter(signer=signer).exists()
    assert not AuditEvent.objects.filter(action="consent.signed").exists()
    # Nothing half-done is left behind: the signer signs once the log takes the event.
    signature = signature_record(
        actor=personas.practitioner, signer=signer, method=SignatureMethod.IN_PERSON
    )
    assert _signed_events(signer) == [str(signature.pk)]


def test_an_e_id_signature_is_not_kept_when_its_audit_event_fails(pending_consent):
    """Issue 19 mutation 7 (e-ID): the signature's audit call must be inside its transaction."""
    signer = _guardian_1(pending_consent)
    with audit_store_refuses("consent.signed"), pytest.raises(DatabaseError):
        signature_record_electronic(
            signer=signer,
            provider="development",
            reference="ref-audit-fails",
            identity_number=GUARDIAN_1_DIGITS,
        )
    assert not ConsentSignature.objects.filter(signer=signer).exists()
    assert not AuditEvent.objects.filter(action="consent.signed").exists()
    signature = signature_record_electronic(
        signer=signer,
        provider="development",
        reference="ref-audit-works",
        identity_number=GUARDIAN_1_DIGITS,
    )
    assert _signed_events(signer) == [str(signature.pk)]


def test_a_failure_after_the_signature_undoes_both_signature_and_event(personas, pending_consent):
    """Issue 19 mutation 7: what fails after the signature's audit event, inside the service,
    takes the signature and its event back together."""
    signer = _guardian_1(pending_consent)
    # The signer notice is written after the signature and its event, in the same transaction.
    with audit_store_refuses("consent.signers_notified"), pytest.raises(DatabaseError):
        signature_record(
            actor=personas.practitioner, signer=signer, method=SignatureMethod.IN_PERSON
        )
    assert not ConsentSignature.objects.filter(signer=signer).exists()
    assert not AuditEvent.objects.filter(action="consent.signed").exists()


# --- e-ID and the signing age ----------------------------------------------------------------


def _youth_signer(personas, world, consent_case) -> RequiredSigner:
    """The youth's signer on a consent drawn up with them asked to sign too."""
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
    return RequiredSigner.objects.select_related("consent").get(
        consent=consent, kind=SignerKind.YOUTH
    )


def test_a_youth_under_the_signing_age_is_refused_e_id_by_the_service(
    personas, world, consent_case, settings
):
    """Issue 19 mutation 15: the service itself refuses e-ID to a youth under the signing age."""
    # One year above the youth's age today, so the test does not age with the fixture.
    settings.CONSENT_YOUTH_SIGNS_FROM_AGE = consent_case.case.youth.age_on() + 1
    signer = _youth_signer(personas, world, consent_case)
    with pytest.raises(ValidationError) as exc:
        signature_record_electronic(
            signer=signer,
            provider="development",
            reference="ref-too-young",
            identity_number=YOUTH_DIGITS,
        )
    assert exc.value.messages == [
        f"A young person under {settings.CONSENT_YOUTH_SIGNS_FROM_AGE} signs with staff, who "
        "record a maturity assessment."
    ]
    assert not ConsentSignature.objects.filter(signer=signer).exists()
    assert not AuditEvent.objects.filter(action="consent.signed").exists()


def test_a_youth_of_the_signing_age_signs_with_e_id(personas, world, consent_case, settings):
    """Issue 19 mutation 15 (the other side): at the signing age e-ID is the youth's own."""
    settings.CONSENT_YOUTH_SIGNS_FROM_AGE = consent_case.case.youth.age_on()
    signer = _youth_signer(personas, world, consent_case)
    signature = signature_record_electronic(
        signer=signer,
        provider="development",
        reference="ref-old-enough",
        identity_number=YOUTH_DIGITS,
    )
    assert signature.method == SignatureMethod.ELECTRONIC
    assert signature.maturity_assessment == ""
    assert _signed_events(signer) == [str(signature.pk)]
