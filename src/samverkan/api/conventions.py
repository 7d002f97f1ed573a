"""What every part of the HTTP API shares: who is calling, the error shapes, and the one answer
to a service's refusal.

- ``caller(request)``: the token's owner (``BearerToken`` has refused every request without one);
- ``ErrorOut``: every refusal that carries one message (401, 403, 404 and django-ninja's own
  400 for a body that is not JSON);
- ``FieldErrorsOut``: a write a service refused (400), its messages per field;
- ``ValidationErrorOut``: django-ninja's 422 for a request that does not match the schema;
- ``install(api)``: registers ``service_refusal``, which answers every
  ``django.core.exceptions.ValidationError`` an operation lets out with 400 ``FieldErrorsOut``.
  An operation that can be refused so still declares ``400: FieldErrorsOut`` in its
  ``response=``, for the OpenAPI document.

The domain apps' routers import this module, never the ``NinjaAPI`` that mounts them
(``samverkan.web.api``).
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any, cast

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import HttpRequest, HttpResponse
from ninja import Field, NinjaAPI, Schema

if TYPE_CHECKING:
    from samverkan.accounts.models import User


def caller(request: HttpRequest) -> User:
    """The token's owner; the API's BearerToken has refused every request without one."""
    return cast("User", request.user)


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


def service_refusal(request: HttpRequest, exc: ValidationError, *, api: NinjaAPI) -> HttpResponse:
    """400 ``FieldErrorsOut``: what a service refused, its messages per request field.

    django-ninja calls it inside the operation's run, so the answer is the operation's own: the
    idempotency decorator stores it like any other 4xx, in the transaction of the request.
    """
    return api.create_response(request, field_errors(exc).model_dump(), status=400)


def install(api: NinjaAPI) -> None:
    """Register the API's exception handler on ``api``."""
    api.add_exception_handler(ValidationError, partial(service_refusal, api=api))
