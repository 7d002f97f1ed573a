"""The auditor's view of the log: who may read it, filters, and that reading is audited."""

from __future__ import annotations

import pytest
from django.urls import reverse

from samverkan.audit.models import AuditEvent
from tests.helpers import assert_trio, count_queries

URL = "/audit/"


def test_trio(client_for, personas):
    assert reverse("audit:event_list") == URL
    assert_trio(
        client_for, URL, allowed=personas.auditor, outsider=personas.admin, wrong_method="post"
    )


@pytest.mark.parametrize(
    "persona",
    ["practitioner", "coordinator", "admin", "council_member", "agreement_editor", "outsider"],
)
def test_only_auditors_read_the_log(client_for, personas, persona):
    assert client_for(getattr(personas, persona)).get(URL).status_code == 404


def test_reading_is_audited_and_filters_work(client_for, personas):
    client = client_for(personas.auditor)
    response = client.get(URL, {"action": "auth.", "actor": "anna"})
    assert response.status_code == 200
    shown = list(response.context["page"].object_list)
    assert all(
        e.action.startswith("auth.") and e.actor_id == personas.practitioner.pk for e in shown
    )
    viewed = AuditEvent.objects.filter(action="audit.log_viewed", actor=personas.auditor).latest(
        "seq"
    )
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
    from django.db import transaction

    from samverkan.audit.services import audit_record

    client = client_for(personas.auditor)
    client.get(URL)

    def count() -> int:
        return count_queries(client, URL)

    before = count()
    with transaction.atomic():
        for _ in range(60):
            audit_record(action="test.filler", actor=personas.colleague)
    assert count() == before
