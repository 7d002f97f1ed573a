"""How views refuse: 404 for what the user may not see, 403 for what they see but may not change."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from allauth.core.exceptions import ImmediateHttpResponse
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest

from samverkan.lib.redact import safe_return_path

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from samverkan.accounts.models import User

Rule = Callable[[Any], bool]


def acting_user(request: HttpRequest) -> User:
    """The signed-in user; an anonymous visitor is sent to the login page instead."""
    user = request.user
    if not user.is_authenticated:
        # Back to the page without its query and never to a number typed into the path: the
        # login page's URL and form would repeat it (lib/redact.py).
        raise ImmediateHttpResponse(redirect_to_login(safe_return_path(request.path)))
    return user


def require_visible(rule: Rule, user: User | AnonymousUser) -> None:
    """Answer exactly as for a missing page, so the page's existence is not revealed."""
    if not rule(user):
        raise Http404


def require_allowed(rule: Rule, user: User | AnonymousUser) -> None:
    if not rule(user):
        raise PermissionDenied
