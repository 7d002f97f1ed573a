"""Legal holds (issue 7 item 2): auditors place and release them at /records/holds/; nobody
else sees the pages, and the pages show a case's id and pseudonym, never its content."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from samverkan.audit.models import AuditEvent
from samverkan.cases.services import case_raise
from samverkan.records.models import LegalHold
from samverkan.records.services import legal_hold_place, legal_hold_release
from tests.consent.conftest import GUARDIAN_1_NAME, YOUTH_NAME, YOUTH_NUMBER
from tests.helpers import assert_trio, count_queries
from tests.records.test_retention import valid_number

pytestmark = pytest.mark.django_db

HOLDS = "/records/holds/"
REASON = "Begäran från åklagare om bevarande"


def _release_url(hold: LegalHold) -> str:
    return reverse("records:hold_release", args=[hold.pk])


def _others(personas):
    return [
        personas.practitioner,
        personas.colleague,
        personas.other_agency,
        personas.police,
        personas.coordinator,
        personas.agreement_editor,
        personas.council_member,
        personas.admin,
        personas.outsider,
        personas.no_role,
    ]


def test_the_url_is_the_named_one() -> None:
    assert reverse("records:holds") == HOLDS


def test_trio_on_the_list(client_for, personas, consent_case) -> None:
    assert_trio(client_for, HOLDS, allowed=personas.auditor, outsider=personas.outsider)
    assert_trio(
        client_for,
        HOLDS,
        allowed=personas.auditor,
        outsider=personas.outsider,
        method="post",
        wrong_method="delete",
        data={"pseudonym": consent_case.case.youth.pseudonym, "reason": REASON},
    )


def test_only_auditors_reach_the_pages(client_for, personas, consent_case) -> None:
    hold = legal_hold_place(actor=personas.auditor, case=consent_case.case, reason=REASON)
    for user in _others(personas):
        c = client_for(user, reauth=True)
        assert c.get(HOLDS).status_code == 404, user
        assert c.post(HOLDS, {"pseudonym": "x", "reason": "y"}).status_code == 404, user
        assert c.get(_release_url(hold)).status_code == 404, user
        assert c.post(_release_url(hold)).status_code == 404, user
    assert LegalHold.objects.filter(pk=hold.pk).exists()
    assert client_for(None).get(HOLDS).status_code == 302  # to the login page


def test_an_auditor_places_a_hold_by_pseudonym(client_for, personas, consent_case) -> None:
    case = consent_case.case
    c = client_for(personas.auditor)
    response = c.post(HOLDS, {"pseudonym": case.youth.pseudonym.lower(), "reason": REASON})
    assert response.status_code == 302
    hold = LegalHold.objects.get(case=case)
    assert hold.reason == REASON
    assert hold.placed_by == personas.auditor
    event = AuditEvent.objects.get(action="records.legal_hold_placed")
    assert event.case_id == case.pk
    assert event.actor == personas.auditor
    page = c.get(HOLDS)
    text = page.content.decode()
    assert case.youth.pseudonym in text
    assert f"<td>{case.pk}</td>" in text
    # Never case content: no name, no number, no reason for the case.
    for secret in (YOUTH_NAME, GUARDIAN_1_NAME, YOUTH_NUMBER, "frånvaro"):
        assert secret not in text
    assert AuditEvent.objects.filter(action="records.legal_holds_viewed").exists()


def test_the_form_refuses_what_it_cannot_place(client_for, personas, consent_case) -> None:
    case = consent_case.case
    c = client_for(personas.auditor)
    missing = c.post(HOLDS, {"pseudonym": "AVE-1999-0001", "reason": REASON})
    assert missing.status_code == 200
    assert b"No case has that pseudonym" in missing.content
    blank = c.post(HOLDS, {"pseudonym": case.youth.pseudonym, "reason": "  "})
    assert blank.status_code == 200
    number = c.post(HOLDS, {"pseudonym": case.youth.pseudonym, "reason": f"Gäller {YOUTH_NUMBER}"})
    assert b"identity number" in number.content
    assert not LegalHold.objects.exists()
    # A youth with two cases: the case number says which.
    second = case_raise(
        actor=personas.practitioner,
        group=case.group,
        agency=case.raising_agency,
        identity_number=YOUTH_NUMBER,
        name=YOUTH_NAME,
        gender="M",
        reason="Ny oro efter sommaren.",
    ).case
    ambiguous = c.post(HOLDS, {"pseudonym": case.youth.pseudonym, "reason": REASON})
    assert b"several cases" in ambiguous.content
    chosen = c.post(
        HOLDS, {"pseudonym": case.youth.pseudonym, "case_number": second.pk, "reason": REASON}
    )
    assert chosen.status_code == 302
    assert list(LegalHold.objects.values_list("case_id", flat=True)) == [second.pk]
    twice = c.post(
        HOLDS, {"pseudonym": case.youth.pseudonym, "case_number": second.pk, "reason": REASON}
    )
    assert b"already on legal hold" in twice.content


def test_release_asks_first_then_lifts_the_hold(client_for, personas, consent_case) -> None:
    hold = legal_hold_place(actor=personas.auditor, case=consent_case.case, reason=REASON)
    url = _release_url(hold)
    assert_trio(client_for, url, allowed=personas.auditor, outsider=personas.outsider)
    c = client_for(personas.auditor, reauth=True)
    confirm = c.get(url)
    assert confirm.status_code == 200
    assert b"Yes, release the hold" in confirm.content
    assert LegalHold.objects.filter(pk=hold.pk).exists()
    response = c.post(url)
    assert response.status_code == 302
    assert not LegalHold.objects.filter(pk=hold.pk).exists()
    event = AuditEvent.objects.get(action="records.legal_hold_released")
    assert event.case_id == consent_case.case.pk
    assert c.post(url).status_code == 404


def test_release_needs_a_recent_password(client_for, personas, consent_case) -> None:
    hold = legal_hold_place(actor=personas.auditor, case=consent_case.case, reason=REASON)
    response = client_for(personas.auditor).post(_release_url(hold))
    assert response.status_code == 302
    assert "reauthenticate" in response["Location"]
    assert LegalHold.objects.filter(pk=hold.pk).exists()


def test_services_refuse_everyone_but_auditors(personas, consent_case) -> None:
    with pytest.raises(ValidationError):
        legal_hold_place(actor=personas.admin, case=consent_case.case, reason=REASON)
    hold = legal_hold_place(actor=personas.auditor, case=consent_case.case, reason=REASON)
    with pytest.raises(ValidationError):
        legal_hold_release(actor=personas.coordinator, hold=hold)
    assert LegalHold.objects.filter(pk=hold.pk).exists()


def test_the_list_costs_the_same_for_one_hold_and_many(
    client_for, personas, world, consent_case
) -> None:
    legal_hold_place(actor=personas.auditor, case=consent_case.case, reason=REASON)
    c = client_for(personas.auditor)
    c.get(HOLDS)  # the session's first request writes more than the ones after it
    one = count_queries(c, HOLDS)
    for i, number in enumerate(("20110405-1232", "20100607-1234", "20130909-1236")):
        case = case_raise(
            actor=personas.practitioner,
            group=world.avesta_group,
            agency=world.avesta_school,
            identity_number=valid_number(number),
            name=f"Testbarn Nummer{i}",
            gender="F",
            reason="Oro för skolgången.",
        ).case
        legal_hold_place(actor=personas.auditor, case=case, reason=REASON)
    assert LegalHold.objects.count() == 4
    assert count_queries(c, HOLDS) == one
