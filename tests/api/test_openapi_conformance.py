"""The OpenAPI document is true: the API gives no answer it does not document, and every error
answer it documents really happens, with the documented body.

- ``test_every_answer_is_documented``: schemathesis over every operation of
  /api/v1/openapi.json with all of its checks (``--checks all``), in its examples, coverage and
  fuzzing phases, positive and negative input, a bounded number of examples per operation,
  authenticated with real tokens of personas who have data. Each operation is one test.
- ``test_workflows_hold``: its stateful phase, bounded: sequences of calls along the links
  schemathesis infers (an agreement from the list, then a change to it), under the same checks,
  ``use_after_free`` and ``ensure_resource_availability`` among them, which judge sequences.
- ``test_every_refusal_is_documented_and_happens``: every operation documents each of 400 (a
  body that is not JSON), 401, 403, 404 and 422 that it can give, and each one it documents is
  provoked and its body checked against the document (``samverkan.api.openapi`` has the
  rules that add them to the document).

One check has nothing to act on and so passes trivially; it is kept in, not excluded:
``object_level_authorization`` compares what several identities configured through
``[auth.wfc]`` (login flows of the Web Fuzzing Commons format) read of each other's objects.
Need to know is tested per persona in the apps' own API tests instead (every endpoint: outsider
404, read-only 403), with the personas' real roles, which that format cannot express.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import hypothesis
import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from schemathesis.config import SchemathesisConfig
from schemathesis.core.parameters import ParameterLocation
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from werkzeug.test import Client as WsgiClient

from samverkan.api.models import Scope
from samverkan.api.services import token_create
from samverkan.consent.models import SignatureMethod
from samverkan.consent.services import signature_record
from samverkan.meetings.services import agenda_item_add, meeting_schedule
from tests.cases.test_api import _wsgi_shares_the_test_connection
from tests.consent.conftest import consent_case, pending_consent  # noqa: F401 - fixtures
from tests.meetings.conftest import local
from tests.promises.conftest import promise_world  # noqa: F401 - a fixture

MAX_EXAMPLES = 20

CONFIG = {
    "generation": {
        "mode": "all",
        "max-examples": MAX_EXAMPLES,
        "deterministic": True,
        # The test sends a real token with every request. A generated Authorization header
        # would be replaced by it, so that a case meant to lack a valid token would not;
        # ``ignored_auth`` itself sends each operation without a token and with a wrong one.
        "with-security-parameters": False,
    },
    "checks": {
        # A schema can say what a well-formed request is, not the services' rules: a
        # personnummer's check digit, a date not in the past, a party of this agreement. A
        # request of the right form that breaks one answers 400 with the messages per field,
        # documented on every operation that has such rules.
        "positive_data_acceptance": {
            "expected-statuses": ["2xx", "400", "401", "403", "404"],
        },
    },
}

schema = schemathesis.openapi.from_wsgi(
    "/api/v1/openapi.json", get_wsgi_application(), config=SchemathesisConfig.from_dict(CONFIG)
)

_CONFORMS = [status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(autouse=True)
def _shared_connection() -> Iterator[None]:
    with _wsgi_shares_the_test_connection():
        yield


@pytest.fixture
def api_world(personas, world, consent_case, pending_consent, promise_world):  # noqa: F811
    """Tokens of the personas who hold each part of the API, and ids of their objects."""
    meeting = meeting_schedule(
        actor=personas.coordinator,
        group=world.avesta_group,
        starts_at=local(7, 9),
        ends_at=local(7, 10),
        location="Stadshuset, rum 3",
    )
    agenda_item_add(actor=personas.coordinator, meeting=meeting, case=consent_case.case)
    # One guardian has signed (the consent stays pending): a signature to confirm.
    signer = pending_consent.signers.order_by("pk").first()
    signature_record(actor=personas.practitioner, signer=signer, method=SignatureMethod.IN_PERSON)
    holders = {
        "cases": personas.practitioner,
        "meetings": personas.coordinator,
        "agreements": personas.agreement_editor,
        "stats": personas.council_member,
    }

    def bearer(user, scope: Scope) -> dict[str, str]:
        issued = token_create(actor=None, user=user, name="conformance", days=3, scope=scope)
        return {"Authorization": f"Bearer {issued.text}"}

    spare = token_create(actor=None, user=personas.practitioner, name="spare", days=3).token
    return {
        "writer": {part: bearer(user, Scope.WRITE) for part, user in holders.items()},
        "reader": {part: bearer(user, Scope.READ) for part, user in holders.items()},
        "outsider": bearer(personas.outsider, Scope.WRITE),
        "real": {
            "case_id": consent_case.case.pk,
            "consent_id": pending_consent.pk,
            "signer_id": signer.pk,
            "meeting_id": meeting.pk,
            "group_id": world.avesta_group.pk,
            "agency_id": world.avesta_school.pk,
            "token_id": spare.pk,
            "agreement_id": promise_world.promise.pk,
            "promise_id": promise_world.promise.pk,
            "commitment_id": promise_world.joint_commitment.pk,
            "party_id": promise_world.municipality.pk,
        },
    }


def _part(path: str) -> str:
    """Whose data an operation is about: which persona's token reaches past its 404."""
    for part in ("meetings", "agreements", "stats"):
        if path.startswith(f"/api/v1/{part}"):
            return part
    return "cases"


def _aim(params: Any, real: dict[str, int]) -> None:
    if isinstance(params, dict):
        for name in params.keys() & real.keys():
            params[name] = real[name]


# --- Every answer is documented -----------------------------------------------------------


@schema.parametrize()
@hypothesis.settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    # The personas' data is built once per operation, not per example: examples run one after
    # another against the same data, as a client's requests would.
    suppress_health_check=list(hypothesis.HealthCheck),
)
def test_every_answer_is_documented(case, api_world):
    meta = case.meta
    # Ids that exist, so that requests get past the 404 to the handlers and the services; only
    # where the input is meant to be valid, since a negative case must stay invalid.
    if meta is not None:
        for location, params in (
            (ParameterLocation.PATH, case.path_parameters),
            (ParameterLocation.BODY, case.body),
        ):
            if not meta.is_negative_at(location):
                _aim(params, api_world["real"])
    case.call_and_validate(headers=api_world["writer"][_part(case.operation.path)])


# --- Workflows ------------------------------------------------------------------------------


def test_workflows_hold(api_world):
    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
            return {"headers": api_world["writer"][_part(case.operation.path)]}

        def validate_response(
            self,
            response: Any,
            case: schemathesis.Case,
            additional_checks: Any = None,
            **kwargs: Any,
        ) -> None:
            # As ``call_and_validate``: the token is the caller's own, not generated input.
            case.validate_response(
                response,
                additional_checks=additional_checks,
                headers=kwargs.get("headers"),
                transport_kwargs=kwargs,
                recorder=self.recorder,
            )

    Workflow.run(
        settings=hypothesis.settings(
            max_examples=25,
            stateful_step_count=8,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(hypothesis.HealthCheck),
        )
    )


# --- Every documented refusal happens -------------------------------------------------------


def _simplest(json_schema: dict[str, Any]) -> Any:
    """The simplest value ``json_schema`` allows (of the kinds the API's bodies use)."""
    while "$ref" in json_schema:
        json_schema = schema.raw_schema["components"]["schemas"][json_schema["$ref"].split("/")[-1]]
    if "anyOf" in json_schema:
        return _simplest(json_schema["anyOf"][0])
    if "enum" in json_schema:
        return json_schema["enum"][0]
    kind = str(json_schema.get("type"))
    if kind == "object":
        fields = json_schema.get("properties", {})
        return {name: _simplest(fields[name]) for name in json_schema.get("required", [])}
    simplest = {
        "array": [],
        "boolean": False,
        "integer": max(0, json_schema.get("minimum", 0)),
        "null": None,
        "string": {"date": "2026-01-01", "date-time": "2026-01-01T09:00:00+01:00"}.get(
            json_schema.get("format", ""), ""
        ),
    }
    return simplest[kind]


def _valid_case(operation: schemathesis.APIOperation, real: dict[str, int]) -> schemathesis.Case:
    """The simplest request the schema allows, naming objects that exist."""
    definition = _definition(operation)
    path = {p["name"]: real[p["name"]] for p in definition["parameters"] if p["in"] == "path"}
    content = definition.get("requestBody", {}).get("content", {})
    if "application/json" not in content:
        return operation.Case(path_parameters=path)
    body = _simplest(content["application/json"]["schema"])
    _aim(body, real)
    return operation.Case(path_parameters=path, body=body, media_type="application/json")


def _definition(operation: schemathesis.APIOperation) -> dict[str, Any]:
    return schema.raw_schema["paths"][operation.path][operation.method.lower()]


def _provoke(status: int, case: schemathesis.Case, world: dict[str, Any]) -> Any:
    """Send ``case`` changed so that it must be refused with ``status``."""
    part = _part(case.operation.path)
    if status == 401:
        return case.call()
    if status == 403:  # the write scope
        return case.call(headers=world["reader"][part])
    if status == 404:
        if case.path_parameters:  # no object has the id 0
            case.path_parameters = dict.fromkeys(case.path_parameters, 0)
            return case.call(headers=world["writer"][part])
        return case.call(headers=world["outsider"])  # nothing of theirs to act in
    if status == 422:
        if case.path_parameters:
            case.path_parameters[next(iter(case.path_parameters))] = "x"
        elif numbers := [
            p["name"]
            for p in _definition(case.operation)["parameters"]
            if p["in"] == "query" and "integer" in json.dumps(p["schema"])
        ]:
            case.query = {**(case.query or {}), numbers[0]: "x"}
        else:
            case.body = []
            case.media_type = "application/json"
        return case.call(headers=world["writer"][part])
    assert status == 400
    client = WsgiClient(get_wsgi_application())
    return client.open(
        case.formatted_path,
        method=case.method,
        data=b'{"not": json',
        content_type="application/json",
        headers=world["writer"][part],
    )


def test_every_refusal_is_documented_and_happens(api_world):
    results = list(schema.get_all_operations())
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) == len(results), "the schema describes an operation badly"
    refusals: dict[str, set[int]] = {}
    for operation in operations:
        definition = _definition(operation)
        documented = {int(status) for status in definition["responses"]}
        json_body = "application/json" in definition.get("requestBody", {}).get("content", {})
        # What each operation can answer, so what it must document (issue 17, point 5).
        expected = set()
        if definition.get("security"):
            expected |= {401} if operation.method.upper() == "GET" else {401, 403}
        if any(p["in"] == "path" for p in definition["parameters"]):
            expected.add(404)
        if definition["parameters"] or "requestBody" in definition:
            expected.add(422)
        if json_body:
            expected.add(400)
        assert expected <= documented, (operation.label, expected - documented)
        # And each of them really happens, with the body the document gives.
        provokable = {401, 403, 404, 422} | ({400} if json_body else set())
        for status in sorted(documented & provokable):
            case = _valid_case(operation, api_world["real"])
            response = _provoke(status, case, api_world)
            assert response.status_code == status, (operation.label, status)
            case.validate_response(response, checks=_CONFORMS)
            refusals.setdefault(operation.label, set()).add(status)
    assert refusals.keys() == {operation.label for operation in operations}
    assert refusals["GET /api/v1/me"] == {401}
    assert refusals["GET /api/v1/promises"] == {422}
    assert refusals["GET /api/v1/promises/{promise_id}"] == {404, 422}
    assert refusals["POST /api/v1/cases"] == {400, 401, 403, 404, 422}
    assert refusals["DELETE /api/v1/tokens/{token_id}"] == {401, 403, 404, 422}
    assert refusals["GET /api/v1/stats/dashboard"] == {401, 404, 422}
