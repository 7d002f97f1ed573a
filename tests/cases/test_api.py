"""The cases API (/api/v1/cases): the same need to know, identity policy and audit as the pages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import hypothesis
import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from samverkan.accounts.models import User
from samverkan.api.models import Scope
from samverkan.api.services import token_create
from samverkan.audit.models import AuditEvent
from samverkan.cases.models import Case, Entry, Status
from samverkan.cases.services import (
    case_raise,
    case_transition,
    entry_add,
    entry_correct,
    team_add,
)
from samverkan.organisations.models import Role
from samverkan.organisations.services import group_member_add
from tests.cases.conftest import YOUTH_NAME, YOUTH_NUMBER
from tests.helpers import make_user
from tests.rule16 import consent_covering

JSON = "application/json"

# Every way the fixture youth's number could be written.
_DIGITS = YOUTH_NUMBER.replace("-", "")
NUMBER_FORMS = [YOUTH_NUMBER, _DIGITS, _DIGITS[2:], f"{_DIGITS[2:8]}-{_DIGITS[8:]}"]


def with_check_digit(nine: str) -> str:
    """A 10-digit personnummer with its Luhn check digit (fictional numbers for tests)."""
    total = 0
    for i, ch in enumerate(nine):
        product = int(ch) * (2 if i % 2 == 0 else 1)
        total += product // 10 + product % 10
    return nine + str((10 - total % 10) % 10)


def token(user: User, scope: Scope = Scope.READ) -> dict[str, Any]:
    issued = token_create(actor=None, user=user, name="api-test", days=3, scope=scope)
    return {"HTTP_AUTHORIZATION": f"Bearer {issued.text}"}


def case_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "identity_number": "20130704-" + with_check_digit("130704238")[-4:],
        "name": "Lisa Exempelsson",
        "gender": "F",
        "reason": "Oro för skolnärvaron.",
        "risk_factors": ["high_absence"],
        "protective_factors": [],
    }
    body.update(overrides)
    return body


def entry_body(**overrides: Any) -> dict[str, Any]:
    return {"agency_id": 0, "category": "general", "text": "En anteckning.", **overrides}


def case_endpoints(
    case: Case, entry_agency_id: int
) -> list[tuple[str, str, dict[str, Any] | None]]:
    """Every endpoint that names one case: (method, url, JSON body)."""
    return [
        ("get", f"/api/v1/cases/{case.pk}", None),
        ("get", f"/api/v1/cases/{case.pk}/entries", None),
        ("post", f"/api/v1/cases/{case.pk}/entries", entry_body(agency_id=entry_agency_id)),
        ("get", f"/api/v1/cases/{case.pk}/team", None),
    ]


def call(client: Client, method: str, url: str, body: dict[str, Any] | None, auth: dict[str, Any]):
    if body is None:
        return getattr(client, method)(url, **auth)
    return getattr(client, method)(url, data=body, content_type=JSON, **auth)


def assert_no_identity(content: bytes) -> None:
    text = content.decode()
    for form in NUMBER_FORMS:
        assert form not in text, form
    for part in YOUTH_NAME.split():
        assert part not in text, part


# --- Schema ---------------------------------------------------------------------------------


def test_openapi_describes_the_case_endpoints_with_typed_schemas(client, db):
    schema = client.get("/api/v1/openapi.json").json()
    paths = schema["paths"]
    assert set(paths["/api/v1/cases"]) == {"get", "post"}
    assert set(paths["/api/v1/cases/{case_id}"]) == {"get"}
    assert set(paths["/api/v1/cases/{case_id}/entries"]) == {"get", "post"}
    assert set(paths["/api/v1/cases/{case_id}/team"]) == {"get"}

    def ref(operation: dict[str, Any], status: str) -> str:
        return operation["responses"][status]["content"]["application/json"]["schema"]["$ref"]

    assert ref(paths["/api/v1/cases/{case_id}"]["get"], "200").endswith("/CaseOut")
    assert ref(paths["/api/v1/cases/{case_id}/entries"]["get"], "200").endswith("/EntryListOut")
    assert ref(paths["/api/v1/cases"]["post"], "201").endswith("/CaseCreatedOut")
    assert ref(paths["/api/v1/cases"]["post"], "400").endswith("/FieldErrorsOut")
    body = paths["/api/v1/cases"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"]["$ref"].endswith("/CaseIn")
    # Everything but the public promise tracker needs a token.
    for path, operations in paths.items():
        expected: list[dict[str, list[str]]] | None = (
            None if path.startswith("/api/v1/promises") else [{"BearerToken": []}]
        )
        for operation in operations.values():
            assert operation.get("security") == expected, path
    # No identity number in any URL: not a path or query parameter anywhere.
    for path, operations in paths.items():
        assert "identity" not in path
        for operation in operations.values():
            assert all("identity" not in p["name"] for p in operation.get("parameters", []))


# --- Need to know: 404 for everyone off the team --------------------------------------------


OFF_THE_TEAM = [
    "outsider",
    "council_member",
    "admin",
    "auditor",
    "agreement_editor",
    "colleague",
    "no_role",
]


@pytest.mark.parametrize("persona", OFF_THE_TEAM)
def test_everyone_off_the_team_gets_404_on_every_case_endpoint(
    client, personas, world, case_world, persona
):
    user = getattr(personas, persona)
    entry_add(
        actor=personas.practitioner,
        case=case_world.case,
        agency=case_world.case.raising_agency,
        category=case_world.school_category,
        text="Frånvaro 40 % i oktober.",
    )
    entries_before = Entry.objects.count()
    for scope in (Scope.READ, Scope.WRITE):
        auth = token(user, scope)
        for method, url, body in case_endpoints(case_world.case, case_world.case.raising_agency_id):
            response = call(client, method, url, body, auth)
            assert response.status_code == 404, (persona, scope, method, url)
            assert response.json() == {"detail": "Not Found"}
            assert_no_identity(response.content)
        # Nothing to raise a case for either: the page answers 404 too.
        body = case_body(group_id=world.avesta_group.pk, agency_id=world.avesta_school.pk)
        response = client.post("/api/v1/cases", data=body, content_type=JSON, **auth)
        assert response.status_code == 404, (persona, scope)
        listing = client.get("/api/v1/cases", **auth)
        assert listing.status_code == 200
        assert listing.json() == []
    assert Entry.objects.count() == entries_before


def test_coordinator_off_the_team_sees_the_team_card_only(client, personas, case_world):
    auth = token(personas.coordinator)
    pk = case_world.case.pk
    assert client.get(f"/api/v1/cases/{pk}", **auth).status_code == 404
    assert client.get(f"/api/v1/cases/{pk}/entries", **auth).status_code == 404
    response = client.get(f"/api/v1/cases/{pk}/team", **auth)
    assert response.status_code == 200
    body = response.json()
    assert body["pseudonym"] == case_world.case.youth.pseudonym
    assert {m["username"] for m in body["members"]} == {"anna", "cecilia", "david"}
    assert_no_identity(response.content)


def test_missing_and_forbidden_cases_answer_alike(client, personas, case_world):
    auth = token(personas.outsider, Scope.WRITE)
    for suffix, method, body in (
        ("", "get", None),
        ("/entries", "get", None),
        ("/entries", "post", entry_body()),
        ("/team", "get", None),
    ):
        missing = call(client, method, f"/api/v1/cases/999999{suffix}", body, auth)
        forbidden = call(client, method, f"/api/v1/cases/{case_world.case.pk}{suffix}", body, auth)
        assert missing.status_code == forbidden.status_code == 404
        assert missing.content == forbidden.content
        assert missing["Content-Type"] == forbidden["Content-Type"]


def test_absurd_case_ids_are_404_not_errors(client, personas, case_world):
    auth = token(personas.practitioner)
    for pk in ("0", "9223372036854775807", "9223372036854775808", "99999999999999999999999"):
        assert client.get(f"/api/v1/cases/{pk}", **auth).status_code == 404, pk


# --- The trio per endpoint -----------------------------------------------------------------


def test_case_list_trio(client, personas, case_world):
    reader = token(personas.practitioner)
    assert client.get("/api/v1/cases", **reader).status_code == 200
    assert client.get("/api/v1/cases", **token(personas.outsider)).json() == []
    assert client.put("/api/v1/cases", **reader).status_code == 405
    assert client.delete("/api/v1/cases", **reader).status_code == 405


def test_case_create_trio(client, personas, world):
    body = case_body(group_id=world.avesta_group.pk, agency_id=world.avesta_school.pk)
    outsider = token(personas.outsider, Scope.WRITE)
    reader = token(personas.practitioner, Scope.READ)
    writer = token(personas.practitioner, Scope.WRITE)
    assert client.post("/api/v1/cases", data=body, content_type=JSON, **outsider).status_code == 404
    response = client.post("/api/v1/cases", data=body, content_type=JSON, **reader)
    assert response.status_code == 403
    assert Case.objects.count() == 0
    assert client.put("/api/v1/cases", data=body, content_type=JSON, **writer).status_code == 405
    response = client.post("/api/v1/cases", data=body, content_type=JSON, **writer)
    assert response.status_code == 201
    assert Case.objects.count() == 1


def test_case_detail_trio(client, personas, case_world):
    url = f"/api/v1/cases/{case_world.case.pk}"
    writer = token(personas.practitioner, Scope.WRITE)
    assert client.get(url, **writer).status_code == 200
    assert client.get(url, **token(personas.outsider, Scope.WRITE)).status_code == 404
    for method in ("post", "put", "patch", "delete"):
        assert getattr(client, method)(url, **writer).status_code == 405, method


def test_entry_list_and_create_trio(client, personas, case_world, world):
    url = f"/api/v1/cases/{case_world.case.pk}/entries"
    body = entry_body(agency_id=world.avesta_school.pk, category="attendance")
    writer = token(personas.practitioner, Scope.WRITE)
    reader = token(personas.practitioner, Scope.READ)
    assert client.get(url, **reader).status_code == 200
    # Outsiders get 404 whatever their token allows: the scope is checked after visibility.
    for scope in (Scope.READ, Scope.WRITE):
        outsider = token(personas.outsider, scope)
        assert client.get(url, **outsider).status_code == 404
        assert client.post(url, data=body, content_type=JSON, **outsider).status_code == 404
    response = client.post(url, data=body, content_type=JSON, **reader)
    assert response.status_code == 403
    assert Entry.objects.count() == 0
    assert client.put(url, data=body, content_type=JSON, **writer).status_code == 405
    assert client.delete(url, **writer).status_code == 405
    assert client.post(url, data=body, content_type=JSON, **writer).status_code == 201
    assert Entry.objects.count() == 1


def test_team_trio(client, personas, case_world):
    url = f"/api/v1/cases/{case_world.case.pk}/team"
    writer = token(personas.practitioner, Scope.WRITE)
    assert client.get(url, **writer).status_code == 200
    assert client.get(url, **token(personas.outsider, Scope.WRITE)).status_code == 404
    for method in ("post", "put", "delete"):
        assert getattr(client, method)(url, **writer).status_code == 405, method


# --- Identity: name for the raising agency, pseudonym for the rest ---------------------------


def test_raising_agency_sees_the_identity(client, personas, case_world):
    auth = token(personas.practitioner)
    detail = client.get(f"/api/v1/cases/{case_world.case.pk}", **auth).json()
    assert detail["identity_shown"] is True
    assert detail["youth_label"] == YOUTH_NAME
    assert detail["identity_number"] == YOUTH_NUMBER
    assert detail["age"] is not None
    assert detail["pseudonym"] == case_world.case.youth.pseudonym
    [row] = client.get("/api/v1/cases", **auth).json()
    assert row["youth_label"] == YOUTH_NAME
    assert row["identity_shown"] is True


@pytest.mark.parametrize("persona", ["other_agency", "police"])
def test_another_agency_on_the_team_gets_the_pseudonym_only(client, personas, case_world, persona):
    auth = token(getattr(personas, persona))
    pseudonym = case_world.case.youth.pseudonym
    response = client.get(f"/api/v1/cases/{case_world.case.pk}", **auth)
    assert response.status_code == 200
    detail = response.json()
    assert detail["identity_shown"] is False
    assert detail["youth_label"] == pseudonym
    assert detail["identity_number"] is None
    assert detail["age"] is None
    assert detail["pseudonymous_team"] is True
    assert_no_identity(response.content)
    listing = client.get("/api/v1/cases", **auth)
    assert [(r["youth_label"], r["identity_shown"]) for r in listing.json()] == [(pseudonym, False)]
    assert_no_identity(listing.content)


def test_identity_number_never_reaches_a_pseudonymous_viewer(client, personas, case_world, world):
    """Every endpoint, every answer (successes and refusals) for the police on the team."""
    entry_add(
        actor=personas.practitioner,
        case=case_world.case,
        agency=world.avesta_school,
        category=case_world.school_category,
        text="Skolans anteckning.",
    )
    auth = token(personas.police, Scope.WRITE)
    pk = case_world.case.pk
    responses = [
        client.get("/api/v1/cases", **auth),
        client.get(f"/api/v1/cases/{pk}", **auth),
        client.get(f"/api/v1/cases/{pk}/entries", **auth),
        client.get(f"/api/v1/cases/{pk}/team", **auth),
        client.post(
            f"/api/v1/cases/{pk}/entries",
            data=entry_body(agency_id=world.police.pk, category="incidents", text="Händelse."),
            content_type=JSON,
            **auth,
        ),
        # Refused writes must not echo what was sent either.
        client.post(
            f"/api/v1/cases/{pk}/entries",
            data=entry_body(agency_id=world.police.pk, category="incidents", text=YOUTH_NUMBER),
            content_type=JSON,
            **auth,
        ),
        client.post(
            f"/api/v1/cases/{pk}/entries",
            data=entry_body(agency_id=world.police.pk, category="x" * 41, text=YOUTH_NAME),
            content_type=JSON,
            **auth,
        ),
        client.post(
            f"/api/v1/cases/{pk}/entries",
            data='{"text": "' + YOUTH_NUMBER + '", broken',
            content_type=JSON,
            **auth,
        ),
    ]
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 201, 400, 422, 400]
    for response in responses:
        assert_no_identity(response.content)


# --- The journal ----------------------------------------------------------------------------


def test_entries_are_closed_by_default_and_hidden_ones_are_counted(
    client, personas, case_world, world
):
    c = case_world
    own = entry_add(
        actor=personas.practitioner,
        case=c.case,
        agency=world.avesta_school,
        category=c.school_category,
        text="Skolans anteckning",
    )
    for i in range(3):
        entry_add(
            actor=personas.police,
            case=c.case,
            agency=world.police,
            category=c.police_category,
            text=f"Polisens anteckning {i}",
        )
    response = client.get(f"/api/v1/cases/{c.case.pk}/entries", **token(personas.practitioner))
    assert response.status_code == 200
    body = response.json()
    assert body["case_id"] == c.case.pk
    assert body["entries"] == [
        {
            "id": own.pk,
            "agency": {"id": world.avesta_school.pk, "name": world.avesta_school.name},
            "category": "attendance",
            "category_label": c.school_category.label,
            "text": "Skolans anteckning",
            "version": 1,
            "created_at": body["entries"][0]["created_at"],
            "author": "anna",
            "basis": "own_agency",
            "basis_explanation": "",
        }
    ]
    assert body["hidden"] == [
        {
            "agency_id": world.police.pk,
            "agency_name": world.police.name,
            "reason": "no_consent",
            "explanation": "3 entries from Polisen LPO Falun are not shown: no consent covers "
            "Polisen LPO Falun → Avesta skola.",
            "count": 3,
        }
    ]
    assert body["ended_consents"] == []
    assert "Polisens" not in response.content.decode()

    police = client.get(f"/api/v1/cases/{c.case.pk}/entries", **token(personas.police)).json()
    assert sorted(e["text"] for e in police["entries"]) == [
        f"Polisens anteckning {i}" for i in range(3)
    ]
    assert police["hidden"] == [
        {
            "agency_id": world.avesta_school.pk,
            "agency_name": world.avesta_school.name,
            "reason": "no_consent",
            "explanation": "1 entry from Avesta skola is not shown: no consent covers "
            "Avesta skola → Polisen LPO Falun.",
            "count": 1,
        }
    ]


def test_entry_list_shows_the_current_version(client, personas, case_world, world):
    entry = entry_add(
        actor=personas.practitioner,
        case=case_world.case,
        agency=world.avesta_school,
        category=case_world.school_category,
        text="Första",
    )
    entry_correct(actor=personas.practitioner, entry=entry, text="Rättad")
    body = client.get(
        f"/api/v1/cases/{case_world.case.pk}/entries", **token(personas.practitioner)
    ).json()
    [shown] = body["entries"]
    assert (shown["text"], shown["version"]) == ("Rättad", 2)


def test_entry_create_writes_for_the_callers_agency(client, personas, case_world, world):
    url = f"/api/v1/cases/{case_world.case.pk}/entries"
    auth = token(personas.police, Scope.WRITE)
    response = client.post(
        url,
        data=entry_body(agency_id=world.police.pk, category="incidents", text="  Omhändertagen.  "),
        content_type=JSON,
        **auth,
    )
    assert response.status_code == 201, response.content
    body = response.json()
    entry = Entry.objects.get(pk=body["id"])
    assert (entry.case_id, entry.agency_id, entry.category.code) == (
        case_world.case.pk,
        world.police.pk,
        "incidents",
    )
    assert (body["text"], body["version"], body["author"], body["basis"]) == (
        "Omhändertagen.",
        1,
        "david",
        "own_agency",
    )
    created = AuditEvent.objects.get(action="entry.created", object_id=str(entry.pk))
    assert (created.case_id, created.actor_id, created.source) == (
        case_world.case.pk,
        personas.police.pk,
        "api",
    )
    # The general category of the "other" sector is open to every agency.
    general = client.post(
        url,
        data=entry_body(agency_id=world.police.pk, category="general"),
        content_type=JSON,
        **auth,
    )
    assert general.status_code == 201
    assert general.json()["category"] == "general"


@pytest.mark.parametrize(
    ("agency", "category", "text", "field"),
    [
        ("police", "attendance", "x", "category"),  # a school category, written by the police
        ("police", "no_such_category", "x", "category"),
        ("avesta_school", "attendance", "x", "agency_id"),  # the police do not sit for the school
        ("hedemora_school", "attendance", "x", "agency_id"),  # not on the team at all
        ("police", "incidents", "   ", "text"),
    ],
)
def test_entry_create_refusals_are_field_errors(
    client, personas, case_world, world, agency, category, text, field
):
    body = entry_body(agency_id=getattr(world, agency).pk, category=category, text=text)
    response = client.post(
        f"/api/v1/cases/{case_world.case.pk}/entries",
        data=body,
        content_type=JSON,
        **token(personas.police, Scope.WRITE),
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert list(errors) == [field]
    assert all(isinstance(m, str) and m for m in errors[field])
    assert Entry.objects.count() == 0


@pytest.mark.parametrize(
    "text",
    [
        f"Pojken heter {YOUTH_NAME.split()[0]}.",
        f"Hans nummer är {YOUTH_NUMBER}.",
        "Samordningsnummer 20120375-1231 nämndes.",
    ],
)
def test_screening_refusals_come_back_as_field_errors(client, personas, case_world, world, text):
    response = client.post(
        f"/api/v1/cases/{case_world.case.pk}/entries",
        data=entry_body(agency_id=world.police.pk, category="incidents", text=text),
        content_type=JSON,
        **token(personas.police, Scope.WRITE),
    )
    assert response.status_code == 400
    body = response.json()
    assert list(body["errors"]) == ["text"]
    assert body["errors"]["text"]
    assert body["detail"]
    assert Entry.objects.count() == 0
    assert not re.search(r"\d{6}-?\d{4}", response.content.decode())


def test_no_entries_on_a_closed_case(client, personas, case_world, world):
    # Rule 16: the police read the outcome at closing under a consent covering them.
    consent_covering(
        case_world.case, [world.avesta_school, world.police], actor=personas.practitioner
    )
    case_transition(
        actor=personas.practitioner,
        case=case_world.case,
        to=Status.CLOSED,
        closure_reason="goals_met",
        closure_outcome="Målen nådda.",
    )
    url = f"/api/v1/cases/{case_world.case.pk}/entries"
    body = entry_body(agency_id=world.avesta_school.pk, category="attendance")
    response = client.post(
        url, data=body, content_type=JSON, **token(personas.practitioner, Scope.WRITE)
    )
    assert response.status_code == 403
    assert Entry.objects.count() == 0
    detail = client.get(f"/api/v1/cases/{case_world.case.pk}", **token(personas.police)).json()
    assert (detail["status"], detail["closure_reason"], detail["closure_outcome"]) == (
        "closed",
        "goals_met",
        "Målen nådda.",
    )


# --- Raising a case -------------------------------------------------------------------------


def test_raise_a_case(client, personas, world):
    body = case_body(group_id=world.avesta_group.pk, agency_id=world.avesta_school.pk)
    response = client.post(
        "/api/v1/cases", data=body, content_type=JSON, **token(personas.practitioner, Scope.WRITE)
    )
    assert response.status_code == 201, response.content
    created = response.json()
    case = Case.objects.get(pk=created["id"])
    assert case.raising_agency_id == world.avesta_school.pk
    assert case.raised_by_id == personas.practitioner.pk
    assert created["identity_shown"] is True
    assert created["youth_label"] == "Lisa Exempelsson"
    assert created["identity_number"].replace("-", "") == body["identity_number"].replace("-", "")
    assert [f["code"] for f in created["risk_factors"]] == ["high_absence"]
    assert created["warnings"] == []
    assert created["my_agencies"] == [
        {"id": world.avesta_school.pk, "name": world.avesta_school.name}
    ]
    assert case.youth.gender == "F"
    raised = AuditEvent.objects.get(action="case.raised", case_id=case.pk)
    assert (raised.actor_id, raised.source) == (personas.practitioner.pk, "api")
    assert AuditEvent.objects.filter(action="case.viewed", case_id=case.pk).exists()
    # The identity number is in no audit detail and no URL of the event.
    for event in AuditEvent.objects.all():
        assert body["identity_number"] not in str(event.details)


def test_raise_a_case_outside_the_target_ages_warns(client, personas, world):
    adult = "20050101-" + with_check_digit("050101238")[-4:]
    body = case_body(
        group_id=world.avesta_group.pk, agency_id=world.avesta_school.pk, identity_number=adult
    )
    response = client.post(
        "/api/v1/cases", data=body, content_type=JSON, **token(personas.practitioner, Scope.WRITE)
    )
    assert response.status_code == 201
    assert len(response.json()["warnings"]) == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"identity_number": "20120315-1235"}, "identity_number"),  # wrong check digit
        ({"identity_number": "20121315-1230"}, "identity_number"),  # no 13th month
        ({"identity_number": "abc"}, "identity_number"),
        ({"name": "   "}, "name"),
        ({"reason": ""}, "reason"),
        ({"reason": "Lisa skolkar."}, "reason"),  # names the youth: screened
        ({"reason": "Se 20120315-1236."}, "reason"),  # an identity number: screened
        ({"risk_factors": ["no_such_factor"]}, "__all__"),
        ({"protective_factors": ["high_absence"]}, "__all__"),  # a risk factor, not protective
        ({"group_id": 999999}, "__all__"),
        ({"agency_id": 999999}, "__all__"),
    ],
)
def test_raise_refusals_are_field_errors(client, personas, world, overrides, field):
    body = case_body(group_id=world.avesta_group.pk, agency_id=world.avesta_school.pk)
    body.update(overrides)
    response = client.post(
        "/api/v1/cases", data=body, content_type=JSON, **token(personas.practitioner, Scope.WRITE)
    )
    assert response.status_code == 400, response.content
    payload = response.json()
    assert list(payload["errors"]) == [field]
    assert payload["detail"]
    assert Case.objects.count() == 0
    text = response.content.decode()
    assert "Lisa" not in text
    assert not re.search(r"\d{6}-?\d{4}", text)


def test_raise_only_for_an_agency_one_sits_in_the_group_for(client, personas, world):
    auth = token(personas.practitioner, Scope.WRITE)
    for agency in (world.police, world.avesta_social, world.hedemora_school):
        body = case_body(group_id=world.avesta_group.pk, agency_id=agency.pk)
        response = client.post("/api/v1/cases", data=body, content_type=JSON, **auth)
        assert response.status_code == 400
        assert list(response.json()["errors"]) == ["__all__"]
    assert Case.objects.count() == 0


def test_raise_rejects_a_body_that_breaks_the_schema(client, personas, world):
    auth = token(personas.practitioner, Scope.WRITE)
    body = case_body(group_id=world.avesta_group.pk, agency_id=world.avesta_school.pk, gender="Q")
    response = client.post("/api/v1/cases", data=body, content_type=JSON, **auth)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == "gender"
    del body["gender"]
    body["identity_number"] = "1" * 21
    response = client.post("/api/v1/cases", data=body, content_type=JSON, **auth)
    assert response.status_code == 422
    assert "1" * 21 not in response.content.decode()
    assert Case.objects.count() == 0


def test_identity_number_is_read_from_the_body_only(client, personas, world):
    """It travels only in the JSON body: one put in the query string is not read."""
    auth = token(personas.practitioner, Scope.WRITE)
    body = case_body(group_id=world.avesta_group.pk, agency_id=world.avesta_school.pk)
    number = body.pop("identity_number")
    response = client.post(
        f"/api/v1/cases?identity_number={number}", data=body, content_type=JSON, **auth
    )
    assert response.status_code == 422
    assert Case.objects.count() == 0


# --- Audit ----------------------------------------------------------------------------------


def test_reads_are_audited_with_the_case(client, personas, case_world, world):
    c = case_world
    entries = [
        entry_add(
            actor=personas.practitioner,
            case=c.case,
            agency=world.avesta_school,
            category=c.school_category,
            text=f"Anteckning {i}",
        )
        for i in range(3)
    ]
    auth = token(personas.practitioner)
    before = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    client.get(f"/api/v1/cases/{c.case.pk}", **auth)
    client.get(f"/api/v1/cases/{c.case.pk}/entries", **auth)
    client.get(f"/api/v1/cases/{c.case.pk}/team", **auth)
    client.get("/api/v1/cases", **auth)
    events = AuditEvent.objects.filter(id__gt=before, actor=personas.practitioner)
    assert all(e.source == "api" for e in events)
    viewed = events.filter(action="case.viewed")
    assert viewed.count() == 2
    assert {e.case_id for e in viewed} == {c.case.pk}
    assert [e.details for e in viewed] == [{"identity_shown": True}] * 2
    # One event per page and legal basis, naming the entries it showed.
    read = list(events.filter(action="entry.viewed", case_id=c.case.pk))
    assert [(e.object_type, e.object_id) for e in read] == [("cases.case", str(c.case.pk))]
    assert sorted(read[0].details["entries"]) == sorted(e.pk for e in entries)
    assert events.filter(action="case.card_viewed", case_id=c.case.pk).count() == 1
    assert events.filter(action="case.listed", case_id=c.case.pk).count() == 1


def test_refused_reads_are_audited(client, personas, case_world):
    client.get(f"/api/v1/cases/{case_world.case.pk}", **token(personas.council_member))
    event = AuditEvent.objects.filter(action="case.view_denied").latest("id")
    assert (event.actor_id, event.case_id, event.outcome, event.source) == (
        personas.council_member.pk,
        case_world.case.pk,
        "denied",
        "api",
    )


def test_pseudonymous_reads_record_that_identity_was_withheld(client, personas, case_world):
    client.get(f"/api/v1/cases/{case_world.case.pk}", **token(personas.police))
    event = AuditEvent.objects.filter(action="case.viewed", actor=personas.police).get()
    assert event.details == {"identity_shown": False}


# --- Query counts ---------------------------------------------------------------------------


def _queries(client: Client, url: str, auth: dict[str, Any]) -> int:
    """Queries of a second read: the first marks the token used (at most once a minute) and
    records which entries crossed to the caller's agency."""
    client.get(url, **auth)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, **auth)
    assert response.status_code == 200, response.status_code
    return len(ctx.captured_queries)


def _raise_more(personas, world, n: int) -> None:
    for i in range(n):
        nine = f"1101{i + 10:02d}23{i % 10}"
        number = with_check_digit(nine)
        raised = case_raise(
            actor=personas.practitioner,
            group=world.avesta_group,
            agency=world.avesta_school,
            identity_number=f"20{number[:6]}-{number[6:]}",
            name=f"Elev Nummer{i}",
            gender="",
            reason="Hög frånvaro.",
        )
        team_add(
            actor=personas.coordinator, case=raised.case, user=personas.police, agency=world.police
        )


@pytest.mark.parametrize("persona", ["practitioner", "police"])
def test_case_list_query_count_does_not_grow(client, personas, case_world, world, persona):
    auth = token(getattr(personas, persona))
    one = _queries(client, "/api/v1/cases", auth)
    _raise_more(personas, world, 8)
    assert len(client.get("/api/v1/cases", **auth).json()) == 9
    assert _queries(client, "/api/v1/cases", auth) == one


def test_entry_list_query_count_does_not_grow(client, personas, case_world, world):
    def add(n: int, start: int) -> None:
        for i in range(n):
            entry_add(
                actor=personas.practitioner,
                case=case_world.case,
                agency=world.avesta_school,
                category=case_world.school_category,
                text=f"Anteckning {start + i}",
            )
            entry_add(
                actor=personas.police,
                case=case_world.case,
                agency=world.police,
                category=case_world.police_category,
                text=f"Polis {start + i}",
            )

    auth = token(personas.practitioner)
    url = f"/api/v1/cases/{case_world.case.pk}/entries"
    add(1, 0)
    one = _queries(client, url, auth)
    add(49, 1)
    body = client.get(url, **auth).json()
    assert len(body["entries"]) == 50
    assert body["hidden"][0]["count"] == 50
    assert _queries(client, url, auth) == one


def test_case_detail_and_team_query_counts_do_not_grow(client, personas, case_world, world):
    auth = token(personas.practitioner)
    detail = f"/api/v1/cases/{case_world.case.pk}"
    team = f"{detail}/team"
    before = (_queries(client, detail, auth), _queries(client, team, auth))
    for i in range(5):
        entry_add(
            actor=personas.practitioner,
            case=case_world.case,
            agency=world.avesta_school,
            category=case_world.school_category,
            text=f"Anteckning {i}",
        )
    for i in range(4):
        user = make_user(f"police{i}", world.police, Role.PRACTITIONER)
        group_member_add(actor=None, group=world.avesta_group, user=user, agency=world.police)
        team_add(actor=personas.coordinator, case=case_world.case, user=user, agency=world.police)
    assert len(client.get(team, **auth).json()["members"]) == 7
    assert (_queries(client, detail, auth), _queries(client, team, auth)) == before


# --- Generated input over the whole OpenAPI schema ------------------------------------------


@contextmanager
def _wsgi_shares_the_test_connection() -> Iterator[None]:
    """Django closes the connection at the end of a request, which would end the test's
    transaction; its own test client lifts that the same way."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


_FUZZ_CHECKS = [response_schema_conformance, content_type_conformance]


def _fuzz(
    operation: schemathesis.APIOperation,
    mode: GenerationMode,
    *,
    headers: dict[str, str],
    real: dict[str, int],
    answered: dict[str, set[int]],
) -> None:
    strategy = operation.as_strategy(generation_mode=mode, headers=headers)

    @hypothesis.settings(
        max_examples=20,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    @hypothesis.given(case=strategy, aim=st.booleans())
    def run(case: schemathesis.Case, aim: bool) -> None:
        if aim:  # half of the examples name objects that exist, to get past the 404
            for params in (case.path_parameters, case.body):
                if isinstance(params, dict):
                    for name in params.keys() & real.keys():
                        params[name] = real[name]
        response = case.call()
        answered.setdefault(operation.label, set()).add(response.status_code)
        assert response.status_code < 500, (case.method, case.formatted_path)
        if operation.path.startswith("/api/v1/cases"):
            case.validate_response(response, checks=_FUZZ_CHECKS)

    try:
        run()
    except hypothesis.errors.Unsatisfiable:
        # Nothing invalid to send to an operation without parameters or body.
        assert mode is GenerationMode.NEGATIVE


def test_generated_requests_never_meet_a_server_error(personas, case_world, world):
    """Schemathesis over every operation of /api/v1/openapi.json, positive and negative input,
    authenticated with a write token: no answer is a 5xx, and the cases endpoints answer as
    their schemas say. Bounded and deterministic (derandomised, no example database)."""
    writer = token_create(
        actor=None, user=personas.practitioner, name="fuzz", days=3, scope=Scope.WRITE
    ).text
    spare = token_create(actor=None, user=personas.practitioner, name="spare", days=3).token
    real = {
        "case_id": case_world.case.pk,
        "token_id": spare.pk,
        "group_id": world.avesta_group.pk,
        "agency_id": world.avesta_school.pk,
    }
    answered: dict[str, set[int]] = {}
    with _wsgi_shares_the_test_connection():
        schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
        results = list(schema.get_all_operations())
        operations = [result.ok() for result in results if isinstance(result, Ok)]
        assert len(operations) == len(results), "the schema describes an operation badly"
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                _fuzz(
                    operation,
                    mode,
                    headers={"Authorization": f"Bearer {writer}"},
                    real=real,
                    answered=answered,
                )
    # Every cases operation was generated for, and the handlers were reached, not only the
    # schema validation in front of them.
    assert {
        "GET /api/v1/cases",
        "POST /api/v1/cases",
        "GET /api/v1/cases/{case_id}",
        "GET /api/v1/cases/{case_id}/entries",
        "POST /api/v1/cases/{case_id}/entries",
        "GET /api/v1/cases/{case_id}/team",
    } <= answered.keys()
    assert 200 in answered["GET /api/v1/cases/{case_id}/entries"]
    assert answered["POST /api/v1/cases/{case_id}/entries"] & {201, 400}
    assert answered["POST /api/v1/cases"] & {201, 400}
