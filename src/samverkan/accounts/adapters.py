from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from django.http import HttpRequest

from samverkan.accounts.mfa import SECOND_FACTORS
from samverkan.lib import crypto

_TOTP_AAD = "allauth.mfa.secret"


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # Accounts are created only by administrators' invitations.
        return False


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
