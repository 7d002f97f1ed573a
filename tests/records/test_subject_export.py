"""The data-subject export (registerutdrag): everything held about a youth or a guardian, as a
ZIP with JSON and a PDF and the access log, for auditors only, audited without personal data,
from the page (POST only) and from ``samverkan subject-export`` (number never in argv)."""

from __future__ import annotations

import base64
import io
import json
import os
import stat
import zipfile
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from samverkan.audit.models import AuditEvent
from samverkan.audit.selectors import audit_verify
from samverkan.cases.models import InformationCategory
from samverkan.cases.services import concern_report_add, entry_add, entry_correct
from samverkan.consent.models import WithdrawalMethod
from samverkan.consent.services import consent_withdraw
from samverkan.lib.pdf import PdfUnavailableError
from samverkan.plans.services import goal_add, plan_create
from samverkan.records.subject_export import services as export
from tests.consent.conftest import (
    GUARDIAN_1_NAME,
    GUARDIAN_1_NUMBER,
    GUARDIAN_2_NAME,
    GUARDIAN_2_NUMBER,
    IDENTITY_NUMBERS,
    YOUTH_NAME,
    YOUTH_NUMBER,
)
from tests.helpers import assert_trio

URL = "/records/export/"
# Valid in form, held by no one in these tests.
UNKNOWN_NUMBER = "19900101-0017"


def _unzip(content: bytes) -> tuple[dict[str, Any], dict[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    return json.loads(files["subject.json"]), files


@pytest.fixture
def rich_case(personas, world, consent_case, active_consent):
    """The consent case with a corrected journal entry, a report of concern and a plan goal."""
    case = consent_case.case
    entry = entry_add(
        actor=personas.practitioner,
        case=case,
        agency=world.avesta_school,
        category=InformationCategory.objects.get(sector="school", code="attendance"),
        text="Frånvaro 40 % i oktober.",
    )
    entry_correct(actor=personas.practitioner, entry=entry, text="Frånvaro 45 % i oktober.")
    concern_report_add(
        actor=personas.practitioner,
        case=case,
        agency=world.avesta_school,
        reported_on=timezone.localdate(),
    )
    plan = plan_create(actor=personas.practitioner, case=case)
    goal_add(actor=personas.practitioner, plan=plan, text="Närvaro över 90 % till jul.")
    return consent_case


# --- The service ---------------------------------------------------------------------------


def test_a_youths_export_holds_everything_about_them(personas, rich_case, active_consent):
    archive = export.subject_export(actor=personas.auditor, identity_number=YOUTH_NUMBER)
    assert archive is not None
    data, files = _unzip(archive.content)
    assert set(files) >= {"subject.json", "subject.pdf"}
    youth = data["youth"]
    assert youth["name"] == YOUTH_NAME
    assert youth["identity_number"] == YOUTH_NUMBER.replace("-", "")
    (case,) = youth["cases"]
    assert case["reason"].startswith("Hög frånvaro")
    (entry,) = case["entries"]
    assert [v["text"] for v in entry["versions"]] == [
        "Frånvaro 40 % i oktober.",
        "Frånvaro 45 % i oktober.",
    ]
    assert {g["name"] for g in case["guardians"]} == {GUARDIAN_1_NAME, GUARDIAN_2_NAME}
    (consent,) = case["consents"]
    assert consent["number"] == active_consent.pk
    assert all(s["signature"] for s in consent["signers"])
    assert case["concern_reports"]
    assert case["action_plan"]["goals"][0]["text"].startswith("När")
    assert data["guardian"] is None
    # The guardians' own numbers and addresses are theirs, not the youth's.
    text = files["subject.json"].decode()
    assert GUARDIAN_1_NUMBER.replace("-", "") not in text
    assert "@example.invalid" not in text


def test_the_access_log_names_agency_and_role_never_the_staff_member(personas, rich_case):
    archive = export.subject_export(actor=personas.auditor, identity_number=YOUTH_NUMBER)
    assert archive is not None
    data, files = _unzip(archive.content)
    log = data["access_log"]
    assert log, "the case's handling must be in the log"
    assert {"Avesta skola"} <= {row["agency"] for row in log}
    assert all(set(row) == {"at", "agency", "role", "action", "count", "refused"} for row in log)
    text = files["subject.json"].decode()
    for user in (personas.practitioner, personas.other_agency, personas.coordinator):
        assert user.username not in text
        assert user.last_name not in text


def test_a_previous_export_shows_in_the_next_ones_log(personas, rich_case):
    export.subject_export(actor=personas.auditor, identity_number=YOUTH_NUMBER)
    archive = export.subject_export(
        actor=personas.auditor, identity_number=YOUTH_NUMBER, language="en"
    )
    assert archive is not None
    data, _ = _unzip(archive.content)
    exported = [r for r in data["access_log"] if r["agency"] == "Avesta kommunledning"]
    assert exported
    assert exported[0]["role"] == "Auditor"


def test_a_guardians_export_holds_their_links_and_signatures_not_the_childs_journal(
    personas, rich_case, active_consent
):
    link = rich_case.guardian_1
    consent_withdraw(
        consent=active_consent,
        signer=active_consent.signers.get(guardian_link=link),
        method=WithdrawalMethod.ORAL,
        actor=personas.practitioner,
    )
    archive = export.subject_export(actor=personas.auditor, identity_number=GUARDIAN_1_NUMBER)
    assert archive is not None
    data, files = _unzip(archive.content)
    assert data["youth"] is None
    guardian = data["guardian"]
    assert guardian["identity_number"] == GUARDIAN_1_NUMBER.replace("-", "")
    (row,) = guardian["links"]
    assert row["name"] == GUARDIAN_1_NAME
    assert row["email"] == "maria@example.invalid"
    (consent,) = guardian["consents"]
    assert consent["signature"] is not None
    assert consent["withdrawal"] is not None
    text = files["subject.json"].decode()
    assert "Frånvaro 45" not in text  # the child's journal is the child's
    assert GUARDIAN_2_NAME not in text


def test_nothing_held_answers_none_and_is_audited_without_the_number(personas, consent_case):
    before = AuditEvent.objects.count()
    assert export.subject_export(actor=personas.auditor, identity_number=UNKNOWN_NUMBER) is None
    event = AuditEvent.objects.latest("id")
    assert AuditEvent.objects.count() == before + 1
    assert event.action == "records.subject_exported"
    assert event.details == {"found": False}


def test_the_export_is_audited_per_person_and_case_without_personal_data(personas, rich_case):
    before = AuditEvent.objects.latest("id").id
    export.subject_export(actor=personas.auditor, identity_number=YOUTH_NUMBER)
    events = list(AuditEvent.objects.filter(id__gt=before, action="records.subject_exported"))
    assert {(e.object_type, e.case_id) for e in events} == {
        ("cases.youth", None),
        ("cases.case", rich_case.case.pk),
    }
    assert all(e.actor_id == personas.auditor.pk for e in events)
    dumped = json.dumps([e.details for e in events])
    for value in (*IDENTITY_NUMBERS, YOUTH_NAME, YOUTH_NUMBER.replace("-", "")):
        assert value not in dumped
    assert audit_verify().ok


@pytest.mark.parametrize(
    "who", ["practitioner", "coordinator", "admin", "council_member", "outsider"]
)
def test_only_auditors_may_export(personas, consent_case, who):
    with pytest.raises(Http404):
        export.subject_export(actor=getattr(personas, who), identity_number=YOUTH_NUMBER)


def test_the_pdf_is_readable_in_both_languages(personas, rich_case):
    for language, heading in (("sv", None), ("en", "Register extract")):
        archive = export.subject_export(
            actor=personas.auditor, identity_number=YOUTH_NUMBER, language=language
        )
        assert archive is not None
        _, files = _unzip(archive.content)
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(files["subject.pdf"])).pages)
        assert YOUTH_NAME in text
        assert "Frånvaro 45 % i oktober." in text
        if heading:
            assert heading in text


# --- The page ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "who", ["practitioner", "coordinator", "admin", "council_member", "outsider", "no_role"]
)
def test_nobody_but_auditors_reaches_the_page(client_for, personas, who):
    c = client_for(getattr(personas, who), reauth=True)
    assert c.get(URL).status_code == 404
    assert c.post(URL, {"identity_number": YOUTH_NUMBER, "language": "en"}).status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_the_page_asks_for_the_password_again(client_for, personas):
    response = client_for(personas.auditor).get(URL)
    assert response.status_code == 302
    assert "reauthenticate" in response["Location"]


def test_get_shows_the_form_and_wrong_methods_are_refused(client_for, personas):
    c = client_for(personas.auditor, reauth=True)
    response = c.get(URL)
    assert response.status_code == 200
    assert b'method="post"' in response.content
    assert "no-store" in response["Cache-Control"]
    assert reverse("records:subject_export") == URL
    for verb in ("put", "delete", "patch"):
        assert getattr(c, verb)(URL).status_code == 405


def test_a_number_in_the_query_string_exports_nothing(client_for, personas, consent_case):
    before = AuditEvent.objects.filter(action="records.subject_exported").count()
    c = client_for(personas.auditor, reauth=True)
    response = c.get(URL, {"identity_number": YOUTH_NUMBER})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert AuditEvent.objects.filter(action="records.subject_exported").count() == before


def test_post_answers_a_zip_attachment(client_for, personas, rich_case):
    from tests.records.test_subject_export_redaction import export_via_page

    c = client_for(personas.auditor, reauth=True)
    # The number, then the redaction step (issue 19, gap 6), then the archive.
    response = export_via_page(c, YOUTH_NUMBER)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "registerutdrag-" in response["Content-Disposition"]
    assert YOUTH_NUMBER[:8] not in response["Content-Disposition"]
    assert "no-store" in response["Cache-Control"]
    data, _ = _unzip(response.content)
    assert data["youth"]["name"] == YOUTH_NAME


def _written_forms(number: str) -> list[str]:
    digits = number.replace("-", "")
    return [digits, digits[2:], f"{digits[:8]}-{digits[8:]}", f"{digits[2:8]}-{digits[8:]}"]


@pytest.mark.parametrize("written", _written_forms("20120315-1237"))
def test_a_malformed_number_is_refused_without_repeating_it(
    client_for, personas, consent_case, written
):
    c = client_for(personas.auditor, reauth=True)
    response = c.post(URL, {"identity_number": written, "language": "en"})
    assert response.status_code == 400
    assert b"check digit" in response.content
    page = response.content.decode()
    for form in _written_forms("20120315-1237"):
        assert form not in page


@pytest.mark.parametrize("written", _written_forms(YOUTH_NUMBER))
def test_a_valid_number_with_a_tampered_language_is_not_repeated(
    client_for, personas, consent_case, written
):
    c = client_for(personas.auditor, reauth=True)
    response = c.post(URL, {"identity_number": written, "language": "xx"})
    assert response.status_code == 400
    page = response.content.decode()
    for form in _written_forms(YOUTH_NUMBER):
        assert form not in page


def test_an_unknown_person_gets_a_clear_no_data_held(client_for, personas, consent_case):
    c = client_for(personas.auditor, reauth=True)
    response = c.post(URL, {"identity_number": UNKNOWN_NUMBER, "language": "en"})
    assert response.status_code == 200
    assert b"No data is held about this person" in response.content
    assert UNKNOWN_NUMBER.encode() not in response.content
    assert UNKNOWN_NUMBER.replace("-", "").encode() not in response.content


# --- The command line ----------------------------------------------------------------------


def _run(monkeypatch, stdin: str, *args: str) -> str:
    out = io.StringIO()
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    call_command("subject_export", *args, stdout=out)
    return out.getvalue()


def test_the_command_reads_the_number_from_stdin_and_writes_a_private_zip(
    monkeypatch, tmp_path, rich_case
):
    target = tmp_path / "extract.zip"
    out = _run(monkeypatch, YOUTH_NUMBER + "\n", "--output", str(target))
    assert "youth, 1 case(s)" in out
    assert YOUTH_NUMBER not in out
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    data, _ = _unzip(target.read_bytes())
    assert data["youth"]["name"] == YOUTH_NAME
    event = AuditEvent.objects.filter(action="records.subject_exported").latest("id")
    assert event.actor_id is None


def test_the_command_reads_the_number_from_a_file(monkeypatch, tmp_path, rich_case):
    number = tmp_path / "number.txt"
    number.write_text(GUARDIAN_1_NUMBER + "\n")
    target = tmp_path / "extract.zip"
    out = _run(monkeypatch, "", "--output", str(target), "--input", str(number))
    assert "guardian" in out
    data, _ = _unzip(target.read_bytes())
    assert data["guardian"]["links"][0]["name"] == GUARDIAN_1_NAME


def test_the_command_refuses_an_existing_file(monkeypatch, tmp_path, rich_case):
    target = tmp_path / "extract.zip"
    target.write_bytes(b"keep me")
    with pytest.raises(CommandError, match="already exists"):
        _run(monkeypatch, YOUTH_NUMBER, "--output", str(target))
    assert target.read_bytes() == b"keep me"


def test_the_command_takes_no_number_on_the_command_line(monkeypatch, tmp_path, rich_case):
    with pytest.raises(CommandError):
        _run(monkeypatch, "", "--output", str(tmp_path / "x.zip"), YOUTH_NUMBER)
    with pytest.raises(CommandError, match="no identity number"):
        _run(monkeypatch, "", "--output", str(tmp_path / "x.zip"))
    assert not (tmp_path / "x.zip").exists()


def test_the_command_exits_3_when_nothing_is_held(monkeypatch, tmp_path, consent_case):
    with pytest.raises(CommandError) as caught:
        _run(monkeypatch, UNKNOWN_NUMBER, "--output", str(tmp_path / "x.zip"))
    assert caught.value.returncode == 3
    assert UNKNOWN_NUMBER not in str(caught.value)
    assert not (tmp_path / "x.zip").exists()


def test_the_command_refuses_a_malformed_number_without_echoing_it(
    monkeypatch, tmp_path, consent_case
):
    with pytest.raises(CommandError, match="not a valid identity number") as caught:
        _run(monkeypatch, "20120315-1237", "--output", str(tmp_path / "x.zip"))
    assert "1237" not in str(caught.value)


def test_the_public_name_subject_export_reaches_the_command(monkeypatch, tmp_path, rich_case):
    from samverkan import cli

    target = tmp_path / "extract.zip"
    monkeypatch.setattr("sys.stdin", io.StringIO(YOUTH_NUMBER))
    umask = os.umask(0o022)
    try:
        cli.main(["subject-export", "--output", str(target)])
    finally:
        os.umask(umask)  # main() tightens the process's umask
    assert zipfile.is_zipfile(target)


def test_without_pango_the_page_says_so_and_nothing_is_audited_as_exported(
    client_for, personas, rich_case, monkeypatch
):
    def unavailable(html: str, css: str) -> bytes:
        raise PdfUnavailableError("no pango")

    monkeypatch.setattr(export, "html_to_pdf", unavailable)
    before = AuditEvent.objects.filter(action="records.subject_exported").count()
    from tests.records.test_subject_export_redaction import export_via_page

    c = client_for(personas.auditor, reauth=True)
    response = export_via_page(c, YOUTH_NUMBER)
    assert response.status_code == 503
    assert b"install Pango" in response.content
    assert AuditEvent.objects.filter(action="records.subject_exported").count() == before


def test_the_endpoint_trio(client_for, personas, rich_case):
    assert_trio(
        client_for,
        URL,
        allowed=personas.auditor,
        outsider=personas.outsider,
        method="post",
        data={"identity_number": YOUTH_NUMBER, "language": "en"},
    )


# --- Whose data goes in which export ---------------------------------------------------------


def _guardian_without_custody_elsewhere(personas, world, rich_case):
    """Guardian 1 is also recorded, without custody, on a sibling's case no consent asks them
    to sign; the police handled that case."""
    from samverkan.audit.services import audit_record
    from samverkan.cases.services import case_raise, guardian_add
    from tests.records.test_retention import valid_number

    sibling = case_raise(
        actor=personas.practitioner,
        group=world.avesta_group,
        agency=world.avesta_school,
        identity_number=valid_number("20130101-1230"),
        name="Siv Syskonsson",
        gender="F",
        reason="Oro för skolgången.",
    ).case
    guardian_add(
        actor=personas.practitioner,
        case=sibling,
        name=GUARDIAN_1_NAME,
        has_custody=False,
        identity_number=GUARDIAN_1_NUMBER,
        email="maria@example.invalid",
    )
    with transaction.atomic():
        audit_record(
            action="entry.viewed",
            actor=personas.police,
            agency=world.police,
            object_type="cases.case",
            object_id=str(sibling.pk),
            case_id=sibling.pk,
        )
    return sibling


def test_a_guardian_without_custody_learns_nothing_of_that_child(personas, world, rich_case):
    sibling = _guardian_without_custody_elsewhere(personas, world, rich_case)
    before = AuditEvent.objects.latest("id").id
    archive = export.subject_export(actor=personas.auditor, identity_number=GUARDIAN_1_NUMBER)
    assert archive is not None
    data, files = _unzip(archive.content)
    links = {row["case_id"]: row for row in data["guardian"]["links"]}
    assert set(links) == {rich_case.case.pk, sibling.pk}
    # Their own data as recorded on the sibling's case is theirs; the child is not.
    assert links[sibling.pk]["name"] == GUARDIAN_1_NAME
    assert links[sibling.pk]["has_custody"] is False
    assert links[sibling.pk]["child_name"] is None
    assert links[sibling.pk]["child_pseudonym"] is None
    assert links[rich_case.case.pk]["child_name"] == YOUTH_NAME
    text = files["subject.json"].decode()
    assert "Siv Syskonsson" not in text
    assert sibling.youth.pseudonym not in text
    # The sibling case's handling is not in the access log, nor is the case audited as exported.
    assert "Polisen LPO Falun" not in {row["agency"] for row in data["access_log"]}
    exported = AuditEvent.objects.filter(id__gt=before, action="records.subject_exported")
    assert sibling.pk not in {e.case_id for e in exported}
    pdf = "".join(p.extract_text() for p in PdfReader(io.BytesIO(files["subject.pdf"])).pages)
    assert "Siv Syskonsson" not in pdf


def test_the_youths_export_leaves_out_the_guardians_scanned_forms(personas, world, rich_case):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from samverkan.consent.models import RequiredSigner, SignatureMethod
    from samverkan.consent.services import signature_record
    from tests import scans
    from tests.consent.conftest import make_consent

    consent = make_consent(personas, world, rich_case)
    signer = RequiredSigner.objects.get(consent=consent, guardian_link=rich_case.guardian_1)
    evidence = signature_record(
        actor=personas.practitioner,
        signer=signer,
        method=SignatureMethod.PAPER,
        evidence=SimpleUploadedFile("blankett.png", scans.scan_png(), content_type="image/png"),
    ).evidence
    assert evidence is not None
    # The scan as stored: re-encoded without metadata, so not the uploaded bytes.
    png = base64.b64decode(evidence.content_b64)
    archive = export.subject_export(actor=personas.auditor, identity_number=YOUTH_NUMBER)
    assert archive is not None
    data, files = _unzip(archive.content)
    assert not [name for name in files if name.startswith("files/")]
    (case,) = data["youth"]["cases"]
    signatures = [s["signature"] for c in case["consents"] for s in c["signers"] if s["signature"]]
    assert signatures
    assert all(s["scanned_form"] is None for s in signatures)
    # The guardian's own export has it.
    archive = export.subject_export(actor=personas.auditor, identity_number=GUARDIAN_1_NUMBER)
    assert archive is not None
    _, files = _unzip(archive.content)
    assert png in files.values()


def test_the_export_holds_the_persons_portal_activity_and_only_theirs(personas, rich_case):
    from samverkan.audit.services import audit_record

    mine = rich_case.guardian_1.guardian_id
    other = rich_case.guardian_2.guardian_id
    with transaction.atomic():
        for subject, pk, method in (
            ("guardian", mine, "eid"),
            ("guardian", other, "code"),
            ("youth", mine, "code"),  # the same id in the other kind is someone else
        ):
            audit_record(
                action="portal.login",
                object_type=f"cases.{subject}",
                object_id=str(pk),
                details={"portal_subject": subject, "portal_subject_id": pk, "method": method},
            )
    archive = export.subject_export(actor=personas.auditor, identity_number=GUARDIAN_1_NUMBER)
    assert archive is not None
    data, _ = _unzip(archive.content)
    activity = data["guardian"]["portal_activity"]
    assert [(a["action"], a["method"], a["outcome"]) for a in activity] == [
        ("portal.login", "eid", "allowed")
    ]
    assert activity[0]["at"]


def test_the_export_holds_the_persons_e_id_orders_and_only_theirs(personas, rich_case):
    from samverkan.lib.fields import search_hash
    from samverkan.portal.models import EidOrder

    def order(reference: str, number: str) -> None:
        EidOrder.objects.create(
            reference=reference,
            purpose="login",
            status="complete",
            identity_number_hash=search_hash("eid", number.replace("-", "")),
            expires_at=timezone.now(),
            completed_at=timezone.now(),
        )

    order("ref-mine", GUARDIAN_1_NUMBER)
    order("ref-other", GUARDIAN_2_NUMBER)
    order("ref-youth", YOUTH_NUMBER)
    archive = export.subject_export(actor=personas.auditor, identity_number=GUARDIAN_1_NUMBER)
    assert archive is not None
    data, _ = _unzip(archive.content)
    (mine,) = data["guardian"]["eid_orders"]
    assert mine["reference"] == "ref-mine"
    assert mine["purpose"] == "login"
    assert mine["status"] == "complete"
    assert mine["completed_at"]
    archive = export.subject_export(actor=personas.auditor, identity_number=YOUTH_NUMBER)
    assert archive is not None
    data, _ = _unzip(archive.content)
    assert [o["reference"] for o in data["youth"]["eid_orders"]] == ["ref-youth"]
