"""The data-subject export tells the youth where their journal went: to whom each entry was
shown under a consent, and each statutory disclosure with its basis. And the export itself, the
most sensitive one, is never made from a POST without a recent password confirmation."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest
from django.contrib.sessions.models import Session

from samverkan.audit.models import AuditEvent
from samverkan.cases.services import entry_add, team_add
from samverkan.consent.services import statutory_disclose
from samverkan.disclosure import selectors as disclosure_selectors
from samverkan.disclosure.statutory import BASES
from samverkan.records.subject_export import services as export
from tests.consent.conftest import YOUTH_NUMBER
from tests.helpers import statutory_conditions

pytestmark = pytest.mark.django_db

URL = "/records/export/"
SCHOOL_TEXT = "Frånvaro 40 % i oktober."
SOCIAL_TEXT = "Familjen har haft kontakt med socialtjänsten om boendet."
JUSTIFICATION = "Risk för fortsatt brottslig verksamhet enligt samlad bedömning"


def _subject(content: bytes) -> dict[str, Any]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        data: dict[str, Any] = json.loads(archive.read("subject.json"))
    return data


def _entries_by_text(personas) -> dict[str, dict[str, Any]]:
    archive = export.subject_export(actor=personas.auditor, identity_number=YOUTH_NUMBER)
    assert archive is not None
    (case,) = _subject(archive.content)["youth"]["cases"]
    return {entry["versions"][-1]["text"]: entry for entry in case["entries"]}


def test_the_export_says_to_whom_an_entry_was_shown_under_consent(
    personas, world, consent_case, active_consent
):
    """Issue 19 mutation 11: each entry in the export lists the agencies it was shown to."""
    entry_add(
        actor=personas.practitioner,
        case=consent_case.case,
        agency=world.avesta_school,
        category=consent_case.school_category,
        text=SCHOOL_TEXT,
    )
    # Social services reads the journal: the school's entry crosses under the consent.
    access = disclosure_selectors.case_open(viewer=personas.other_agency, pk=consent_case.case.pk)
    disclosure_selectors.entry_listing(access)
    entry = _entries_by_text(personas)[SCHOOL_TEXT]
    assert len(entry["disclosures"]) == 1, entry
    shown = entry["disclosures"][0]
    assert shown["to_agency"] == world.avesta_social.name
    assert shown["basis"] == f"consent:{active_consent.pk}"
    assert shown["first_at"]


def test_the_export_lists_statutory_disclosures(personas, world, consent_case, active_consent):
    """Issue 19 mutation 10: statutory disclosures of the youth's entries are in the export."""
    case = consent_case.case
    team_add(actor=personas.coordinator, case=case, user=personas.police, agency=world.police)
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
    entry = _entries_by_text(personas)[SOCIAL_TEXT]
    assert len(entry["statutory_disclosures"]) == 1, entry
    disclosed = entry["statutory_disclosures"][0]
    assert disclosed["to_agency"] == world.police.name
    assert disclosed["basis"] == "social_to_police_under_21"
    assert disclosed["justification"] == JUSTIFICATION
    assert disclosed["disclosed_at"]
    # The provision and the conditions as the person confirmed them, not just the code.
    basis = next(b for b in BASES if b.code == "social_to_police_under_21")
    assert disclosed["provision"] == basis.reference
    assert disclosed["conditions_confirmed"] == [str(c.text) for c in basis.conditions]


def test_a_post_without_a_recent_password_exports_nothing(client_for, personas, consent_case):
    """Issue 19 mutation 13: the export POST itself asks for the password again; without a
    recent authentication no archive is made and nothing is audited as exported."""
    c = client_for(personas.auditor)  # logged in, but the password not confirmed recently
    response = c.post(URL, {"identity_number": YOUTH_NUMBER, "language": "en"})
    assert response.status_code == 302
    assert "reauthenticate" in response["Location"]
    assert response.get("Content-Type", "") != "application/zip"
    assert not AuditEvent.objects.filter(action="records.subject_exported").exists()
    # Nor is the number kept to finish the export once the password is given.
    digits = YOUTH_NUMBER.replace("-", "")
    for session in Session.objects.all():
        text = repr(session.get_decoded())
        assert digits not in text
        assert digits[2:] not in text
        assert YOUTH_NUMBER not in text
