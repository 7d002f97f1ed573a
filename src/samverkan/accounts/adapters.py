from __future__ import annotations

from datetime import timedelta
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from samverkan.accounts.mfa import SECOND_FACTORS, has_second_factor
from samverkan.lib import crypto, limits
from samverkan.lib.redact import holds_identity_number

_TOTP_AAD = "allauth.mfa.secret"


_ADDRESS_BUCKET = "login-address"


def _address(request: HttpRequest) -> str:
    # RequestContextMiddleware has already put the client's address (behind trusted proxies,
    # the one they report) in REMOTE_ADDR.
    return request.META.get("REMOTE_ADDR") or "-"


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # Accounts are created only by administrators' invitations.
        return False

    def is_safe_url(self, url: str | None) -> bool:
        # Never redirect to an address that carries an identity number (DESIGN rule 10): the
        # next page's URL would put it in every log on the way.
        if url and holds_identity_number(url):
            return False
        safe: bool = super().is_safe_url(url)
        return safe

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        """Refuse an address that failed on too many distinct accounts in the window.

        Counting accounts rather than attempts keeps an office behind one NAT address working
        while a colleague mistypes (that colleague's account is axes' and allauth's per-account
        business); a client trying passwords over many accounts is stopped.
        """
        if limits.exceeded(_ADDRESS_BUCKET, _address(request), settings.LOGIN_ADDRESS_LIMIT):
            raise self.validation_error("too_many_login_attempts")
        super().pre_authenticate(request, **credentials)

    def authentication_failed(self, request: HttpRequest, **credentials: Any) -> None:
        account = str(credentials.get("username") or credentials.get("email") or "").lower()
        limits.hit_distinct(
            _ADDRESS_BUCKET, _address(request), account.strip(), settings.LOGIN_ADDRESS_LIMIT
        )
        super().authentication_failed(request, **credentials)

    def is_reauthentication_required(self, *, app: str, **kwargs: Any) -> bool:
        """No second password prompt while setting up the first second factor.

        An account without a factor can do nothing but enrol (MfaRequiredMiddleware) and has
        just proved its password at login; asking again protects nothing. The same holds for
        viewing the recovery codes right after that first factor was added (within the
        re-authentication window). Every other sensitive action asks again.
        """
        request = context.request
        user = getattr(request, "user", None)
        if app == "allauth.mfa" and user is not None and user.is_authenticated:
            if not has_second_factor(user):
                return False
            window = timedelta(seconds=settings.ACCOUNT_REAUTHENTICATION_TIMEOUT)
            factors = Authenticator.objects.filter(user_id=user.pk, type__in=SECOND_FACTORS)
            recent = factors.filter(created_at__gte=timezone.now() - window)
            if factors.count() == 1 and recent.exists():
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
