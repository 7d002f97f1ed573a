"""Redaction before a register extract is released (issue 19, legal gap 6).

The preparer sees what secrecy may protect (the reporter of a concern, other persons named,
other agencies' journal entries), chooses what to redact and why; the archive shows
``[redacted: reason]`` in its place, the rest as it is, and the export's audit event records
the choices. Statutory and "shown to" disclosures stay in the export.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from samverkan.audit.models import AuditEvent
from samverkan.cases.models import ConcernReport
from samverkan.cases.services import concern_report_add, entry_add
from samverkan.consent.services import statutory_disclose
from samverkan.disclosure import selectors as disclosure_selectors
from samverkan.records.subject_export import RedactionError, subject_export, subject_export_review
from samverkan.records.subject_export import services as export
from tests.consent.conftest import GUARDIAN_1_NAME, GUARDIAN_2_NAME, YOUTH_NUMBER
from tests.helpers import statutory_conditions

pytestmark = pytest.mark.django_db

URL = "/records/export/"
SCHOOL_TEXT = "Frånvaro 40 % i oktober enligt skolans närvarolista."
SOCIAL_TEXT = "Familjen har haft kontakt med socialtjänsten om boendet."
JUSTIFICATION = "Risk för fortsatt brottslig verksamhet enligt samlad bedömning"


def unzip(content: bytes) -> tuple[dict[str, Any], bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return json.loads(archive.read("subject.json")), archive.read("subject.pdf")


def release(c: Client, review_page: bytes, choices: dict[str, str] | None = None) -> Any:
    """Post the review page back, its defaults changed by ``choices`` (field name -> reason)."""
    html = review_page.decode()
    token = re.search(r'name="token" value="([^"]+)"', html)
    assert token is not None, "no review form"
    data = {"token": token.group(1)}
    for name, body in re.findall(r'<select name="(redact_[^"]+)"[^>]*>(.*?)</select>', html, re.S):
        picked = re.search(r'<option value="([^"]*)" selected>', body)
        data[name] = picked.group(1) if picked else ""
    data.update(choices or {})
    return c.post(URL, data)


def export_via_page(c: Client, number: str, language: str = "en", **choices: str) -> Any:
    review = c.post(URL, {"identity_number": number, "language": language})
    assert review.status_code == 200, review.status_code
    return release(c, review.content, choices)


@pytest.fixture
def disclosed(personas, world, consent_case, active_consent) -> dict[str, Any]:
    """A school entry shown to social services under the consent, a social services entry
    disclosed to the police under a statute, and a report of concern by the school."""
    case = consent_case.case
    school = entry_add(
        actor=personas.practitioner,
        case=case,
        agency=world.avesta_school,
        category=consent_case.school_category,
        text=SCHOOL_TEXT,
    )
    access = disclosure_selectors.case_open(viewer=personas.other_agency, pk=case.pk)
    disclosure_selectors.entry_listing(access)
    team_police(personas, world, case)
    social = entry_add(
        actor=personas.other_agency,
        case=case,
        agency=world.avesta_social,
        category=consent_case.social_category,
        text=SOCIAL_TEXT,
    )
    statutory_disclose(
        actor=personas.other_agency,
        entry=social,
        to_agency_id=world.police.pk,
        basis_code="social_to_police_under_21",
        justification=JUSTIFICATION,
        conditions_confirmed=statutory_conditions("social_to_police_under_21"),
    )
    report = concern_report_add(
        actor=personas.practitioner,
        case=case,
        agency=world.avesta_school,
        reported_on=timezone.localdate(),
    )
    return {"school": school, "social": social, "report": report, "case": case}


def team_police(personas, world, case) -> None:
    from samverkan.cases.services import team_add

    team_add(actor=personas.coordinator, case=case, user=personas.police, agency=world.police)


def _case(data: dict[str, Any]) -> dict[str, Any]:
    (case,) = data["youth"]["cases"]
    return case


def _report_id(disclosed: dict[str, Any]) -> int:
    report: ConcernReport = disclosed["report"]
    return report.pk


def test_the_reporter_is_offered_and_redacted_by_default(personas, world, disclosed) -> None:
    candidates = subject_export_review(actor=personas.auditor, identity_number=YOUTH_NUMBER)
    assert candidates is not None
    by_key = {c.key: c for c in candidates}
    reporter = by_key[f"concern:{_report_id(disclosed)}"]
    assert reporter.default
    assert reporter.suggested == "notifier"
    # The other persons and the other agencies' entries are offered, not redacted by default.
    assert not by_key[f"entry:{disclosed['school'].pk}"].default
    assert any(c.kind == "person" and not c.default for c in candidates)

    archive = subject_export(actor=personas.auditor, identity_number=YOUTH_NUMBER, language="en")
    assert archive is not None
    data, pdf = unzip(archive.content)
    (report,) = _case(data)["concern_reports"]
    assert report["agency"] == "[redacted: the reporter's identity, OSL 26 kap. 5 §]"
    assert world.avesta_school.name not in json.dumps(report)
    assert pdf.startswith(b"%PDF")


def test_chosen_items_are_redacted_and_the_rest_is_present(
    client_for, personas, world, disclosed
) -> None:
    c = client_for(personas.auditor, reauth=True)
    review = c.post(URL, {"identity_number": YOUTH_NUMBER, "language": "en"})
    assert review.status_code == 200
    page = review.content.decode()
    # The page offers the items with their reasons; the number is not in it, not even encoded.
    assert "Report of concern of" in page
    assert YOUTH_NUMBER not in page
    assert YOUTH_NUMBER.replace("-", "") not in page
    assert "Do not redact" in page
    school_field = f"redact_entry_{disclosed['school'].pk}"
    assert school_field in page
    guardian_field = f"redact_person_{disclosed['case'].pk}_0"
    response = release(
        c,
        review.content,
        {school_field: "other_agency", guardian_field: "third_party"},
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    data, _pdf = unzip(response.content)
    case = _case(data)
    entries = {e["id"]: e for e in case["entries"]}
    school = entries[disclosed["school"].pk]
    assert [v["text"] for v in school["versions"]] == ["[redacted: another agency's secrecy]"]
    # Not chosen: present as written.
    assert entries[disclosed["social"].pk]["versions"][-1]["text"] == SOCIAL_TEXT
    # The first guardian recorded is guardian 1: redacted; the second is not.
    assert [g["name"] for g in case["guardians"]] == [
        "[redacted: secrecy for another person]",
        GUARDIAN_2_NAME,
    ]
    assert GUARDIAN_1_NAME not in json.dumps(case)
    # The same guardian as a signer of a consent is redacted there too.
    signer_names = [s["name"] for con in case["consents"] for s in con["signers"]]
    assert "[redacted: secrecy for another person]" in signer_names
    # The reporter stayed redacted: the default was posted back.
    assert case["concern_reports"][0]["agency"].startswith("[redacted:")
    # Statutory and "shown to" disclosures are in the export, redacted entry or not.
    assert school["disclosures"]
    assert school["disclosures"][0]["to_agency"] == (world.avesta_social.name)
    social = entries[disclosed["social"].pk]
    assert social["statutory_disclosures"][0]["to_agency"] == world.police.name
    assert social["statutory_disclosures"][0]["justification"] == JUSTIFICATION


def test_the_preparer_may_release_the_reporter(client_for, personas, world, disclosed) -> None:
    c = client_for(personas.auditor, reauth=True)
    field = f"redact_concern_{_report_id(disclosed)}"
    response = export_via_page(c, YOUTH_NUMBER, **{field: ""})
    data, _pdf = unzip(response.content)
    assert _case(data)["concern_reports"][0]["agency"] == world.avesta_school.name


def test_the_audit_event_records_the_redactions(client_for, personas, disclosed) -> None:
    c = client_for(personas.auditor, reauth=True)
    school_field = f"redact_entry_{disclosed['school'].pk}"
    export_via_page(c, YOUTH_NUMBER, **{school_field: "other_agency"})
    events = AuditEvent.objects.filter(action="records.subject_exported", case_id__isnull=False)
    event = events.get()
    report_key = f"concern:{_report_id(disclosed)}"
    school_key = f"entry:{disclosed['school'].pk}"
    items = event.details["redacted_items"]
    reasons = dict(zip(items, event.details["redaction_reasons"], strict=True))
    assert reasons == {report_key: "notifier", school_key: "other_agency"}
    assert event.details["redactions"] == 2
    # No content in the event: ids and reason codes only.
    assert SCHOOL_TEXT not in json.dumps(event.details)
    # The preparation that showed the items is audited too.
    assert AuditEvent.objects.filter(action="records.subject_export_prepared").exists()


def test_redaction_is_in_the_same_transaction_as_the_export(personas, disclosed, monkeypatch):
    """A failure writing the export's event leaves no record of redactions either, and no
    archive is handed over."""

    def broken(**kwargs: Any) -> None:
        raise RuntimeError("audit down")

    monkeypatch.setattr(export, "audit_record_many", broken)
    with pytest.raises(RuntimeError):
        subject_export(actor=personas.auditor, identity_number=YOUTH_NUMBER)
    assert not AuditEvent.objects.filter(action="records.subject_exported").exists()


def test_an_item_not_offered_is_refused(personas, disclosed) -> None:
    with pytest.raises(RedactionError):
        subject_export(
            actor=personas.auditor,
            identity_number=YOUTH_NUMBER,
            redactions={"entry:999999": "other_agency"},
        )
    with pytest.raises(RedactionError):
        subject_export(
            actor=personas.auditor,
            identity_number=YOUTH_NUMBER,
            redactions={f"entry:{disclosed['school'].pk}": "because"},
        )


def test_a_forged_or_foreign_token_exports_nothing(client_for, personas, disclosed) -> None:
    c = client_for(personas.auditor, reauth=True)
    review = c.post(URL, {"identity_number": YOUTH_NUMBER, "language": "en"})
    token = re.search(r'name="token" value="([^"]+)"', review.content.decode())
    assert token is not None
    forged = c.post(URL, {"token": token.group(1)[:-2] + "xx"})
    assert forged.status_code == 400
    assert forged.get("Content-Type", "") != "application/zip"
    # Another auditor cannot use it.
    from samverkan.organisations.models import Role
    from tests.helpers import make_user

    other = make_user("olle", personas.auditor.memberships.first().agency, Role.AUDITOR)
    response = client_for(other, reauth=True).post(URL, {"token": token.group(1)})
    assert response.status_code == 400
    assert not AuditEvent.objects.filter(
        action="records.subject_exported", case_id__isnull=False
    ).exists()


def test_the_release_post_asks_for_the_password_again(client_for, personas, disclosed) -> None:
    c = client_for(personas.auditor, reauth=True)
    review = c.post(URL, {"identity_number": YOUTH_NUMBER, "language": "en"})
    stale = client_for(personas.auditor)  # same user, no recent password
    token = re.search(r'name="token" value="([^"]+)"', review.content.decode())
    assert token is not None
    response = stale.post(URL, {"token": token.group(1)})
    assert response.status_code == 302
    assert "reauthenticate" in response["Location"]


def test_the_swedish_extract_says_maskerat(personas, disclosed) -> None:
    archive = subject_export(actor=personas.auditor, identity_number=YOUTH_NUMBER, language="sv")
    assert archive is not None
    data, _pdf = unzip(archive.content)
    assert _case(data)["concern_reports"][0]["agency"].startswith("[maskerat: ")


def test_a_report_recorded_after_the_review_is_not_released_unseen(
    client_for, personas, disclosed
) -> None:
    """Found in review: the release step worked out the items again, and one that appeared
    after the review (a report of concern recorded meanwhile) went out unredacted, the
    preparer never having seen it. Now the release is refused and nothing is exported."""
    c = client_for(personas.auditor, reauth=True)
    review = c.post(URL, {"identity_number": YOUTH_NUMBER, "language": "en"})
    assert review.status_code == 200
    concern_report_add(
        actor=personas.practitioner,
        case=disclosed["case"],
        agency=disclosed["school"].agency,
        reported_on=timezone.localdate(),
    )
    response = release(c, review.content)
    assert response.status_code == 400
    assert "The data changed while the extract was prepared" in response.content.decode()
    assert response.get("Content-Type", "").startswith("text/html")


def test_an_item_the_choices_do_not_mention_keeps_its_default(personas, disclosed) -> None:
    """The service's own guard against the same race: only an explicit empty reason releases
    an item redacted by default."""
    school_entry = f"entry:{disclosed['school'].pk}"
    archive = subject_export(
        actor=personas.auditor,
        identity_number=YOUTH_NUMBER,
        language="en",
        redactions={school_entry: ""},
    )
    assert archive is not None
    data, _ = unzip(archive.content)
    assert _case(data)["concern_reports"][0]["agency"].startswith("[redacted:")


def test_the_access_log_does_not_name_the_redacted_reporter(personas, world, disclosed) -> None:
    """Found in review: the access log has a row "Recorded a report of concern" with the
    recording agency and the day, which would undo the redaction of the reporter."""
    archive = subject_export(actor=personas.auditor, identity_number=YOUTH_NUMBER, language="en")
    assert archive is not None
    data, _ = unzip(archive.content)
    rows = [r for r in data["access_log"] if r["action"] == "Recorded a report of concern"]
    assert rows, data["access_log"]
    for row in rows:
        assert row["agency"].startswith("[redacted:"), row
        assert world.avesta_school.name not in json.dumps(row)
    # Released by the preparer, the access log names the agency again.
    released = subject_export(
        actor=personas.auditor,
        identity_number=YOUTH_NUMBER,
        language="en",
        redactions={f"concern:{_report_id(disclosed)}": ""},
    )
    assert released is not None
    data, _ = unzip(released.content)
    rows = [r for r in data["access_log"] if r["action"] == "Recorded a report of concern"]
    assert any(r["agency"] == world.avesta_school.name for r in rows), rows


def test_a_redacted_entry_takes_its_disclosures_justification_with_it(personas, disclosed):
    """The justification of a statutory disclosure is the disclosing agency's words about the
    entry: redacting the entry redacts it too."""
    archive = subject_export(
        actor=personas.auditor,
        identity_number=YOUTH_NUMBER,
        language="en",
        redactions={f"entry:{disclosed['social'].pk}": "other_agency"},
    )
    assert archive is not None
    data, _ = unzip(archive.content)
    (social,) = [e for e in _case(data)["entries"] if e["id"] == disclosed["social"].pk]
    (statutory,) = social["statutory_disclosures"]
    assert statutory["justification"] == "[redacted: another agency's secrecy]"
    assert JUSTIFICATION not in json.dumps(data)
