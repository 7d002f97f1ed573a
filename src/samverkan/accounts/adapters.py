from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from django.http import HttpRequest

from samverkan.accounts.mfa import SECOND_FACTORS, has_second_factor
from samverkan.lib import crypto

_TOTP_AAD = "allauth.mfa.secret"


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # Accounts are created only by administrators' invitations.
        return False

    def is_reauthentication_required(self, *, app: str, **kwargs: Any) -> bool:
        """Enrolling the first second factor needs no second password prompt.

        An account without a factor can do nothing but enrol (MfaRequiredMiddleware), and it
        has just proved its password at login; asking again protects nothing. Every other
        sensitive action, including changing an existing factor, asks for re-authentication.
        """
        request = context.request
        user = getattr(request, "user", None)
        if (
            app == "allauth.mfa"
            and user is not None
            and user.is_authenticated
            and not has_second_factor(user)
        ):
            return False
        required: bool = super().is_reauthentication_required(app=app, **kwargs)
        return required


class MfaAdapter(DefaultMFAAdapter):
    """Keeps TOTP secrets encrypted under the application key ring, not in clear text."""

    def encrypt(self, text: str) -> str:
        return crypto.encrypt(text, aad=_TOTP_AAD)

    def decrypt(self, encrypted_text: str) -> str:
        return crypto.decrypt(encrypted_text, aad=_TOTP_AAD)

    def can_delete_authenticator(self, authenticator: Authenticator) -> bool:
        """A second factor may go only when another one remains: MFA is mandatory."""
        others = Authenticator.objects.filter(
            user_id=authenticator.user_id, type__in=SECOND_FACTORS
        ).exclude(pk=authenticator.pk)
        return others.exists()
