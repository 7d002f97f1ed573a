from __future__ import annotations

from typing import TYPE_CHECKING

from allauth.mfa.models import Authenticator
from django.db.models import Exists, OuterRef

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from samverkan.accounts.models import User

SECOND_FACTORS = (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN)


def has_second_factor(user: User | AnonymousUser) -> bool:
    """True when the account has TOTP or a security key; cached on the user for the request."""
    if not user.is_authenticated:
        return False
    cached: bool | None = getattr(user, "_samverkan_has_mfa", None)
    if cached is None:
        cached = Authenticator.objects.filter(user_id=user.pk, type__in=SECOND_FACTORS).exists()
        remember_second_factor(user, cached)
    return cached


def remember_second_factor(user: User, has_factor: bool) -> None:
    """Cache ``has_second_factor`` on the user object, for the request it was loaded for."""
    setattr(user, "_samverkan_has_mfa", has_factor)  # noqa: B010 - a per-request cache


def has_second_factor_expression(user_column: str = "pk") -> Exists:
    """``has_second_factor`` as an expression on a query whose ``user_column`` names the user,
    so the user and this fact come in one row."""
    return Exists(
        Authenticator.objects.filter(user_id=OuterRef(user_column), type__in=SECOND_FACTORS)
    )
