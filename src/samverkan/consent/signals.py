"""The consent app's answers to what other apps tell it."""

from __future__ import annotations

from typing import Any

from samverkan.accounts.models import User
from samverkan.cases.models import GuardianLink
from samverkan.consent.services import guardian_joins_consents


def custodian_linked(sender: Any, *, actor: User, link: GuardianLink, **kwargs: Any) -> None:
    """A custodian the case's consents were drawn up without must sign them too before they
    cover anything new."""
    guardian_joins_consents(actor=actor, link=link)
