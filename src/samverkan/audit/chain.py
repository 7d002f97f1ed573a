"""The hash chain of the audit log, as pure functions.

Each event's hash is HMAC-SHA256, under a key kept outside the database, of a canonical JSON
form of the event that includes its sequence number and the previous event's hash. Anyone who
can write to the database but does not hold the key cannot modify, insert, delete or reorder
events without verification naming the first event where the chain breaks. Truncating the tail
is detected against a checkpoint (sequence and hash) kept outside the database.

The log ends (DESIGN rule 19): old events are pruned up to a signed *anchor*, and the chain then
starts at the anchor instead of the genesis. An IP address is hashed through a salted
commitment and its truncated network, so that truncating the address later (and dropping the
salt) leaves the event's hash intact; see docs/decisions.md D24.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
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
    ip_salt: str = ""
    ip_commitment: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    prev_hash: str = GENESIS_HASH
    hash: str = ""


# The shortest period the log is kept (HSLF-FS 2016:40 4 kap. 9 §; SAMVERKAN_RETENTION_AUDIT_YEARS
# may be longer, never shorter): nothing younger can have been pruned, whatever was configured.
MIN_RETENTION_YEARS = 5


def years_before(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year - years, day=28)


# Every stored field of an event, in EventRecord's order: what a read must fetch to verify it.
RECORD_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(EventRecord))


def truncate_ip(ip: str) -> str:
    """The address's network base: IPv4 to /24, IPv6 to /48 (what is kept after the period)."""
    address = ipaddress.ip_address(ip)
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False).network_address)


def ip_commitment(salt: str, ip: str) -> str:
    # Salted, not keyed: once truncation drops the salt, not even the holder of the audit key
    # can test guesses of the full address against the commitment.
    return hashlib.sha256(f"samverkan-audit-ip\x00{salt}\x00{ip}".encode()).hexdigest()


def _hashed_ip(event: EventRecord) -> str | None:
    # Events written before commitments existed hashed the full address; they keep that form.
    if event.ip is None or not event.ip_commitment:
        return event.ip
    return truncate_ip(event.ip)


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
        "ip": _hashed_ip(event),
        "details": event.details,
        "prev_hash": event.prev_hash,
    }
    if event.ip_commitment:
        payload["ip_commitment"] = event.ip_commitment
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
    note: str = ""  # something verification could not check, though nothing is wrong
    unsealed: int = 0  # events written but not yet given a place in the chain (not a failure)


def _ip_problem(event: EventRecord, ip_truncated_through: int) -> str:
    """Why the event's stored IP address disagrees with its commitment, or ``""``."""
    if not event.ip_commitment:
        return ""
    if event.ip_salt:
        if event.ip is not None and hmac.compare_digest(
            ip_commitment(event.ip_salt, event.ip), event.ip_commitment
        ):
            return ""
        return f"event {event.seq} has been modified (its IP address does not match its commitment)"
    # Without its salt the address must be truncated, and only a signed anchor truncates.
    if event.seq > ip_truncated_through:
        return (
            f"event {event.seq} has been modified (its IP address was truncated, but no signed "
            "anchor covers it)"
        )
    if event.ip is None or event.ip != truncate_ip(event.ip):
        return f"event {event.seq} has been modified (its truncated IP address was changed)"
    return ""


def verify_chain(
    events: Iterable[EventRecord],
    key: bytes,
    *,
    start_seq: int = 0,
    start_hash: str = GENESIS_HASH,
    ip_truncated_through: int = 0,
) -> VerifyResult:
    """Check events given in ascending ``seq`` order; stop at the first break.

    The first event must be number ``start_seq + 1`` (1, unless older events were pruned up to
    an anchor) and link to ``start_hash`` (the genesis hash, or the anchor's); every later one
    must carry the next number, link to its predecessor's stored hash, and carry a hash that the
    key reproduces. An IP address must match its commitment, or be truncated at or below
    ``ip_truncated_through``. ``count`` is the number of events that verified.
    """
    expected_seq = start_seq + 1
    prev_hash = start_hash
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
        ip_problem = _ip_problem(event, ip_truncated_through)
        if ip_problem:
            return VerifyResult(False, count, expected_seq - 1, prev_hash, event.seq, ip_problem)
        prev_hash = event.hash
        expected_seq += 1
        count += 1
    return VerifyResult(True, count, expected_seq - 1, prev_hash)


def anchor_signature(
    key: bytes,
    *,
    pruned_through: int,
    pruned_hash: str,
    pruned_time: datetime | None,
    ip_truncated_through: int,
    created_at: datetime,
) -> str:
    """HMAC over what a pruning anchor asserts; without the key no one can forge or move one."""

    def when(moment: datetime | None) -> str | None:
        if moment is None:
            return None
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    payload = {
        "kind": "samverkan.audit.anchor.v1",
        "pruned_through": pruned_through,
        "pruned_hash": pruned_hash,
        "pruned_time": when(pruned_time),
        "ip_truncated_through": ip_truncated_through,
        "created_at": when(created_at),
    }
    message = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()
