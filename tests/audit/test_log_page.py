"""The audit log has one page, the log review's (/records/review/): the old /audit/ address
sends its bookmarks there with their filters, and the filters it had work on the one page; the
reading is audited."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.urls import reverse

from samverkan.audit.models import AuditEvent
from samverkan.audit.services import audit_record
from tests.helpers import assert_trio, count_queries

OLD_URL = "/audit/"
URL = "/records/review/"


def test_old_address_answers_405_to_anything_but_reading(client_for, personas):
    client = client_for(personas.auditor)
    for method in (client.post, client.put, client.delete):
        assert method(OLD_URL).status_code == 405
    assert client.head(OLD_URL).status_code == 301


def test_old_address_redirects_permanently_with_its_filters(client_for, personas):
    assert reverse("audit:event_list") == OLD_URL
    client = client_for(personas.auditor)
    response = client.get(
        OLD_URL,
        {
            "action": "auth.",
            "actor": "anna",
            "outcome": "denied",
            "date_from": "2026-01-01",
            "date_to": "2026-01-31",
            "page": "2",
        },
    )
    assert response.status_code == 301
    assert response["Location"] == (
        f"{URL}?action=auth.&actor=anna&outcome=denied&date_from=2026-01-01"
        "&date_to=2026-01-31&page=2"
    )
    assert client.get(OLD_URL)["Location"] == URL


def test_trio(client_for, personas):
    # POST is the page's search by identity number: PUT is the method it does not take.
    assert_trio(
        client_for, URL, allowed=personas.auditor, outsider=personas.admin, wrong_method="put"
    )


@pytest.mark.parametrize(
    "persona",
    ["practitioner", "coordinator", "admin", "council_member", "agreement_editor", "outsider"],
)
def test_only_auditors_read_the_log(client_for, personas, persona):
    client = client_for(getattr(personas, persona))
    assert client.get(URL).status_code == 404
    # The old address leads them to the same refusal.
    assert client.get(OLD_URL, follow=True).status_code == 404


def test_reading_is_audited_and_filters_work(client_for, personas):
    with transaction.atomic():
        audit_record(action="auth.login", actor=personas.practitioner)
        audit_record(action="auth.login", actor=personas.colleague)
        audit_record(action="case.viewed", actor=personas.practitioner)
    client = client_for(personas.auditor)
    response = client.get(URL, {"action": "auth.", "actor": "anna"})
    assert response.status_code == 200
    shown = list(response.context["page"].object_list)
    assert shown
    assert all(
        e.action.startswith("auth.") and e.actor_id == personas.practitioner.pk for e in shown
    )
    viewed = AuditEvent.objects.filter(
        action="records.log_searched", actor=personas.auditor
    ).latest("seq")
    assert viewed.details["action"] == "auth."
    assert viewed.details["actor"] == "anna"


def test_bad_filter_value_is_reported_not_crashed(client_for, personas):
    response = client_for(personas.auditor).get(URL, {"date_from": "yesterday"})
    assert response.status_code == 200
    assert response.context["form"].errors


def test_htmx_request_gets_only_the_results(client_for, personas):
    response = client_for(personas.auditor).get(URL, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert b"<html" not in response.content
    assert b"<table" in response.content


def test_query_count_does_not_grow_with_events(client_for, personas):
    client = client_for(personas.auditor)
    client.get(URL)

    def count() -> int:
        return count_queries(client, URL)

    before = count()
    with transaction.atomic():
        for _ in range(60):
            audit_record(action="test.filler", actor=personas.colleague)
    assert count() == before
