"""The audit events of the simulated history, collected as it is made and appended at the end.

Events name objects that are not saved yet; they are resolved to ids once a chunk's rows are
written, and appended to the chain in the order of their simulated times by
``audit.services.append_bulk``, which checks, numbers and hashes them exactly as
``audit_record`` does.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import models

from samverkan.audit.services import PreparedEvent, append_bulk
from samverkan.cases.models import Case
from samverkan.consent.models import Consent

EVENT_SOURCE = "web"  # the simulated events stand for what staff did in the web interface


@dataclass
class _Pending:
    at: datetime
    order: int
    action: str
    actor_id: int | None
    agency_id: int | None
    obj: models.Model | None
    object_type: str
    case: Case | None
    legal_basis: str | Consent
    details: dict[str, Any]


class AuditLog:
    """Events recorded with the objects they name; resolved to ids once those are saved."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.pending: list[_Pending] = []
        self.resolved: list[tuple[datetime, int, PreparedEvent]] = []
        self.order = 0

    def add(
        self,
        at: datetime,
        action: str,
        *,
        actor: int | None,
        obj: models.Model | None = None,
        agency: int | None = None,
        case: Case | None = None,
        basis: str | Consent = "",
        details: dict[str, Any] | None = None,
        object_type: str = "",
    ) -> None:
        self.order += 1
        self.pending.append(
            _Pending(
                at=at,
                order=self.order,
                action=action,
                actor_id=actor,
                agency_id=agency,
                obj=obj,
                object_type=object_type or (obj._meta.label_lower if obj is not None else ""),
                case=case,
                legal_basis=basis,
                details=details or {},
            )
        )

    def resolve(self) -> None:
        """The pending events with the ids of the objects they name, now saved."""
        for e in self.pending:
            details = {
                key: (value.pk if isinstance(value, models.Model) else value)
                for key, value in e.details.items()
            }
            basis = e.legal_basis if isinstance(e.legal_basis, str) else e.legal_basis.basis
            event = PreparedEvent(
                occurred_at=e.at,
                action=e.action,
                actor_id=e.actor_id,
                agency_id=e.agency_id,
                object_type=e.object_type,
                object_id=str(e.obj.pk) if e.obj is not None else "",
                case_id=e.case.pk if e.case is not None else None,
                legal_basis=basis,
                request_id=uuid.UUID(int=self.rng.getrandbits(128)).hex,
                source=EVENT_SOURCE,
                details=details,
            )
            self.resolved.append((e.at, e.order, event))
        self.pending.clear()

    def write(self) -> int:
        """Append every event to the chain in time order, after whatever it holds already."""
        self.resolved.sort(key=lambda r: (r[0], r[1]))
        count = append_bulk(event for _at, _order, event in self.resolved)
        self.resolved = []
        return count
