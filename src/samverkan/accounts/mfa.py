from __future__ import annotations

from typing import TYPE_CHECKING

from allauth.mfa.models import Authenticator

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
        setattr(user, "_samverkan_has_mfa", cached)  # noqa: B010 - a per-request cache
    return cached
