"""The meetings API (/api/v1/meetings): the same rules, selectors and audit as the pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from samverkan.accounts.models import User
from samverkan.api.models import Scope
from samverkan.api.services import token_create
from samverkan.audit.models import AuditEvent
from samverkan.meetings.models import Meeting
from samverkan.meetings.services import action_create, minutes_record
from tests.cases.conftest import YOUTH_NAME
from tests.meetings.conftest import local

JSON = "application/json"
URL = "/api/v1/meetings"


def token(user: User, scope: Scope = Scope.READ) -> dict[str, Any]:
    issued = token_create(actor=None, user=user, name="api-test", days=3, scope=scope)
    return {"HTTP_AUTHORIZATION": f"Bearer {issued.text}"}


def body(world, **overrides: Any) -> dict[str, Any]:
    return {
        "group_id": world.avesta_group.pk,
        "starts_at": local(4, 13).isoformat(),
        "ends_at": local(4, 14).isoformat(),
        "location": "Rum 2",
        **overrides,
    }


def test_schema_lists_the_meeting_endpoints(client, db):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert set(paths[URL]) == {"get", "post"}
    assert set(paths[f"{URL}/{{meeting_id}}"]) == {"get"}


def test_list_shows_the_meetings_of_the_callers_groups(client, personas, meeting_world):
    response = client.get(URL, **token(personas.police))
    assert response.status_code == 200
    (row,) = response.json()
    assert row["id"] == meeting_world.meeting.pk
    assert row["group"] == "SSPF Avesta"
    assert row["agenda_items"] == 1
    assert row["starts_at"].startswith(str(meeting_world.meeting.starts_at.year))
    for persona in ("outsider", "council_member", "auditor", "admin", "colleague"):
        assert client.get(URL, **token(getattr(personas, persona))).json() == []


def test_detail_shows_the_agenda_by_pseudonym(client, personas, world, meeting_world):
    minutes_record(actor=personas.coordinator, item=meeting_world.item, minutes="Stabilt läge.")
    action = action_create(
        actor=personas.coordinator,
        item=meeting_world.item,
        text="Polisen återkopplar.",
        responsible_agency=world.police,
        due_date=timezone.localdate() + timedelta(days=30),
    )
    url = f"{URL}/{meeting_world.meeting.pk}"
    response = client.get(url, **token(personas.practitioner))
    assert response.status_code == 200
    data = response.json()
    (item,) = data["agenda"]
    assert item["pseudonym"] == meeting_world.case.youth.pseudonym
    assert item["case_id"] == meeting_world.case.pk
    assert item["minutes"] == "Stabilt läge."
    assert item["actions"][0]["id"] == action.pk
    assert item["actions"][0]["responsible_user_id"] is None
    assert item["actions"][0]["status"] == "open"
    assert {a["user_id"] for a in data["attendance"]} == {
        personas.coordinator.pk,
        personas.practitioner.pk,
        personas.other_agency.pk,
        personas.police.pk,
    }
    assert YOUTH_NAME not in response.content.decode()
    assert "Kalle" not in response.content.decode()
    assert AuditEvent.objects.filter(
        action="meeting.minutes_viewed", actor=personas.practitioner, case_id=meeting_world.case.pk
    ).exists()


@pytest.mark.parametrize("persona", ["outsider", "council_member", "auditor", "admin", "colleague"])
def test_detail_is_404_outside_the_group(client, personas, meeting_world, persona):
    url = f"{URL}/{meeting_world.meeting.pk}"
    assert client.get(url, **token(getattr(personas, persona))).status_code == 404
    assert client.get(f"{URL}/999999", **token(personas.police)).status_code == 404


def test_create_by_the_coordinator_with_a_write_token(client, personas, world, case_world):
    response = client.post(
        URL, body(world), content_type=JSON, **token(personas.coordinator, Scope.WRITE)
    )
    assert response.status_code == 201, response.content
    meeting = Meeting.objects.get(pk=response.json()["id"])
    assert meeting.starts_at == local(4, 13)
    assert meeting.created_by == personas.coordinator
    assert AuditEvent.objects.filter(action="meeting.scheduled", source="api").exists()


def test_create_trio(client, personas, world, case_world):
    """Outsider 404, read scope 403, a member who is not coordinator 403, wrong method 405."""
    data = body(world)
    outsider = client.post(URL, data, content_type=JSON, **token(personas.outsider, Scope.WRITE))
    assert outsider.status_code == 404
    reader = client.post(URL, data, content_type=JSON, **token(personas.coordinator))
    assert reader.status_code == 403
    member = client.post(URL, data, content_type=JSON, **token(personas.police, Scope.WRITE))
    assert member.status_code == 403
    writer = token(personas.coordinator, Scope.WRITE)
    assert client.put(URL, data, content_type=JSON, **writer).status_code == 405
    assert client.delete(URL, **writer).status_code == 405
    assert client.post(f"{URL}/1", data, content_type=JSON, **writer).status_code == 405
    assert not Meeting.objects.exists()


def test_create_refusals_answer_400_with_field_messages(client, personas, world, case_world):
    writer = token(personas.coordinator, Scope.WRITE)
    response = client.post(
        URL,
        body(world, ends_at=local(4, 12).isoformat()),
        content_type=JSON,
        **writer,
    )
    assert response.status_code == 400
    assert "ends_at" in response.json()["errors"]
    naive = client.post(
        URL,
        body(world, starts_at="2027-02-01T09:00:00", ends_at="2027-02-01T10:00:00"),
        content_type=JSON,
        **writer,
    )
    assert naive.status_code == 201
    # Without an offset the time is Swedish local time: 09:00 in February is 08:00Z.
    starts = datetime.fromisoformat(naive.json()["starts_at"])
    assert starts == datetime(2027, 2, 1, 8, 0, tzinfo=UTC)


def test_the_api_needs_a_token(client, meeting_world, client_for, personas):
    assert client.get(URL).status_code == 401
    assert client_for(personas.police).get(URL).status_code == 401
