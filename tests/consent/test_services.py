"""Consent services: who must sign, what crosses when, uploads, withdrawal, statutory disclosure
and reminders — always through the real services and the case selectors."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from samverkan.audit.models import AuditEvent
from samverkan.cases.models import Entry, InformationCategory
from samverkan.cases.services import entry_add, guardian_add, team_add
from samverkan.consent import selectors
from samverkan.consent.models import (
    ConsentReminder,
    ConsentSignature,
    Disclosure,
    EvidenceFile,
    RequiredSigner,
    SignatureMethod,
    SignerKind,
    StatutoryDisclosure,
    WithdrawalMethod,
)
from samverkan.consent.notices import send_due_reminders
from samverkan.consent.services import (
    consent_create,
    consent_withdraw,
    signature_record,
    statutory_disclose,
)
from samverkan.disclosure import selectors as disclosure_selectors
from samverkan.disclosure.facts import STOCKHOLM, birthday
from samverkan.disclosure.policy import DenialReason, State
from samverkan.notifications.models import Notification
from tests import scans
from tests.consent.conftest import cosign_youth, make_consent, sign_all
from tests.helpers import statutory_conditions, youth_number

# Real scans: the upload check decodes them and refuses a few magic bytes.
PDF = scans.scan_pdf()
PNG = scans.scan_png()


def _school_entry(personas, world, consent_case, text="Frånvaro 40 % i oktober.") -> Entry:
    return entry_add(
        actor=personas.practitioner,
        case=consent_case.case,
        agency=world.avesta_school,
        category=consent_case.school_category,
        text=text,
    )


def _seen_by_social(personas, consent_case) -> list[str]:
    access = disclosure_selectors.case_open(viewer=personas.other_agency, pk=consent_case.case.pk)
    return [v.text for v in disclosure_selectors.entry_listing(access).visible]


def _signers(consent) -> list[RequiredSigner]:
    return list(RequiredSigner.objects.filter(consent=consent).select_related("consent"))


# --- Required signers (DESIGN rule 2) --------------------------------------------------------


def test_each_guardian_with_custody_signs_a_14_year_olds_consent(pending_consent):
    kinds = [s.kind for s in _signers(pending_consent)]
    assert kinds == [SignerKind.GUARDIAN, SignerKind.GUARDIAN]


def test_a_guardian_without_custody_is_not_a_signer(personas, world, consent_case):
    guardian_add(
        actor=personas.practitioner,
        case=consent_case.case,
        name="Sven Utan Vårdnad",
        has_custody=False,
    )
    consent = make_consent(personas, world, consent_case)
    assert len(_signers(consent)) == 2


def test_a_youth_of_15_signs_too_and_at_18_alone(personas, world, consent_case):
    youth = consent_case.case.youth
    # Days after the birthdays, not fixed dates: the shared youth is 14 today in any year.
    turns_15 = birthday(youth.birth_date, 15) + dt.timedelta(days=5)
    with time_machine.travel(dt.datetime.combine(turns_15, dt.time(12), STOCKHOLM)):
        assert youth.age_on() == 15
        consent = make_consent(personas, world, consent_case)
        assert [s.kind for s in _signers(consent)] == ["guardian", "guardian", "youth"]
    turns_18 = birthday(youth.birth_date, 18) + dt.timedelta(days=5)
    with time_machine.travel(dt.datetime.combine(turns_18, dt.time(12), STOCKHOLM)):
        assert youth.age_on() == 18
        consent = make_consent(personas, world, consent_case)
        assert [s.kind for s in _signers(consent)] == ["youth"]


def test_a_younger_youth_who_signs_needs_a_maturity_assessment(personas, world, consent_case):
    today = timezone.localdate()
    consent = consent_create(
        actor=personas.practitioner,
        case=consent_case.case,
        agency_ids=[world.avesta_school.pk, world.avesta_social.pk],
        category_ids=[consent_case.school_category.pk],
        valid_from=today,
        valid_until=today + dt.timedelta(days=90),
        youth_also_signs=True,
    )
    youth = next(s for s in _signers(consent) if s.kind == SignerKind.YOUTH)
    with pytest.raises(ValidationError) as exc:
        signature_record(actor=personas.practitioner, signer=youth, method="in_person")
    assert "maturity_assessment" in exc.value.message_dict
    signature = signature_record(
        actor=personas.practitioner,
        signer=youth,
        method="in_person",
        maturity_assessment="Kalle förstår vad samtycket innebär och vill delta.",
    )
    assert signature.maturity_assessment.startswith("Kalle förstår")
    assert "Kalle" not in signature.maturity_assessment_enc


def test_no_consent_without_a_guardian_with_custody(personas, world):
    from samverkan.cases.services import case_raise

    case = case_raise(
        actor=personas.practitioner,
        group=world.avesta_group,
        agency=world.avesta_school,
        identity_number=youth_number(13),  # under 18 in any year: guardians must sign
        name="Lisa Testsson",
        gender="F",
        reason="Oro för frånvaro.",
    ).case
    team_add(
        actor=personas.coordinator,
        case=case,
        user=personas.other_agency,
        agency=world.avesta_social,
    )
    today = timezone.localdate()
    with pytest.raises(ValidationError, match="guardians with custody"):
        consent_create(
            actor=personas.practitioner,
            case=case,
            agency_ids=[world.avesta_school.pk, world.avesta_social.pk],
            category_ids=[InformationCategory.objects.get(sector="school", code="attendance").pk],
            valid_from=today,
            valid_until=today,
        )


def test_create_checks_agencies_categories_and_period(personas, world, consent_case):
    today = timezone.localdate()

    def errors(*, valid_from: dt.date, valid_until: dt.date) -> dict[str, list[str]]:
        with pytest.raises(ValidationError) as exc:
            consent_create(
                actor=personas.practitioner,
                case=consent_case.case,
                agency_ids=[world.avesta_school.pk],
                category_ids=[consent_case.social_category.pk],
                valid_from=valid_from,
                valid_until=valid_until,
            )
        return exc.value.message_dict

    too_long = errors(valid_from=today, valid_until=today + dt.timedelta(days=400))
    assert set(too_long) == {"agencies", "categories", "valid_until"}
    assert "12 months" in too_long["valid_until"][0]
    past = errors(valid_from=today - dt.timedelta(days=1), valid_until=today)
    assert "valid_from" in past
    backwards = errors(valid_from=today, valid_until=today - dt.timedelta(days=1))
    assert "on or after" in backwards["valid_until"][0]


def test_only_the_coordinator_or_the_raising_agency_draws_up_a_consent(
    personas, world, consent_case
):
    today = timezone.localdate()
    with pytest.raises(ValidationError, match="may not"):
        consent_create(
            actor=personas.other_agency,
            case=consent_case.case,
            agency_ids=[world.avesta_school.pk, world.avesta_social.pk],
            category_ids=[consent_case.school_category.pk],
            valid_from=today,
            valid_until=today,
        )
    consent = consent_create(
        actor=personas.coordinator,
        case=consent_case.case,
        agency_ids=[world.avesta_school.pk, world.avesta_social.pk],
        category_ids=[consent_case.school_category.pk],
        valid_from=today,
        valid_until=today,
    )
    assert AuditEvent.objects.filter(action="consent.created", object_id=str(consent.pk)).exists()


# --- What crosses (DESIGN rule 1) -------------------------------------------------------------


def test_joint_custody_one_signature_shares_nothing_both_share(
    personas, world, pending_consent, consent_case
):
    _school_entry(personas, world, consent_case)
    first, second = _signers(pending_consent)
    assert _seen_by_social(personas, consent_case) == []
    signature_record(actor=personas.practitioner, signer=first, method="in_person")
    assert _seen_by_social(personas, consent_case) == []
    access = disclosure_selectors.case_open(viewer=personas.other_agency, pk=consent_case.case.pk)
    hidden = disclosure_selectors.entry_listing(access).hidden
    assert [(g.reason, g.count) for g in hidden] == [(DenialReason.PENDING, 1)]
    signature_record(actor=personas.coordinator, signer=second, method="in_person")
    assert _seen_by_social(personas, consent_case) == ["Frånvaro 40 % i oktober."]
    access = disclosure_selectors.case_open(viewer=personas.other_agency, pk=consent_case.case.pk)
    assert access.identity.allowed
    assert access.identity.basis == f"consent:{pending_consent.pk}"


def test_a_category_outside_the_consent_stays_home(personas, world, consent_case):
    today = timezone.localdate()
    consent = consent_create(
        actor=personas.practitioner,
        case=consent_case.case,
        agency_ids=[world.avesta_school.pk, world.avesta_social.pk],
        category_ids=[consent_case.social_category.pk],
        valid_from=today,
        valid_until=today + dt.timedelta(days=30),
    )
    sign_all(personas, consent)
    _school_entry(personas, world, consent_case)
    assert _seen_by_social(personas, consent_case) == []
    access = disclosure_selectors.case_open(viewer=personas.other_agency, pk=consent_case.case.pk)
    assert [g.reason for g in disclosure_selectors.entry_listing(access).hidden] == [
        DenialReason.CATEGORY
    ]


def test_an_agency_outside_the_consent_sees_nothing(personas, world, active_consent, consent_case):
    team_add(
        actor=personas.coordinator,
        case=consent_case.case,
        user=personas.police,
        agency=world.police,
    )
    _school_entry(personas, world, consent_case)
    access = disclosure_selectors.case_open(viewer=personas.police, pk=consent_case.case.pk)
    listing = disclosure_selectors.entry_listing(access)
    assert listing.visible == []
    assert [g.reason for g in listing.hidden] == [DenialReason.NO_CONSENT]
    assert not access.identity
    assert access.youth_label == consent_case.case.youth.pseudonym


def test_the_consent_expires_at_the_end_of_its_last_day(
    personas, world, active_consent, consent_case
):
    _school_entry(personas, world, consent_case)
    # Its period may reach the youth's signing age: co-signed, it covers to its last day.
    cosign_youth(personas, active_consent)
    last_day = timezone.localtime(active_consent.valid_until).date() - dt.timedelta(days=1)
    with time_machine.travel(dt.datetime.combine(last_day, dt.time(23, 0)).astimezone(dt.UTC)):
        assert len(_seen_by_social(personas, consent_case)) == 1
    with time_machine.travel(active_consent.valid_until + dt.timedelta(minutes=1)):
        assert _seen_by_social(personas, consent_case) == []


# --- Uploads ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("form.gif", b"GIF89a" + b"\x00" * 40, "Only PDF, JPEG or PNG"),
        ("form.png", PDF, "its name says otherwise"),
        ("form.pdf", PNG, "its name says otherwise"),
        ("form.pdf", b"", "empty"),
    ],
)
def test_a_bad_scan_is_refused_and_nothing_is_stored(
    personas, pending_consent, name, content, message
):
    signer = _signers(pending_consent)[0]
    with pytest.raises(ValidationError) as exc:
        signature_record(
            actor=personas.practitioner,
            signer=signer,
            method=SignatureMethod.PAPER,
            evidence=SimpleUploadedFile(name, content, content_type="application/pdf"),
        )
    assert message in " ".join(exc.value.message_dict["evidence"])
    assert not EvidenceFile.objects.exists()
    assert not ConsentSignature.objects.exists()


def test_an_oversized_scan_is_refused(personas, pending_consent, settings):
    settings.CONSENT_EVIDENCE_MAX_BYTES = 1024 * 1024
    signer = _signers(pending_consent)[0]
    with pytest.raises(ValidationError) as exc:
        signature_record(
            actor=personas.practitioner,
            signer=signer,
            method=SignatureMethod.PAPER,
            evidence=SimpleUploadedFile("form.pdf", PDF + b"0" * (1024 * 1024)),
        )
    assert "largest accepted is 1 MB" in exc.value.message_dict["evidence"][0]
    assert not EvidenceFile.objects.exists()


def test_a_paper_form_needs_its_scan_and_is_stored_encrypted(personas, pending_consent):
    signer = _signers(pending_consent)[0]
    with pytest.raises(ValidationError) as exc:
        signature_record(actor=personas.practitioner, signer=signer, method=SignatureMethod.PAPER)
    assert "evidence" in exc.value.message_dict
    signature = signature_record(
        actor=personas.practitioner,
        signer=signer,
        method=SignatureMethod.PAPER,
        signed_on=timezone.localdate(),
        evidence=SimpleUploadedFile("Skanning.PDF", PDF),
    )
    evidence = signature.evidence
    assert evidence is not None
    assert evidence.content_type == "application/pdf"
    # Rewritten without metadata (tests/consent/test_uploads.py): the pages, not the bytes.
    stored = base64.b64decode(evidence.content_b64)
    # Neither the file nor its base64 in the column (a real scan's ciphertext is long enough to
    # hold any three letters by chance, so the whole leading bytes are looked for).
    assert "%PDF-" not in evidence.content_enc
    assert base64.b64encode(stored[:30]).decode() not in evidence.content_enc
    assert len(PdfReader(io.BytesIO(stored)).pages) == 1
    assert evidence.sha256 == hashlib.sha256(stored).hexdigest()


def test_a_signer_signs_once_and_not_after_withdrawal(personas, pending_consent):
    first, second = _signers(pending_consent)
    signature_record(actor=personas.practitioner, signer=first, method="in_person")
    with pytest.raises(ValidationError, match="already signed"):
        signature_record(actor=personas.practitioner, signer=first, method="in_person")
    consent_withdraw(
        consent=pending_consent, signer=first, method="oral", actor=personas.practitioner
    )
    with pytest.raises(ValidationError, match="withdrawn"):
        signature_record(actor=personas.practitioner, signer=second, method="in_person")


# --- Withdrawal (DESIGN rule 4) --------------------------------------------------------------


def test_withdrawal_takes_effect_at_once_and_marks_what_was_disclosed(
    personas, world, active_consent, consent_case, client_for, django_capture_on_commit_callbacks
):
    _school_entry(personas, world, consent_case)
    assert len(_seen_by_social(personas, consent_case)) == 1
    assert (
        Disclosure.objects.filter(consent=active_consent, to_agency=world.avesta_social).count()
        == 1
    )
    signer = _signers(active_consent)[1]
    with django_capture_on_commit_callbacks(execute=True):
        consent_withdraw(
            consent=active_consent,
            signer=signer,
            method=WithdrawalMethod.ORAL,
            actor=personas.other_agency,
        )
    assert _seen_by_social(personas, consent_case) == []
    access = disclosure_selectors.case_open(viewer=personas.other_agency, pk=consent_case.case.pk)
    assert not access.identity
    page = client_for(personas.other_agency).get(
        reverse("cases:detail", args=[consent_case.case.pk])
    )
    html = page.content.decode()
    assert "Frånvaro 40 %" not in html
    assert f"under consent #{active_consent.pk} before it was withdrawn" in html
    assert "was withdrawn" in html
    # The team and the coordinator are told, in the app and by e-mail; never the youth's name.
    told = set(Notification.objects.values_list("recipient__username", flat=True))
    assert told == {"anna", "cecilia", "eva"}
    assert len(mail.outbox) == 3
    assert all("Kalle" not in m.body and "Testberg" not in m.body for m in mail.outbox)
    assert AuditEvent.objects.filter(
        action="consent.withdrawn", legal_basis=f"consent:{active_consent.pk}"
    ).exists()
    view = selectors.consent_get(viewer=personas.coordinator, pk=active_consent.pk)
    assert view.state == State.WITHDRAWN
    assert [(a.pk, n) for a, n in view.disclosed] == [(world.avesta_social.pk, 1)]


def test_withdrawal_is_recorded_once_by_the_team_only(personas, world, active_consent):
    signer = _signers(active_consent)[0]
    with pytest.raises(ValidationError, match="may not"):
        consent_withdraw(
            consent=active_consent, signer=signer, method="oral", actor=personas.colleague
        )
    with pytest.raises(ValidationError):
        consent_withdraw(
            consent=active_consent, signer=signer, method="portal", actor=personas.practitioner
        )
    consent_withdraw(
        consent=active_consent, signer=signer, method="written", actor=personas.practitioner
    )
    with pytest.raises(ValidationError, match="already been withdrawn"):
        consent_withdraw(
            consent=active_consent, signer=signer, method="oral", actor=personas.practitioner
        )


# --- Statutory disclosure (DESIGN rule 5) ----------------------------------------------------


def test_statutory_disclosure_shows_one_entry_to_one_agency_and_is_flagged(
    personas, world, consent_case
):
    team_add(
        actor=personas.coordinator,
        case=consent_case.case,
        user=personas.police,
        agency=world.police,
    )
    social = entry_add(
        actor=personas.other_agency,
        case=consent_case.case,
        agency=world.avesta_social,
        category=consent_case.social_category,
        text="Umgås med äldre som säljer narkotika.",
    )
    entry_add(
        actor=personas.other_agency,
        case=consent_case.case,
        agency=world.avesta_social,
        category=consent_case.social_category,
        text="Annan anteckning.",
    )
    disclosure = statutory_disclose(
        actor=personas.other_agency,
        entry=social,
        to_agency_id=world.police.pk,
        basis_code="social_to_police_under_21",
        justification="Risk för fortsatt brottslig verksamhet enligt samlad bedömning.",
        conditions_confirmed=statutory_conditions("social_to_police_under_21"),
    )
    access = disclosure_selectors.case_open(viewer=personas.police, pk=consent_case.case.pk)
    listing = disclosure_selectors.entry_listing(access)
    assert [v.text for v in listing.visible] == ["Umgås med äldre som säljer narkotika."]
    assert listing.visible[0].basis == disclosure.basis
    assert sum(g.count for g in listing.hidden) == 1
    event = AuditEvent.objects.get(action="entry.disclosed_statutory")
    assert event.details["review"] is True
    assert event.legal_basis == disclosure.basis
    assert Disclosure.objects.filter(statutory=disclosure, to_agency=world.police).count() == 1
    # The school sees nothing of it: the disclosure was to the police only.
    school = disclosure_selectors.case_open(viewer=personas.practitioner, pk=consent_case.case.pk)
    assert disclosure_selectors.entry_listing(school).visible == []


def test_statutory_disclosure_needs_a_fitting_basis_and_a_justification(
    personas, world, consent_case
):
    team_add(
        actor=personas.coordinator,
        case=consent_case.case,
        user=personas.police,
        agency=world.police,
    )
    school = _school_entry(personas, world, consent_case)
    with pytest.raises(ValidationError) as exc:
        statutory_disclose(
            actor=personas.practitioner,
            entry=school,
            to_agency_id=world.police.pk,
            basis_code="social_to_police_under_21",
            justification="kort",
            conditions_confirmed=statutory_conditions("social_to_police_under_21"),
        )
    assert set(exc.value.message_dict) == {"basis", "justification"}
    with pytest.raises(ValidationError, match="own agency"):
        statutory_disclose(
            actor=personas.other_agency,
            entry=school,
            to_agency_id=world.police.pk,
            basis_code="suspected_crime",
            justification="Misstanke om brott enligt uppgifter från skolan.",
        )
    with pytest.raises(ValidationError) as exc:
        statutory_disclose(
            actor=personas.practitioner,
            entry=school,
            to_agency_id=world.avesta_leisure.pk,
            basis_code="concern_report",
            justification="Oro för att barnet far illa enligt skolans iakttagelser.",
        )
    assert "to_agency" in exc.value.message_dict
    assert not StatutoryDisclosure.objects.exists()
    assert AuditEvent.objects.filter(action="entry.statutory_disclosure_refused").count() == 2


# --- Reminders (DESIGN rule 3) ---------------------------------------------------------------


def test_reminders_are_sent_once_when_due(personas, world, consent_case, settings):
    # Relative to the youth's signing-age birthday, so the test means the same on any date.
    born = consent_case.case.youth.birth_date
    turns = birthday(born, settings.CONSENT_YOUTH_SIGNS_FROM_AGE)
    start = turns - dt.timedelta(days=60)
    with time_machine.travel(dt.datetime.combine(start, dt.time(9), STOCKHOLM), tick=False):
        consent = consent_create(
            actor=personas.practitioner,
            case=consent_case.case,
            agency_ids=[world.avesta_school.pk, world.avesta_social.pk],
            category_ids=[consent_case.school_category.pk],
            valid_from=start,
            valid_until=start + dt.timedelta(days=200),
        )
        sign_all(personas, consent)
        assert sum(send_due_reminders().values()) == 0
    # The youth reaches the signing age within the consent's period.
    turned = dt.datetime.combine(turns + dt.timedelta(days=1), dt.time(9), STOCKHOLM)
    assert send_due_reminders(turned) == {
        "expiring": 0,
        "expired": 0,
        "turned_15": 1,
        "turned_18": 0,
    }
    soon = consent.valid_until - dt.timedelta(days=20)
    assert soon > turned
    assert send_due_reminders(soon)["expiring"] == 1
    assert sum(send_due_reminders(soon).values()) == 0
    after = consent.valid_until + dt.timedelta(days=1)
    assert send_due_reminders(after)["expired"] == 1
    assert set(ConsentReminder.objects.values_list("kind", flat=True)) == {
        "expiring",
        "turned_15",
        "expired",
    }
    kinds = list(Notification.objects.values_list("kind", flat=True).distinct())
    assert set(kinds) == {"consent_expiring", "consent_awaiting_youth", "consent_expired"}
    assert set(
        Notification.objects.filter(kind="consent_expiring").values_list(
            "recipient__username", flat=True
        )
    ) == {"eva"}
