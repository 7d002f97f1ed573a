"""The hash chain of the audit log, as pure functions.

Each event's hash is HMAC-SHA256, under a key kept outside the database, of a canonical JSON
form of the event that includes its sequence number and the previous event's hash. Anyone who
can write to the database but does not hold the key cannot modify, insert, delete or reorder
events without verification naming the first event where the chain breaks. Truncating the tail
is detected against a checkpoint (sequence and hash) kept outside the database.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64

JsonScalar = str | int | bool | None


@dataclass(frozen=True)
class EventRecord:
    """The hashed content of one audit event, exactly as stored."""

    seq: int
    occurred_at: datetime
    action: str
    outcome: str
    actor_id: int | None = None
    agency_id: int | None = None
    object_type: str = ""
    object_id: str = ""
    case_id: int | None = None
    legal_basis: str = ""
    request_id: str = ""
    source: str = ""
    ip: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    prev_hash: str = GENESIS_HASH
    hash: str = ""


def canonical_bytes(event: EventRecord) -> bytes:
    if event.occurred_at.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    payload = {
        "seq": event.seq,
        "occurred_at": event.occurred_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "action": event.action,
        "outcome": event.outcome,
        "actor_id": event.actor_id,
        "agency_id": event.agency_id,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "case_id": event.case_id,
        "legal_basis": event.legal_basis,
        "request_id": event.request_id,
        "source": event.source,
        "ip": event.ip,
        "details": event.details,
        "prev_hash": event.prev_hash,
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def compute_hash(event: EventRecord, key: bytes) -> str:
    return hmac.new(key, canonical_bytes(event), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    count: int
    head_seq: int
    head_hash: str
    first_bad_seq: int | None = None
    problem: str = ""


def verify_chain(events: Iterable[EventRecord], key: bytes) -> VerifyResult:
    """Check events given in ascending ``seq`` order; stop at the first break.

    The first event must be number 1 and link to the genesis hash; every later one must carry
    the next number, link to its predecessor's stored hash, and carry a hash that the key
    reproduces. ``count`` is the number of events that verified.
    """
    expected_seq = 1
    prev_hash = GENESIS_HASH
    count = 0
    for event in events:
        if event.seq != expected_seq:
            if event.seq > expected_seq:
                problem = f"event {expected_seq} is missing (deleted, or the events renumbered)"
                bad = expected_seq
            else:
                problem = f"event {event.seq} appears out of order after event {expected_seq - 1}"
                bad = event.seq
            return VerifyResult(False, count, expected_seq - 1, prev_hash, bad, problem)
        if not hmac.compare_digest(event.prev_hash, prev_hash):
            return VerifyResult(
                False,
                count,
                expected_seq - 1,
                prev_hash,
                event.seq,
                f"event {event.seq} does not link to event {event.seq - 1} "
                "(an event before it was inserted, deleted or moved)",
            )
        if not hmac.compare_digest(compute_hash(event, key), event.hash):
            return VerifyResult(
                False,
                count,
                expected_seq - 1,
                prev_hash,
                event.seq,
                f"event {event.seq} has been modified (its hash does not match its content)",
            )
        prev_hash = event.hash
        expected_seq += 1
        count += 1
    return VerifyResult(True, count, expected_seq - 1, prev_hash)


def seal(events: Iterable[EventRecord], key: bytes) -> list[EventRecord]:
    """Number and chain unsealed events from the genesis; used by tests and by nothing else."""
    sealed: list[EventRecord] = []
    prev_hash = GENESIS_HASH
    for index, event in enumerate(events, start=1):
        linked = replace(event, seq=index, prev_hash=prev_hash, hash="")
        linked = replace(linked, hash=compute_hash(linked, key))
        sealed.append(linked)
        prev_hash = linked.hash
    return sealed
