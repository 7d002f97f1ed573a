"""The shapes of the API's error answers.

- ``ErrorOut``: every refusal that carries one message (401, 403, 404 and django-ninja's own
  400 for a body that is not JSON);
- ``FieldErrorsOut``: a write a service refused (400), its messages per field;
- ``ValidationErrorOut``: django-ninja's 422 for a request that does not match the schema.

Kept apart from ``api.api`` so that the routers can import it while that module is loading.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from ninja import Field, Schema


class ErrorOut(Schema):
    detail: str


class ValidationErrorItemOut(Schema):
    type: str = Field(description="The kind of error, e.g. `missing` or `int_parsing`.")
    loc: list[str | int] = Field(
        description="Where: `path`, `query` or `body`, then the parameter and the field path."
    )
    msg: str
    ctx: dict[str, Any] | None = Field(
        None, description="The limit that was broken, where there is one (e.g. `le`)."
    )


class ValidationErrorOut(Schema):
    detail: list[ValidationErrorItemOut]


class FieldErrorsOut(Schema):
    detail: str
    errors: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Messages per request field; `__all__` for those of no single field. "
        "Left out when the body could not be read at all.",
    )


def field_errors(exc: ValidationError) -> FieldErrorsOut:
    errors: dict[str, list[str]]
    if hasattr(exc, "error_dict"):
        errors = {name: list(messages) for name, messages in exc.message_dict.items()}
    else:
        errors = {NON_FIELD_ERRORS: list(exc.messages)}
    return FieldErrorsOut(detail=" ".join(exc.messages), errors=errors)
