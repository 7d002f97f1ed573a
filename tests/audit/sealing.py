"""Build a valid chain from unsealed events, for the tests of the pure chain functions; and
seal events in the database, for tests that need their places in the chain."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from samverkan.audit.chain import GENESIS_HASH, EventRecord, compute_hash
from samverkan.audit.models import AuditEvent
from samverkan.audit.sealing import audit_seal


def seal(events: Iterable[EventRecord], key: bytes) -> list[EventRecord]:
    """Number and chain the events from the genesis, as the audit service would."""
    sealed: list[EventRecord] = []
    prev_hash = GENESIS_HASH
    for index, event in enumerate(events, start=1):
        linked = replace(event, seq=index, prev_hash=prev_hash, hash="")
        linked = replace(linked, hash=compute_hash(linked, key))
        sealed.append(linked)
        prev_hash = linked.hash
    return sealed


def sealed(events: Iterable[AuditEvent]) -> list[AuditEvent]:
    """The events as stored once sealed, in chain order. On PostgreSQL writers leave sealing to
    the sealer (D28), which this runs; SQLite has sealed them already."""
    audit_seal()
    return list(AuditEvent.objects.filter(pk__in=[e.pk for e in events]).order_by("seq"))


def seq(event: AuditEvent) -> int:
    """A sealed event's place in the chain."""
    assert event.seq is not None, f"audit event {event.pk} is not sealed"
    return event.seq
