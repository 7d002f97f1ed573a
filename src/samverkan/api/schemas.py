"""JSON request bodies that take only the JSON their OpenAPI schema documents.

pydantic's lax mode, which django-ninja validates in, reads ``"1"``, ``1.0`` and ``true`` as the
integer 1, ``0`` and ``"no"`` as false, a number as a date (seconds since 1970), and any value at
all as an object whose fields all have defaults. A client generated from the OpenAPI document
must not come to rely on any of that, and a mistyped value must not quietly become another
one: in a body, a value of another JSON type than its schema gives answers 422, like every
other request that does not match the schema. The values' own rules (lengths, ranges, choices,
whether a date exists) stay pydantic's.

Two limits of the database are documented and held to as well, instead of making it raise: every
integer in a body lies in the signed 64-bit range of its keys and counts, and no text holds a
NUL character (PostgreSQL cannot store one; the pages' forms refuse it too).
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from django.http import HttpRequest
from ninja import Schema
from pydantic import ConfigDict, ModelWrapValidatorHandler, ValidationInfo, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError, ValidationError

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int, float),  # JSON Schema: 1.0 is an integer; 1.5 is pydantic's to refuse
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
    "null": (type(None),),
}
# The text shapes of RFC 3339 that the formats name; pydantic then checks the values.
_FORMATS = {
    "date": re.compile(r"\d{4}-\d{2}-\d{2}"),
    "date-time": re.compile(
        r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})?"
    ),
}


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
NO_NUL = "^[^\\u0000]*$"


def _document_limits(schema: dict[str, Any]) -> None:
    """Add the database's limits to every integer and free text of a JSON schema, in place."""
    kinds = schema.get("type")
    names = kinds if isinstance(kinds, list) else [kinds]
    if "integer" in names:
        schema.setdefault("format", "int64")
        schema.setdefault("minimum", INT64_MIN)
        schema.setdefault("maximum", INT64_MAX)
    if "string" in names and not {"enum", "const", "format"} & schema.keys():
        schema.setdefault("pattern", NO_NUL)
    for keyword in ("properties", "$defs"):
        for branch in schema.get(keyword, {}).values():
            _document_limits(branch)
    for keyword in ("anyOf", "oneOf", "allOf"):
        for branch in schema.get(keyword, []):
            _document_limits(branch)
    if isinstance(schema.get("items"), dict):
        _document_limits(schema["items"])


@cache
def _schema(model: type[Schema]) -> dict[str, Any]:
    return model.model_json_schema()


def _resolve(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = defs[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _fits(value: Any, schema: dict[str, Any], defs: dict[str, Any]) -> bool:
    """Whether ``value`` has the JSON type (and, for text, the format) ``schema`` gives."""
    schema = _resolve(schema, defs)
    for keyword, combine in (("anyOf", any), ("oneOf", any), ("allOf", all)):
        if keyword in schema:
            return combine(_fits(value, branch, defs) for branch in schema[keyword])
    kinds = schema.get("type")
    if kinds is None:
        return True
    if isinstance(value, bool) and "boolean" not in kinds:
        return False  # a bool is an int to Python, never a number to JSON
    names = kinds if isinstance(kinds, list) else [kinds]
    if not any(isinstance(value, _JSON_TYPES[name]) for name in names):
        return False
    if isinstance(value, int | float) and "integer" in names and "number" not in names:
        return INT64_MIN <= value <= INT64_MAX
    if isinstance(value, str) and "\x00" in value:
        return False
    if isinstance(value, str) and (shape := _FORMATS.get(schema.get("format", ""))):
        return shape.fullmatch(value) is not None
    if isinstance(value, list) and "items" in schema:
        return all(_fits(item, schema["items"], defs) for item in value)
    if isinstance(value, dict) and "properties" in schema:
        fields = schema["properties"]
        return all(_fits(value[name], fields[name], defs) for name in value.keys() & fields)
    return True


def _describe(schema: dict[str, Any], defs: dict[str, Any]) -> str:
    schema = _resolve(schema, defs)
    if "anyOf" in schema or "oneOf" in schema:
        branches = schema.get("anyOf") or schema["oneOf"]
        return " or ".join(_describe(branch, defs) for branch in branches)
    kinds = schema.get("type", "any")
    name = " or ".join(kinds) if isinstance(kinds, list) else kinds
    if "format" in schema:
        return f"{name} ({schema['format']})"
    if schema.get("pattern") == NO_NUL:
        return f"{name} without NUL characters"
    if "items" in schema:
        return f"{name} of {_describe(schema['items'], defs)}"
    return name


def _from_json_body(info: ValidationInfo) -> bool:
    """Whether django-ninja is reading a JSON body: a form sends every value as text."""
    request = (info.context or {}).get("request")
    return isinstance(request, HttpRequest) and request.content_type not in (
        "multipart/form-data",
        "application/x-www-form-urlencoded",
    )


class JsonIn(Schema):
    """A request body whose values must have the JSON types its schema documents."""

    model_config = ConfigDict(json_schema_extra=_document_limits)

    # Replaces django-ninja's own root validator of the same name, which wraps the input in
    # its ORM attribute getter before any other validator could see it; a body is no ORM
    # object, so the plain dict is validated.
    @model_validator(mode="wrap")
    @classmethod
    def _run_root_validator(
        cls, data: Any, handler: ModelWrapValidatorHandler[JsonIn], info: ValidationInfo
    ) -> Any:
        if _from_json_body(info) and not isinstance(data, cls):
            _check_json_types(cls, data)
        return handler(data)


def _check_json_types(model: type[Schema], data: Any) -> None:
    if not isinstance(data, dict):
        raise PydanticCustomError("json_type", "Input should be a JSON object")
    schema = _schema(model)
    defs = schema.get("$defs", {})
    fields = schema.get("properties", {})
    errors = [
        InitErrorDetails(
            type=PydanticCustomError(
                "json_type",
                "Input should be JSON of type {expected}",
                {"expected": _describe(fields[name], defs)},
            ),
            loc=(name,),
            input=data[name],
        )
        for name in fields
        if name in data and not _fits(data[name], fields[name], defs)
    ]
    if errors:
        raise ValidationError.from_exception_data(model.__name__, errors)
