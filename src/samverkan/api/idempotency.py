"""The ``Idempotency-Key`` request header on API writes.

Semantics of draft-ietf-httpapi-idempotency-key-header: a client that sends a write (POST, PUT,
PATCH, DELETE) with a key of its choosing gets, for a repeat of that request with that key
within 24 hours, the first answer again instead of a second write. The header is optional;
without it a write runs every time it is sent.

- Keys are per token (the row, not its user), 1–255 visible ASCII characters, bare or as the
  draft's quoted string; anything else answers 400.
- A repeat with the same method, path, content type, query string and body gets the stored
  status and body with ``Idempotent-Replayed: true``; the write does not run again and writes
  no audit event of its own, but the replay is audited (it may carry personal data).
- The same key with another request answers 422; while the first request runs, 409.
- 2xx and 4xx answers are stored, except 401, 409 and 429. A 5xx rolls the write back with
  it, so that the retry the client should make runs afresh.

Why it holds after a crash: the key is claimed in a transaction of its own, then the write and
its stored answer commit in one transaction. Were the process killed after that commit, the
retry is replayed; before it, nothing of the write remains and the claim, unanswered, is taken
over once ``IDEMPOTENCY_CLAIM_TIMEOUT`` has passed. The services' own ``transaction.atomic``
blocks nest inside as savepoints, and their ``on_commit`` side effects (e-mail) run once, when
the outer transaction commits, or never.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections.abc import Callable
from typing import Any

from django.db import DatabaseError, transaction
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils import translation
from django.utils.translation import gettext as _

from samverkan.api.models import IdempotencyKey
from samverkan.api.services import (
    ClaimOutcome,
    idempotency_claim,
    idempotency_release,
    idempotency_replayed,
    idempotency_store,
    token_authenticate,
    token_identify,
)

logger = logging.getLogger("samverkan.api")

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_KEY_LENGTH = 255
_NOT_STORED = frozenset({401, 409, 429})

Run = Callable[..., HttpResponseBase]


def parse_key(value: str) -> str | None:
    """The key in a header value, or None when it is not one.

    The draft makes the value a structured-field string (``"…"``, RFC 8941); most clients send
    the bare key. Both are accepted, and ``"abc"`` and ``abc`` are the same key.
    """
    if len(value) >= 2 and value[0] == value[-1] == '"':
        chars: list[str] = []
        escaped = False
        for char in value[1:-1]:
            if escaped:
                if char not in '"\\':
                    return None
                chars.append(char)
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                return None
            else:
                chars.append(char)
        if escaped:
            return None
        value = "".join(chars)
    if not 1 <= len(value) <= MAX_KEY_LENGTH:
        return None
    if not all("\x21" <= char <= "\x7e" for char in value):
        return None
    return value


def fingerprint(request: HttpRequest) -> str:
    """SHA-256 of what makes two requests the same: content type, query string and body.

    A multipart POST is taken as its fields and files, not its bytes: a client picks a new
    boundary for every try, and the same form must still be the same request. (Django parses
    forms of POSTs only; any other body is taken byte for byte.)
    """
    digest = hashlib.sha256()
    content_type = (request.content_type or "").lower()
    query = request.META.get("QUERY_STRING", "")
    digest.update(json.dumps([content_type, query]).encode())
    if content_type == "multipart/form-data" and request.method == "POST":
        fields = sorted((k, request.POST.getlist(k)) for k in request.POST)
        files = []
        for name in sorted(request.FILES):
            for upload in request.FILES.getlist(name):
                content = hashlib.sha256()
                for chunk in upload.chunks():
                    content.update(chunk)
                upload.seek(0)  # the view reads it from the start
                files.append([name, upload.name, upload.content_type, content.hexdigest()])
        digest.update(json.dumps([fields, files]).encode())
    else:
        digest.update(request.body)
    return digest.hexdigest()


def storable(status: int) -> bool:
    """Answers a retry may get again: success, and refusals that do not depend on timing."""
    return 200 <= status < 300 or (400 <= status < 500 and status not in _NOT_STORED)


def _bearer(request: HttpRequest) -> str | None:
    # As django-ninja's HttpBearer reads it.
    scheme, _sep, text = request.headers.get("Authorization", "").partition(" ")
    return text if scheme.lower() == "bearer" and text else None


def _error(status: int, detail: str) -> HttpResponse:
    """The API's one-message error shape (``ErrorOut``), as django-ninja renders it."""
    return HttpResponse(
        json.dumps({"detail": detail}),
        status=status,
        content_type="application/json; charset=utf-8",
    )


def _replay(answer: IdempotencyKey) -> HttpResponse:
    response = HttpResponse(answer.body, status=answer.status, content_type=answer.content_type)
    response[REPLAYED_HEADER] = "true"
    if answer.language:
        # The stored body is in the first request's language; LocaleMiddleware keeps this.
        response["Content-Language"] = answer.language
    return response


def _case_id(kwargs: dict[str, Any]) -> int | None:
    value = str(kwargs.get("case_id", ""))
    return int(value) if value.isdigit() else None


class _SupersededError(Exception):
    """A retry took the key over while this request ran: this request must not commit."""


def idempotent(run: Run) -> Run:
    """Wrap a django-ninja operation (``api.add_decorator(idempotent, mode="view")``).

    The wrapper runs before django-ninja authenticates the request, so that the write, the
    checks before it and the stored answer can share one transaction. It therefore finds the
    token itself, without auditing; every answer it gives without running the operation is
    preceded by ``token_authenticate``, which audits the use exactly as django-ninja's would.
    """

    @functools.wraps(run)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        header = request.headers.get(HEADER)
        if request.method not in WRITE_METHODS or header is None:
            return run(request, *args, **kwargs)
        text = _bearer(request)
        token = token_identify(text) if text else None
        if text is None or token is None:
            return run(request, *args, **kwargs)  # django-ninja answers 401, and audits it
        key = parse_key(header)
        replayed: IdempotencyKey | None = None
        if key is None:
            response = _error(
                400, _("The Idempotency-Key header must be 1 to 255 visible ASCII characters.")
            )
        else:
            outcome, claim = idempotency_claim(
                token=token,
                key=key,
                method=request.method or "",
                path=request.path,
                fingerprint=fingerprint(request),
            )
            if outcome is ClaimOutcome.RUN:
                return _run_claimed(run, request, args, kwargs, claim)
            if outcome is ClaimOutcome.REPLAY:
                replayed, response = claim, _replay(claim)
            else:
                response = _refusal(outcome)
        # Answered without running the operation, so without django-ninja's authentication:
        # authenticate here, which audits the token's use as django-ninja would.
        with transaction.atomic():
            live = token_authenticate(text)
            if live is not None and replayed is not None:
                idempotency_replayed(token=live, answer=replayed, case_id=_case_id(kwargs))
        if live is None:  # the token stopped working a moment ago: django-ninja's 401
            return run(request, *args, **kwargs)
        return response

    return wrapper


def _refusal(outcome: ClaimOutcome) -> HttpResponse:
    """409 while the key's first request runs, 422 when the key was used for another one."""
    if outcome is ClaimOutcome.IN_FLIGHT:
        busy = _error(
            409, _("A request with this Idempotency-Key is still being processed. Try again.")
        )
        busy["Retry-After"] = "1"
        return busy
    return _error(
        422,
        _(
            "This Idempotency-Key was used for a different request. "
            "Send a new key with a new request."
        ),
    )


def _run_claimed(
    run: Run,
    request: HttpRequest,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    claim: IdempotencyKey,
) -> HttpResponseBase:
    """Run the operation, and store its answer in the transaction of its write.

    Everything the operation does, its token's audit event included, is in this transaction.
    On PostgreSQL that holds the audit chain's head row from that first event to the commit, so
    a keyed write keeps other audited requests waiting for its whole length, not just for its
    service's transaction; on SQLite a write transaction excludes all others anyway.
    """
    stored = False
    try:
        # Durable: this must be the transaction that commits the write, so that the write and
        # its answer are one commit.
        with transaction.atomic(durable=True):
            response = run(request, *args, **kwargs)
            status = response.status_code
            if status >= 500:
                transaction.set_rollback(True)  # the write too: the retry must run afresh
            elif storable(status) and isinstance(response, HttpResponse):
                if not idempotency_store(
                    claim=claim,
                    status=status,
                    content_type=response["Content-Type"],
                    language=translation.get_language() or "",
                    body=response.content,
                ):
                    raise _SupersededError
                stored = True
    except _SupersededError:
        return _error(
            409,
            _(
                "A later request with this Idempotency-Key took over while this one ran; "
                "nothing was changed."
            ),
        )
    finally:
        if not stored:
            try:
                idempotency_release(claim=claim)
            except DatabaseError:
                # The claim then expires by itself (IDEMPOTENCY_CLAIM_TIMEOUT).
                logger.warning("idempotency key %s: could not release the claim", claim.pk)
    return response
