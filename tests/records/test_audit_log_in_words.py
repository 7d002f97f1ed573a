"""The audit log page speaks: actions as sentences, people by name with agency and role, objects
by pseudonym or label, the legal basis and the source in words — in Swedish and in English —
and never a system code such as ``accounts.user 8``."""

from __future__ import annotations

import re

from django.db import transaction
from django.utils import timezone

from samverkan.audit.models import Outcome
from samverkan.audit.services import audit_record
from samverkan.records.models import LogReview
from tests.helpers import count_queries

REVIEW = "/records/review/"
RAW_LABEL = re.compile(r"\b[a-z_]+\.[a-z_]+ \d+\b")  # "accounts.user 8"
RAW_CODE = re.compile(r"\b[a-z_]+\.[a-z_]+\b")  # "entry.viewed", "own_agency" has no dot


def _visible_text(html: str) -> str:
    """The page's text as a reader meets it: no tags, attributes, scripts or styles."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def _events(personas, world, consent_case) -> LogReview:
    case = consent_case.case
    review = LogReview.objects.create(
        period_start=timezone.localdate(),
        period_end=timezone.localdate(),
        findings="Inget att anmärka.",
        signed_off_by=personas.auditor,
    )
    with transaction.atomic():
        audit_record(
            action="entry.viewed",
            actor=personas.other_agency,
            agency=world.avesta_social,
            obj=case,
            case_id=case.pk,
            legal_basis="consent:12",
            details={"entries": [7, 9]},  # a page's entries under one basis (D29)
        )
        audit_record(
            action="entry.viewed",
            actor=personas.practitioner,
            agency=world.avesta_school,
            case_id=case.pk,
            object_type="cases.entry",
            object_id=8,
            legal_basis="own_agency",
        )
        audit_record(action="user.viewed", actor=personas.admin, obj=personas.colleague)
        audit_record(action="youth.registered", actor=personas.practitioner, obj=case.youth)
        audit_record(action="agency.updated", actor=personas.admin, obj=world.avesta_leisure)
        audit_record(
            action="consent.signed",
            actor=personas.coordinator,
            agency=world.avesta_social,
            case_id=case.pk,
            object_type="consent.consentsignature",
            object_id=12,
            outcome=Outcome.DENIED,
        )
        audit_record(action="records.log_review_viewed", actor=personas.auditor, obj=review)
    return review


def test_events_are_shown_in_words(client_for, personas, world, consent_case):
    review = _events(personas, world, consent_case)
    pseudonym = consent_case.case.youth.pseudonym
    response = client_for(personas.auditor).get(REVIEW)
    html = response.content.decode()
    text = _visible_text(html)
    # Actions as sentences, people by name with role and agency, never by user name.
    assert "Read journal entries" in text
    assert "Journal entries no. 7, 9" in text  # who read entry 7 is on the page
    assert "Cecilia Testsson" in text
    assert "Practitioner – Avesta socialtjänst" in text
    assert "SSPF coordinator, Practitioner – Avesta socialtjänst" in text
    assert "(denied)" in text
    # Objects by name, pseudonym or label; a review links to itself.
    assert "Bertil Testsson" in text  # the user looked at
    assert "Avesta fritid" in text  # the agency changed
    assert "Consent signature no. 12" in text
    assert f'href="/records/review/past/{review.pk}/"' in html
    # The legal basis and the source in words.
    assert "Consent no. 12" in text
    assert "The agency&#x27;s own information" in text
    assert "by a scheduled job" in text  # written outside a request
    # No code anywhere a reader looks.
    assert not RAW_LABEL.search(text), RAW_LABEL.search(text)
    for code in ("entry.viewed", "consent.signed", "own_agency", "consent:12", "anna", "cecilia"):
        assert not re.search(rf"(?<![\w.@-]){re.escape(code)}(?![\w.@-])", text), code
    # People and cases are filters of this page: the auditor may follow those links.
    assert f"case={pseudonym}" in html
    assert "actor=cecilia" in html


def test_events_are_shown_in_swedish(client_for, personas, world, consent_case):
    _events(personas, world, consent_case)
    text = _visible_text(client_for(personas.auditor, language="sv").get(REVIEW).content.decode())
    assert "Läste journalanteckningar" in text
    assert "Journalanteckningar nr 7, 9" in text
    assert "Samtycke nr 12" in text
    assert "Verksamhetens egna uppgifter" in text
    assert "Granskningslogg" in text
    assert not RAW_LABEL.search(text)


def test_web_source_is_said_in_words(client_for, personas):
    client = client_for(personas.auditor)
    client.get(REVIEW)  # the search is audited, from the web
    text = _visible_text(client.get(REVIEW).content.decode())
    assert "in the web browser" in text
    assert "Source: web" not in text
    assert "Searched the audit log" in text


def test_time_is_one_unbroken_line(client_for, personas):
    with transaction.atomic():
        audit_record(action="auth.login", actor=personas.practitioner)
    html = client_for(personas.auditor).get(REVIEW).content.decode()
    assert re.search(
        r'<time class="nowrap" datetime="[^"]+">\d{4}-\d\d-\d\d \d\d:\d\d:\d\d</time>', html
    )
    # The wide table scrolls inside its own labelled region on a narrow screen.
    assert re.search(
        r'<div class="table-region" role="region" aria-labelledby="events-caption" tabindex="0">',
        html,
    )


def test_system_and_portal_events_say_who_acted(client_for, personas):
    # Written outside a request: the source is the system.
    with transaction.atomic():
        audit_record(action="records.backup_made", object_type="records.backup")
        audit_record(action="portal.login")
    text = _visible_text(client_for(personas.auditor).get(REVIEW).content.decode())
    assert "The system" in text
    assert "A guardian or young person in the portal" in text
    assert "Made a backup" in text


def test_query_count_does_not_grow_with_rows_of_every_kind(
    client_for, personas, world, consent_case
):
    client = client_for(personas.auditor)
    _events(personas, world, consent_case)
    client.get(REVIEW)
    one = count_queries(client, REVIEW)
    for _ in range(6):
        _events(personas, world, consent_case)
    assert count_queries(client, REVIEW) == one
