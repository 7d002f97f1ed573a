"""Who is logged in to the guardian portal: a guardian or a young person, never a staff account.

A portal subject is kept in the session as its kind and id only (``portal.session``); every
read and write of the portal is audited with them in the details (the event's actor is empty).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

GUARDIAN = "guardian"
YOUTH = "youth"


@dataclass(frozen=True)
class PortalSubject:
    kind: str  # GUARDIAN or YOUTH
    id: int

    def details(self, **extra: Any) -> dict[str, Any]:
        return {"portal_subject": self.kind, "portal_subject_id": self.id, **extra}

    @property
    def object_type(self) -> str:
        return "cases.guardian" if self.kind == GUARDIAN else "cases.youth"


class LoginRefusedError(Exception):
    """A login step refused, with the reason (for the audit log and tests) and the message."""

    def __init__(self, reason: str, message: str, *, tries_left: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.message = message
        self.tries_left = tries_left
