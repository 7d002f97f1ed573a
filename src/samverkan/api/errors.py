"""The one shape of a refused write in the API: a service's ValidationError, per field.

Kept apart from ``api.api`` so that the routers can import it while that module is loading.
"""

from __future__ import annotations

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from ninja import Field, Schema


class FieldErrorsOut(Schema):
    detail: str
    errors: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Messages per request field; `__all__` for those of no single field. "
        "Empty when the body could not be read at all.",
    )


def field_errors(exc: ValidationError) -> FieldErrorsOut:
    errors: dict[str, list[str]]
    if hasattr(exc, "error_dict"):
        errors = {name: list(messages) for name, messages in exc.message_dict.items()}
    else:
        errors = {NON_FIELD_ERRORS: list(exc.messages)}
    return FieldErrorsOut(detail=" ".join(exc.messages), errors=errors)
