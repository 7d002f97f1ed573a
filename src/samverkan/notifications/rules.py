"""Who has a notifications page. Everyone sees only their own notifications (selectors.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from samverkan.organisations.rules import roles_of

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from samverkan.accounts.models import User


def can_view_notifications(user: User | AnonymousUser) -> bool:
    """Staff with a role somewhere, like every other staff page; an account without one has no
    page (404), and an anonymous visitor is sent to the login page first."""
    return bool(roles_of(user))
