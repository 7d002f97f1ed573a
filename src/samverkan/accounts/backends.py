"""allauth's authentication backend, reading with the user whether they have a second factor."""

from __future__ import annotations

from typing import Any

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend

from samverkan.accounts.mfa import has_second_factor_expression, remember_second_factor
from samverkan.accounts.models import User


class AuthenticationBackend(AllauthBackend):
    """allauth's backend (allauth picks it for its logins as a subclass of its own), loading
    the signed-in user of each request in one query with the fact ``has_second_factor`` asks
    for, which the second-factor middleware needs on every page."""

    def get_user(self, user_id: Any) -> User | None:
        user = (
            User._default_manager.annotate(has_factor=has_second_factor_expression())
            .filter(pk=user_id)
            .first()
        )
        if user is None or not self.user_can_authenticate(user):
            return None
        remember_second_factor(user, user.has_factor)
        return user
