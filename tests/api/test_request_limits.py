"""A request takes only what its schema documents (``samverkan.api.schemas.JsonIn`` for bodies):
no value of another JSON type is converted, no integer beyond 64 bits and no NUL character
reaches the database, and a meeting time with any offset ISO 8601 allows is stored, not refused
by PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from samverkan.api.models import Scope
from samverkan.api.services import token_create
from samverkan.cases.models import Entry
from samverkan.meetings.models import Meeting
from samverkan.promises.models import Agreement
from tests.cases.conftest import case_world  # noqa: F401 - a fixture
from tests.promises.conftest import promise_world  # noqa: F401 - a fixture

JSON = "application/json"


def writer(user) -> dict[str, Any]:
    issued = token_create(actor=None, user=user, name="json", days=3, scope=Scope.WRITE)
    return {"HTTP_AUTHORIZATION": f"Bearer {issued.text}"}


def entry(world, **overrides: Any) -> dict[str, Any]:
    return {
        "agency_id": world.avesta_school.pk,
        "category": "attendance",
        "text": "Frånvaro.",
        **overrides,
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda world: {"agency_id": str(world.avesta_school.pk)}, "agency_id"),  # as text
        (lambda world: {"agency_id": True}, "agency_id"),
        (lambda world: {"agency_id": 2**63}, "agency_id"),
        (lambda world: {"text": "Frånvaro.\x00"}, "text"),
    ],
    ids=["id-as-text", "id-as-boolean", "id-beyond-64-bits", "nul-in-text"],
)
def test_entry_values_of_another_type_or_beyond_the_limits_are_422(
    client,
    personas,
    world,
    case_world,  # noqa: F811
    change,
    field,
):
    url = f"/api/v1/cases/{case_world.case.pk}/entries"
    auth = writer(personas.practitioner)
    response = client.post(url, data=entry(world, **change(world)), content_type=JSON, **auth)
    assert response.status_code == 422, response.content
    [error] = response.json()["detail"]
    assert (error["type"], error["loc"]) == ("json_type", ["body", "payload", field])
    assert Entry.objects.count() == 0
    assert client.post(url, data=entry(world), content_type=JSON, **auth).status_code == 201


def test_a_number_is_no_boolean_and_a_list_no_object(client, promise_world):  # noqa: F811
    base = f"/api/v1/agreements/{promise_world.promise.pk}"
    auth = writer(promise_world.editor)
    response = client.post(f"{base}/publication", data={"published": 0}, content_type=JSON, **auth)
    assert response.status_code == 422
    assert Agreement.objects.get(pk=promise_world.promise.pk).published
    # Every field of the links has a default, so lax validation took any value as "no links".
    response = client.post(f"{base}/links", data=[None, None], content_type=JSON, **auth)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "payload"]
    # An id beyond the database's integers is refused before it reaches a query.
    response = client.post(
        f"{base}/links", data={"overlap_ids": [2**64]}, content_type=JSON, **auth
    )
    assert response.status_code == 422


def test_a_date_is_text(client, promise_world):  # noqa: F811
    response = client.post(
        f"/api/v1/agreements/{promise_world.promise.pk}/extension",
        data={"new_end": 1609459200, "reason": "Ett år till."},  # 2021-01-01 in seconds
        content_type=JSON,
        **writer(promise_world.editor),
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "payload", "new_end"]


def test_the_schema_documents_the_limits(client, db):
    schemas = client.get("/api/v1/openapi.json").json()["components"]["schemas"]
    entry_in = schemas["EntryIn"]["properties"]
    assert (entry_in["agency_id"]["minimum"], entry_in["agency_id"]["maximum"]) == (
        -(2**63),
        2**63 - 1,
    )
    assert entry_in["text"]["pattern"] == "^[^\\u0000]*$"


def test_meeting_times_are_stored_in_utc_whatever_their_offset(client, personas, world):
    auth = writer(personas.coordinator)
    body = {"group_id": world.avesta_group.pk, "location": "Stadshuset"}
    # ISO 8601 allows offsets up to ±23:59; PostgreSQL stores only up to ±15:59.
    response = client.post(
        "/api/v1/meetings",
        data={**body, "starts_at": "2030-01-07T23:00:00+17:00", "ends_at": "2030-01-08T01:00Z"},
        content_type=JSON,
        **auth,
    )
    assert response.status_code == 201, response.content
    meeting = Meeting.objects.get(pk=response.json()["id"])
    assert meeting.starts_at == datetime(2030, 1, 7, 6, 0, tzinfo=UTC)
    # A time that UTC would move off the calendar is a field error, not a server error.
    response = client.post(
        "/api/v1/meetings",
        data={**body, "starts_at": "0001-01-01T00:30:00+05:00", "ends_at": "0001-01-01T10:00Z"},
        content_type=JSON,
        **auth,
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["starts_at"]


def test_the_public_promise_filter_takes_a_kommunkod_only(client, promise_world):  # noqa: F811
    for bad in ("\x00", "abc", "20840", "208"):
        response = client.get("/api/v1/promises", {"municipality": bad})
        assert response.status_code == 422, bad
        assert response.json()["detail"][0]["loc"] == ["query", "municipality"]
    assert client.get("/api/v1/promises", {"municipality": "2084"}).json()["count"] == 1
    assert client.get("/api/v1/promises", {"municipality": "9999"}).json()["count"] == 0


@pytest.mark.parametrize("token", ["svk_ab\x00c_secret", "svk_abc_sec\x00ret", "svk_\x7f_x"])
def test_a_token_with_a_control_character_is_401_not_a_server_error(client, db, token):
    response = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 401
