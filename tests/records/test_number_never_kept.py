"""An identity number typed into a records form is never kept: not in the session when the
password confirmation has lapsed, not in a URL, not written back into an error page."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.utils import timezone

from samverkan.audit.models import AuditEvent
from samverkan.records.models import LegalHold
from samverkan.records.services import legal_hold_place
from tests.consent.conftest import YOUTH_NUMBER

pytestmark = pytest.mark.django_db

EXPORT = "/records/export/"
REVIEW = "/records/review/"
RECORD = "/records/review/record/"
# A valid number held by no one here.
OTHER_NUMBER = "19900101-0017"


def variants(number: str) -> list[str]:
    """The ways a number may be written or stored: 12 and 10 digits, with and without dash."""
    digits = number.replace("-", "").replace("+", "")
    return [digits, digits[2:], f"{digits[:8]}-{digits[8:]}", f"{digits[2:8]}-{digits[8:]}"]


def session_text() -> str:
    """Every session row, decoded, as one text."""
    return "\n".join(repr(s.get_decoded()) for s in Session.objects.all())


def assert_absent(number: str, text: str) -> None:
    for variant in variants(number):
        assert variant not in text, variant


def lapsed() -> time_machine.travel:
    # Past the password confirmation (300 s), well within the session's idle timeout.
    return time_machine.travel(timezone.now() + dt.timedelta(minutes=10), tick=False)


# --- 1. The export when the password confirmation has lapsed --------------------------------


def test_a_post_after_the_confirmation_lapsed_keeps_no_number_in_the_session(
    client_for, personas, consent_case
):
    c = client_for(personas.auditor, reauth=True)
    assert c.get(EXPORT).status_code == 200
    before = AuditEvent.objects.filter(action="records.subject_exported").count()
    with lapsed():
        response = c.post(EXPORT, {"identity_number": YOUTH_NUMBER, "language": "en"})
        assert response.status_code == 302
        assert "reauthenticate" in response["Location"]
        assert "next=%2Frecords%2Fexport%2F" in response["Location"]
        assert_absent(YOUTH_NUMBER, response["Location"])
        assert_absent(YOUTH_NUMBER, session_text())
        assert Session.objects.exists(), "the scan must see the session"
        # Nothing was exported, and the message asks for the number again.
        assert AuditEvent.objects.filter(action="records.subject_exported").count() == before
        page = c.get(response["Location"]).content.decode()
        assert "type the identity number again" in page
    assert_absent(YOUTH_NUMBER, session_text())


def test_opening_the_page_still_asks_for_the_password(client_for, personas):
    c = client_for(personas.auditor, reauth=True)
    with lapsed():
        response = c.get(EXPORT)
    assert response.status_code == 302
    assert "reauthenticate" in response["Location"]


def test_the_identity_search_of_the_log_review_keeps_no_number_in_the_session(
    client_for, personas, consent_case
):
    c = client_for(personas.auditor, reauth=True)
    with lapsed():
        response = c.post(REVIEW, {"identity_number": YOUTH_NUMBER})
        assert response.status_code == 302
        assert "reauthenticate" not in response["Location"]
        assert_absent(YOUTH_NUMBER, response["Location"])
        assert_absent(YOUTH_NUMBER, session_text())
        assert Session.objects.exists()


def test_releasing_a_hold_after_the_confirmation_lapsed_is_suspended_without_a_number(
    client_for, personas, consent_case
):
    hold = legal_hold_place(actor=personas.auditor, case=consent_case.case, reason="Tvist")
    c = client_for(personas.auditor, reauth=True)
    with lapsed():
        response = c.post(f"/records/holds/{hold.pk}/release/")
        assert response.status_code == 302
        assert "reauthenticate" in response["Location"]
        assert_absent(YOUTH_NUMBER, session_text())
    assert LegalHold.objects.filter(pk=hold.pk).exists()


# --- 2. Identity numbers in the log review's filters ----------------------------------------


@pytest.mark.parametrize("field", ["actor", "action", "case"])
@pytest.mark.parametrize("written", variants(YOUTH_NUMBER))
def test_a_number_in_a_filter_is_refused_and_not_written_back(
    client_for, personas, consent_case, field, written
):
    c = client_for(personas.auditor)
    before = AuditEvent.objects.filter(action="records.log_searched").count()
    response = c.get(REVIEW, {field: written, "outcome": "denied"})
    # Sent back to the filters without the number; the other filters stay.
    assert response.status_code == 302
    assert_absent(YOUTH_NUMBER, response["Location"])
    assert "outcome=denied" in response["Location"]
    page = c.get(response["Location"]).content.decode()
    assert "search by number with its own form" in page
    assert_absent(YOUTH_NUMBER, page)
    assert_absent(YOUTH_NUMBER, session_text())
    # No search with the number ran, so nothing of it reached the audit log.
    searches = AuditEvent.objects.filter(action="records.log_searched").order_by("id")
    assert searches.count() == before + 1
    assert_absent(YOUTH_NUMBER, repr([e.details for e in searches]))


@pytest.mark.parametrize("field", ["actor", "action", "case"])
def test_the_form_itself_refuses_a_number_and_does_not_write_it_back(field):
    from samverkan.records.forms import ReviewFilterForm

    form = ReviewFilterForm(
        {"date_from": "2026-01-01", "date_to": "2026-01-31", field: YOUTH_NUMBER}
    )
    assert not form.is_valid()
    assert "identity number with its own form" in str(form.errors[field])
    assert_absent(YOUTH_NUMBER, str(form))


@pytest.mark.parametrize("field", ["actor", "action", "case"])
def test_a_number_in_a_recorded_reviews_filters_is_refused_and_not_written_back(
    client_for, personas, consent_case, field
):
    today = timezone.localdate().isoformat()
    response = client_for(personas.auditor).post(
        RECORD,
        {
            "date_from": today,
            "date_to": today,
            "findings": "Inga avvikelser.",
            "sign_off": "on",
            field: YOUTH_NUMBER,
        },
    )
    assert response.status_code == 400
    assert_absent(YOUTH_NUMBER, response.content.decode())


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("action", "entry.*", "only the letters a to z"),
        ("action", "entry; drop", "only the letters a to z"),
        ("actor", "anna bertil", "A username has only"),
        ("actor", "anna/..", "A username has only"),
    ],
)
def test_filters_outside_their_character_set_are_refused(
    client_for, personas, field, value, message
):
    response = client_for(personas.auditor).get(REVIEW, {field: value})
    assert message in response.content.decode()
    assert not AuditEvent.objects.filter(action="records.log_searched").exists()


def test_well_formed_filters_still_search_and_are_shown_again(client_for, personas):
    response = client_for(personas.auditor).get(REVIEW, {"actor": "anna", "action": "Entry."})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'value="anna"' in page
    assert 'value="Entry."' in page
    event = AuditEvent.objects.filter(action="records.log_searched").latest("id")
    assert event.details["actor"] == "anna"
    assert event.details["action"] == "entry."


# --- 3. The export form never writes the number back ----------------------------------------


@pytest.mark.parametrize(
    ("number", "language"),
    [
        ("20120315-1237", "en"),  # wrong check digit
        ("201203151237", "en"),
        (YOUTH_NUMBER, "xx"),  # a valid number with a tampered language
        (YOUTH_NUMBER.replace("-", "")[2:], "de"),
    ],
)
def test_a_refused_export_form_does_not_repeat_the_number(
    client_for, personas, consent_case, number, language
):
    response = client_for(personas.auditor, reauth=True).post(
        EXPORT, {"identity_number": number, "language": language}
    )
    assert response.status_code == 400
    assert_absent(number, response.content.decode())


# --- 11. A hold on a case purged meanwhile --------------------------------------------------


def test_a_hold_on_a_case_that_no_longer_exists_is_refused(personas, consent_case):
    from django.core.exceptions import ValidationError

    case = consent_case.case
    stale = type(case).objects.get(pk=case.pk)
    type(case).objects.filter(pk=case.pk).delete()
    with pytest.raises(ValidationError, match="no longer exists"):
        legal_hold_place(actor=personas.auditor, case=stale, reason="Begäran från åklagare")
    assert not LegalHold.objects.exists()
