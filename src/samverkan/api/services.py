"""Creating, using and revoking personal access tokens. Every step is audited."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from samverkan.accounts.mfa import has_second_factor
from samverkan.api.models import ApiToken, Scope
from samverkan.audit.models import Outcome
from samverkan.audit.services import audit_record

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


def token_authenticate(text: str) -> ApiToken | None:
    """The live token for ``text``, or None. Both outcomes are audited."""
    parts = text.split("_", 2)
    token = None
    if len(parts) == 3 and parts[0] == TOKEN_PREFIX:
        token = ApiToken.objects.select_related("user").filter(prefix=parts[1]).first()
    if token is not None and not hmac.compare_digest(token.secret_sha256, _digest(parts[2])):
        token = None
    now = timezone.now()
    usable = (
        token is not None
        and token.is_usable
        and token.user.is_active
        and has_second_factor(token.user)
    )
    with transaction.atomic():
        if token is not None and usable:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            audit_record(action="api_token.used", actor=token.user, obj=token)
        else:
            audit_record(
                action="api_token.rejected",
                actor=token.user if token is not None else None,
                object_type="api.apitoken",
                object_id=str(token.pk) if token is not None else "",
                outcome=Outcome.DENIED,
                details={"reason": "expired_or_revoked" if token is not None else "unknown"},
            )
    return token if usable else None
