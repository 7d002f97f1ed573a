from __future__ import annotations

from typing import TYPE_CHECKING

from samverkan.organisations.rules import is_auditor

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from samverkan.accounts.models import User


def can_view_audit_log(user: User | AnonymousUser) -> bool:
    """Only auditors read the log; administrators do not (separation of duties)."""
    return is_auditor(user)
