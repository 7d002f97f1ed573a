"""Creating, using and revoking personal access tokens (every step is audited), and the
idempotency keys of API writes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from samverkan.accounts.mfa import (
    has_second_factor,
    has_second_factor_expression,
    remember_second_factor,
)
from samverkan.api.models import ApiToken, IdempotencyKey, Scope
from samverkan.audit.models import Outcome
from samverkan.audit.services import audit_read, audit_record

if TYPE_CHECKING:
    from samverkan.accounts.models import User

TOKEN_PREFIX = "svk"  # noqa: S105 - a fixed marker, not a secret
_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    text: str  # shown once; never stored


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def token_create(
    *, actor: User | None, user: User, name: str, days: int, scope: Scope | str = Scope.READ
) -> IssuedToken:
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the token a name.")})
    if not 1 <= days <= settings.API_TOKEN_MAX_DAYS:
        raise ValidationError(
            {
                "days": _("A token lasts from 1 to %(max)d days.")
                % {"max": settings.API_TOKEN_MAX_DAYS}
            }
        )
    if scope not in Scope.values:
        raise ValidationError({"scope": _("Unknown scope.")})
    if not user.is_active:
        raise ValidationError(_("The account is not active."))
    if not has_second_factor(user):
        # A token must not become a way around the second factor.
        raise ValidationError(_("The account has no second factor enrolled."))
    prefix = "".join(secrets.choice(_ALPHABET) for _ in range(10))
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name,
            prefix=prefix,
            secret_sha256=_digest(secret),
            scope=scope,
            expires_at=timezone.now() + timedelta(days=days),
        )
        audit_record(
            action="api_token.created",
            actor=actor,
            obj=token,
            details={"user_id": user.pk, "days": days, "scope": str(scope)},
        )
    return IssuedToken(token=token, text=f"{TOKEN_PREFIX}_{prefix}_{secret}")


def token_revoke(*, actor: User, token: ApiToken) -> ApiToken:
    with transaction.atomic():
        locked = ApiToken.objects.select_for_update().get(pk=token.pk)
        if locked.revoked_at is None:
            locked.revoked_at = timezone.now()
            locked.save(update_fields=["revoked_at"])
            audit_record(
                action="api_token.revoked",
                actor=actor,
                obj=locked,
                details={"user_id": locked.user_id},
            )
    return locked


def token_revoke_all(*, actor: User, user: User) -> int:
    with transaction.atomic():
        tokens = list(ApiToken.objects.select_for_update().filter(user=user, revoked_at=None))
        for token in tokens:
            token_revoke(actor=actor, token=token)
    return len(tokens)


def _token_match(text: str) -> ApiToken | None:
    """The token whose text ``text`` is, live or not."""
    parts = text.split("_", 2)
    # Only printable ASCII reaches the database: PostgreSQL refuses a NUL in a query parameter.
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or not text.isascii() or not text.isprintable():
        return None
    token = (
        ApiToken.objects.select_related("user")
        .annotate(has_factor=has_second_factor_expression("user_id"))
        .filter(prefix=parts[1])
        .first()
    )
    if token is None or not hmac.compare_digest(token.secret_sha256, _digest(parts[2])):
        return None
    # Read with the token, so that ``_works`` asks nothing more of the database.
    remember_second_factor(token.user, token.has_factor)
    return token


def _works(token: ApiToken | None) -> bool:
    return (
        token is not None
        and token.is_usable
        and token.user.is_active
        and has_second_factor(token.user)
    )


def token_identify(text: str) -> ApiToken | None:
    """The live token for ``text``, or None; neither audited nor marked as used.

    Only for work that must be keyed by the token before django-ninja authenticates the request
    (which audits the use): the idempotency keys. Never a way in by itself.
    """
    token = _token_match(text)
    return token if _works(token) else None


# How stale a token's "last used" may be: written at most this often, not on every call.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def token_authenticate(text: str) -> ApiToken | None:
    """The live token for ``text``, or None. Both outcomes are audited, as reads: with the
    request's other reads, in one statement (``audit.services.request_reads``)."""
    token = _token_match(text)
    now = timezone.now()
    usable = _works(token)
    if token is not None and usable:
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        audit_read(action="api_token.used", actor=token.user, obj=token)
    else:
        audit_read(
            action="api_token.rejected",
            actor=token.user if token is not None else None,
            object_type="api.apitoken",
            object_id=str(token.pk) if token is not None else "",
            outcome=Outcome.DENIED,
            details={"reason": "expired_or_revoked" if token is not None else "unknown"},
        )
    return token if usable else None


# --- Idempotency keys ------------------------------------------------------------------------
# The HTTP side (which requests, the key's syntax, the fingerprint) is api/idempotency.py.

IDEMPOTENCY_WINDOW = timedelta(hours=24)
# How long a claim without an answer holds its key against retries. A request whose process
# died leaves such a claim; its write did not commit (the answer commits with it). Longer than
# the longest request (gunicorn ends a worker after 60 s), though correctness does not rest on
# it: only the holder of the current claim can store an answer (idempotency_store).
IDEMPOTENCY_CLAIM_TIMEOUT = timedelta(minutes=2)


class ClaimOutcome(StrEnum):
    RUN = "run"  # the key is this request's: run it, and store the answer with the write
    REPLAY = "replay"  # answered before: send that answer again
    IN_FLIGHT = "in_flight"  # another request with the key is running
    MISMATCH = "mismatch"  # the key was used for another request


def idempotency_claim(
    *, token: ApiToken, key: str, method: str, path: str, fingerprint: str
) -> tuple[ClaimOutcome, IdempotencyKey]:
    """Claim ``key`` of ``token`` for a request, or say why it cannot run.

    Commits on its own, before the write begins: another request with the key then sees the
    claim (``IN_FLIGHT``) instead of running beside it. The unique (token, key) makes the claim
    atomic; the row lock makes taking over an expired or abandoned claim atomic too.
    """
    for _attempt in range(3):
        now = timezone.now()
        with transaction.atomic(durable=True):
            claim = IdempotencyKey(
                token=token,
                key=key,
                method=method,
                path=path,
                fingerprint=fingerprint,
                attempt=secrets.token_hex(16),
                created_at=now,
            )
            try:
                with transaction.atomic():
                    claim.save(force_insert=True)
                return ClaimOutcome.RUN, claim
            except IntegrityError:
                pass
            row = IdempotencyKey.objects.select_for_update().filter(token=token, key=key).first()
            if row is None:
                continue  # released or pruned since the insert failed: insert again
            if row.created_at > now - IDEMPOTENCY_WINDOW:
                if (row.method, row.path, row.fingerprint) != (method, path, fingerprint):
                    return ClaimOutcome.MISMATCH, row
                if row.status is not None:
                    return ClaimOutcome.REPLAY, row
                if row.created_at > now - IDEMPOTENCY_CLAIM_TIMEOUT:
                    return ClaimOutcome.IN_FLIGHT, row
            # Expired, or abandoned by a request that died before its write committed.
            claim.pk, claim.uid = row.pk, row.uid
            claim.save(force_update=True)
            return ClaimOutcome.RUN, claim
    raise RuntimeError("idempotency key: the claim kept changing under this request")


def idempotency_store(
    *, claim: IdempotencyKey, status: int, content_type: str, language: str, body: bytes
) -> bool:
    """Store the answer to a claimed request. Call it inside the write's transaction.

    False when the claim is no longer this request's (it ran past the claim timeout and a retry
    took the key over): the caller must then roll its write back, or it would happen twice.
    """
    claim.body = body
    with transaction.atomic():
        stored = IdempotencyKey.objects.filter(
            pk=claim.pk, attempt=claim.attempt, status=None
        ).update(
            status=status, content_type=content_type, language=language, body_enc=claim.body_enc
        )
    claim.status, claim.content_type, claim.language = status, content_type, language
    return stored == 1


def idempotency_release(*, claim: IdempotencyKey) -> None:
    """Give the key up after a request that stored no answer, so that a retry runs."""
    with transaction.atomic():
        IdempotencyKey.objects.filter(pk=claim.pk, attempt=claim.attempt, status=None).delete()


def idempotency_replayed(*, token: ApiToken, answer: IdempotencyKey, case_id: int | None) -> None:
    """Audit sending a stored answer again: it may hold personal data (DESIGN rule 8)."""
    with transaction.atomic():
        audit_record(
            action="api_request.replayed",
            actor=token.user,
            obj=answer,
            case_id=case_id,
            details={
                "token_id": token.pk,
                "method": answer.method,
                "status": answer.status,
                # When the first request came; with the actor and the token, that finds
                # the first request's events. (Not its request id: 32 hex digits can hold ten
                # decimal ones in a row, which the audit log rightly refuses as a personnummer.)
                "original_at": answer.created_at.isoformat(timespec="seconds"),
            },
        )


def idempotency_prune(*, now: datetime | None = None) -> int:
    """Delete the keys past their 24 hours; the number deleted. (They are never replayed after
    that anyway: this keeps the table, and its copies of answers, small.)"""
    cutoff = (now or timezone.now()) - IDEMPOTENCY_WINDOW
    with transaction.atomic():
        deleted, _per_model = IdempotencyKey.objects.filter(created_at__lte=cutoff).delete()
    return deleted
