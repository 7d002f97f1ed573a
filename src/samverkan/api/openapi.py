"""The API's error answers in its OpenAPI document, from one set of rules, not per decorator.

Each operation documents every refusal it can give, with the body it really has:

- 401 ``ErrorOut``: every operation behind the bearer token (django-ninja answers
  ``{"detail": "Unauthorized"}`` to a missing, unknown, expired or revoked token);
- 403 ``ErrorOut``: every write behind the token: each checks the write scope (after
  visibility, so that an outsider gets the 404), and most the caller's role too;
- 404 ``ErrorOut``: every operation with an id in its path; a missing object and one the caller
  may not see answer alike;
- 422 ``ValidationErrorOut``: every operation with parameters or a body (django-ninja's answer
  to a request that does not match the schema);
- 400 ``ErrorOut``: every operation with a JSON body (django-ninja's answer to a body that is not
  JSON). Where an operation declares ``FieldErrorsOut`` for its services' refusals, that stays:
  its ``errors`` may be left out, so the one shape covers both.

A response an operation declares itself is kept as it is. No 429: nothing in the API limits
request rates (the login limits guard the pages, and the API has no password to guess).

tests/api/test_openapi_conformance.py holds both directions: schemathesis with all its checks
finds no undocumented answer, and every refusal documented here is provoked and matches.
"""

from __future__ import annotations

from typing import Any

from ninja import NinjaAPI, Schema
from ninja.openapi.schema import REF_TEMPLATE, OpenAPISchema
from ninja.operation import Operation
from ninja.schema import NinjaGenerateJsonSchema

from samverkan.api.conventions import ErrorOut, ValidationErrorOut

_READS = frozenset({"GET", "HEAD", "OPTIONS"})

_DESCRIPTIONS = {
    400: "The body is not JSON.",
    401: "No valid bearer token: missing, unknown, expired or revoked.",
    403: "The token lacks the write scope, or the caller may not make this change.",
    404: "No such object, or one the caller may not see (they answer alike).",
    422: "The request does not match the schema; `detail` lists each error.",
}


def error_responses(details: dict[str, Any], methods: list[str]) -> dict[int, type[Schema]]:
    """The refusals an operation can give, by the rules above, from its OpenAPI details."""
    secured = bool(details.get("security"))
    parameters = details.get("parameters") or []
    body = details.get("requestBody") or {}
    found: dict[int, type[Schema]] = {}
    if secured:
        found[401] = ErrorOut
        if not _READS.issuperset(m.upper() for m in methods):
            found[403] = ErrorOut
    if any(p.get("in") == "path" for p in parameters):
        found[404] = ErrorOut
    if parameters or body:
        found[422] = ValidationErrorOut
    if "application/json" in body.get("content", {}):
        found[400] = ErrorOut
    return found


class _Document(OpenAPISchema):
    def operation_details(self, operation: Operation) -> dict[str, Any]:
        details = super().operation_details(operation)
        responses: dict[int, Any] = details["responses"]
        for status, model in error_responses(details, operation.methods).items():
            if status not in responses:
                responses[status] = {
                    "description": _DESCRIPTIONS[status],
                    "content": {self.api.renderer.media_type: {"schema": self._ref(model)}},
                }
        details["responses"] = dict(sorted(responses.items()))
        return details

    def _ref(self, model: type[Schema]) -> dict[str, str]:
        name = model.__name__
        if name not in self.schemas:
            schema = model.model_json_schema(
                ref_template=REF_TEMPLATE,
                schema_generator=NinjaGenerateJsonSchema,
                mode="serialization",
            )
            self.add_schema_definitions(schema.pop("$defs", {}))
            self.schemas[name] = schema
        return {"$ref": REF_TEMPLATE.format(model=name)}


class DocumentedErrorsAPI(NinjaAPI):
    """A NinjaAPI whose OpenAPI document lists each operation's error answers."""

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        if path_prefix is None:
            path_prefix = self.get_root_path(path_params or {})
        return _Document(self, path_prefix)
