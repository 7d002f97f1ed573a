"""Who may use records management. Other parts of the app (retention, registry extracts) add
their predicates below."""

from __future__ import annotations

from typing import TYPE_CHECKING

from samverkan.organisations.rules import is_auditor

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from samverkan.accounts.models import User


def can_review_log(user: User | AnonymousUser) -> bool:
    """Log review (*loggkontroll*) is the data-protection officer's: auditors only, never
    administrators (separation of duties) and never anyone working cases."""
    return is_auditor(user)


def can_export_subject_data(user: User | AnonymousUser) -> bool:
    """A data-subject export (*registerutdrag*) holds everything about a person, case content
    included; the data-protection officer makes it on the person's request: auditors only."""
    return is_auditor(user)


def can_manage_legal_holds(user: User | AnonymousUser) -> bool:
    """Legal holds (stopping retention for a case) are placed and released by auditors only;
    they see the case's id and pseudonym, never its content."""
    return is_auditor(user)
