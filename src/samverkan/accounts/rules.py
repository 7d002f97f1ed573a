"""Permission predicates for accounts. Views, API and templates ask these, nothing else."""

from __future__ import annotations

from typing import TYPE_CHECKING

from samverkan.organisations.rules import is_administrator, is_auditor

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from samverkan.accounts.models import User


def can_view_users(user: User | AnonymousUser) -> bool:
    """Administrators manage accounts; auditors need the directory to read the log."""
    return is_administrator(user) or is_auditor(user)


def can_manage_users(user: User | AnonymousUser) -> bool:
    return is_administrator(user)
