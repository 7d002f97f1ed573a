"""The one call that writes the audit log."""

from __future__ import annotations

import contextvars
import re
import secrets
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from samverkan.audit.chain import EventRecord, compute_hash, ip_commitment
from samverkan.audit.models import AuditEvent, ChainHead, Outcome
from samverkan.audit.sealing import audit_seal
from samverkan.lib import context
from samverkan.lib.bulk import insert_values, refuse_in_production
from samverkan.lib.personnummer import looks_like_identity_number

if TYPE_CHECKING:
    from samverkan.accounts.models import User
    from samverkan.organisations.models import Agency

_ACTION = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


class AuditDetailError(ValueError):
    """Audit details must be small structured facts, never free text with personal data."""


def _check_details(details: Mapping[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for key, value in details.items():
        if not isinstance(key, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", key):
            raise AuditDetailError(f"audit detail key {key!r} is not a plain identifier")
        values = value if isinstance(value, list) else [value]
        for item in values:
            if isinstance(item, float) or not isinstance(item, str | int | bool | type(None)):
                raise AuditDetailError(f"audit detail {key!r} must be text, whole numbers or flags")
            if isinstance(item, str) and looks_like_identity_number(item):
                raise AuditDetailError(f"audit detail {key!r} looks like an identity number")
        clean[key] = value
    return clean


def _check_event(action: str, outcome: str) -> None:
    if not _ACTION.match(action):
        raise ValueError(f"audit action {action!r} must look like 'noun.verb'")
    if outcome not in Outcome.values:
        raise ValueError(f"audit outcome {outcome!r} is not one of {Outcome.values}")


def _seal(record: EventRecord, key: bytes) -> str:
    """The hash of an event numbered and linked already: the one place events are hashed on
    their way into the log (``audit_record_many`` and ``append_bulk`` alike)."""
    return compute_hash(record, key)


# The stored columns of an event, each an EventRecord field of the same name.
_COLUMNS = (
    "seq",
    "occurred_at",
    "actor_id",
    "agency_id",
    "action",
    "object_type",
    "object_id",
    "case_id",
    "legal_basis",
    "outcome",
    "request_id",
    "source",
    "ip",
    "ip_salt",
    "ip_commitment",
    "details",
    "prev_hash",
    "hash",
)


@dataclass(frozen=True)
class Subject:
    """One object an event is about, for ``audit_record_many``."""

    object_type: str
    object_id: str
    case_id: int | None = None
    legal_basis: str = ""  # overrides the call's basis: each entry read can rest on its own


def _subject(
    obj: models.Model | None, object_type: str, object_id: str | int, case_id: int | None
) -> Subject:
    """The one object of ``audit_record`` and ``audit_read``: ``obj``, or the type and id given."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    return Subject(object_type, str(object_id), case_id)


def audit_record(
    *,
    action: str,
    actor: User | None = None,
    agency: Agency | None = None,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    case_id: int | None = None,
    legal_basis: str = "",
    outcome: str = Outcome.ALLOWED,
    details: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain, inside the caller's transaction.

    Call it from within the service's ``transaction.atomic()`` block: the event then commits or
    rolls back together with the action it describes. Locking the chain head row serialises
    concurrent writers (PostgreSQL row lock; SQLite's write lock, taken at BEGIN IMMEDIATE).
    """
    return audit_record_many(
        action=action,
        actor=actor,
        agency=agency,
        subjects=[_subject(obj, object_type, object_id, case_id)],
        legal_basis=legal_basis,
        outcome=outcome,
        details=details,
    )[0]


def _ip_fields(address: str | None) -> tuple[str | None, str, str]:
    """The address as stored, its salt and its commitment (all empty without an address)."""
    if not address:
        return None, "", ""
    # One salt per call is enough: every event of a call carries the same address.
    # Stored as the column normalises it (IPv6 compressed, lower case), so that the commitment
    # computed now matches the address read back.
    ip = AuditEvent._meta.get_field("ip").get_prep_value(address)
    salt = secrets.token_hex(16)
    return ip, salt, ip_commitment(salt, ip)


def audit_record_many(
    *,
    action: str,
    subjects: Sequence[Subject],
    actor: User | None = None,
    agency: Agency | None = None,
    legal_basis: str = "",
    outcome: str = Outcome.ALLOWED,
    details: Mapping[str, Any] | None = None,
) -> list[AuditEvent]:
    """One event per subject (say, each journal entry shown on a page), in order.

    A fixed number of queries however many subjects: the events are inserted together, so a
    page that shows fifty entries costs what a page with one does. On PostgreSQL the events are
    appended unsealed and take no lock (the sealer gives them their place in the chain once they
    have committed, D28); on SQLite, or with ``SAMVERKAN_AUDIT_SEALING=inline``, they are sealed
    here under the chain head's lock.
    """
    records = _records(
        action=action,
        subjects=subjects,
        actor=actor,
        agency=agency,
        legal_basis=legal_basis,
        outcome=outcome,
        details=details,
    )
    return _append(records) if records else []


def _records(
    *,
    action: str,
    subjects: Sequence[Subject],
    actor: User | None,
    agency: Agency | None,
    legal_basis: str,
    outcome: str,
    details: Mapping[str, Any] | None,
) -> list[EventRecord]:
    """The events of one call, checked, with the request's facts, not yet numbered."""
    _check_event(action, outcome)
    if not subjects:
        return []
    ctx = context.current()
    clean_details = _check_details(details or {})
    actor_id = actor.pk if actor is not None and actor.pk is not None else None
    now = timezone.now()
    ip, ip_salt, commitment = _ip_fields(ctx.ip)
    return [
        EventRecord(
            seq=0,
            occurred_at=now,
            action=action,
            outcome=str(outcome),
            actor_id=actor_id,
            agency_id=agency.pk if agency is not None else None,
            object_type=subject.object_type,
            object_id=subject.object_id,
            case_id=subject.case_id,
            legal_basis=subject.legal_basis or legal_basis,
            request_id=ctx.request_id,
            source=ctx.source,
            ip=ip,
            ip_salt=ip_salt,
            ip_commitment=commitment,
            details=clean_details,
        )
        for subject in subjects
    ]


def _append(records: Sequence[EventRecord]) -> list[AuditEvent]:
    """Write events in one INSERT: unsealed on PostgreSQL, sealed under the head's lock where
    writers seal inline (D28)."""
    if not seals_inline():
        events = [AuditEvent(**_stored(r, seq=None, prev_hash="", hash="")) for r in records]
        _insert_unsealed(events)
        return events
    with transaction.atomic():
        # The migration creates the head row; get_or_create only matters for an emptied test
        # database. Were events left without a head, the insert below collides and fails.
        head, _ = ChainHead.objects.select_for_update().get_or_create(pk=1)
        events = []
        seq, prev_hash = head.seq, head.hash
        for record in records:
            seq += 1
            linked = replace(record, seq=seq, prev_hash=prev_hash)
            prev_hash = _seal(linked, settings.AUDIT_KEY)
            events.append(AuditEvent(**_stored(linked, hash=prev_hash)))
        AuditEvent.objects.bulk_create(events)
        head.seq, head.hash = seq, prev_hash
        head.save(update_fields=["seq", "hash"])
    return events


def _insert_unsealed(events: Sequence[AuditEvent]) -> None:
    """One INSERT statement for unsealed events (PostgreSQL), in the caller's transaction or,
    outside one, as a statement of its own: ``bulk_create`` would wrap even one statement in a
    transaction of its own, two more round trips on every page (BEGIN and COMMIT). The events
    get their ids, as ``bulk_create`` gives them."""
    fields = [AuditEvent._meta.get_field(name) for name in _COLUMNS]
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(str(f.column)) for f in fields)  # type: ignore[union-attr]
    params = [
        f.get_db_prep_save(getattr(event, f.attname), connection)  # type: ignore[union-attr]
        for event in events
        for f in fields
    ]
    rows = ", ".join([row] * len(events))
    # Only quoted names and placeholders are formatted in; every value is a parameter.
    statement = f"INSERT INTO {table} ({columns}) VALUES {rows} RETURNING id"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        # In the order of the VALUES, which Django's bulk_create relies on too.
        for event, (key,) in zip(events, cursor.fetchall(), strict=True):
            event.pk = key
            event._state.adding = False
            event._state.db = connection.alias


# The reads of the request being served, waiting to be appended together (``request_reads``).
_reads: contextvars.ContextVar[list[EventRecord] | None] = contextvars.ContextVar(
    "samverkan_audit_reads", default=None
)


@contextmanager
def request_reads() -> Iterator[None]:
    """Collect the events ``audit_read`` records while the block runs and append them together
    when it ends: one INSERT per request, however many reads the page made (issue 18).

    The middleware wraps every request in this, around the rendering of the response, so a
    page's reads are in the log before a byte of it leaves the server; when the append fails,
    the exception leaves the middleware and Django answers 500 instead of the page.
    Events written inside a write's transaction (``audit_record``) never wait here.
    """
    pending: list[EventRecord] = []
    token = _reads.set(pending)
    try:
        yield
    finally:
        # Also when the block raised: a read that was made is recorded whatever came after.
        _reads.reset(token)
        if pending:
            _append(pending)


def audit_read(
    *,
    action: str,
    actor: User | None = None,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    case_id: int | None = None,
    legal_basis: str = "",
    outcome: str = Outcome.ALLOWED,
    details: Mapping[str, Any] | None = None,
) -> None:
    """Record that something was read (or a read refused): like ``audit_record``, but within a
    request the event is appended at the end of it, with the request's other reads, by
    ``request_reads``. Outside a request (commands, jobs, tests calling a selector) it is
    appended at once. Only for reads: a write's event must commit with the write."""
    audit_reads(
        action=action,
        actor=actor,
        subjects=[_subject(obj, object_type, object_id, case_id)],
        legal_basis=legal_basis,
        outcome=outcome,
        details=details,
    )


def audit_reads(
    *,
    action: str,
    subjects: Sequence[Subject],
    actor: User | None = None,
    legal_basis: str = "",
    outcome: str = Outcome.ALLOWED,
    details: Mapping[str, Any] | None = None,
) -> None:
    """``audit_read`` for several subjects at once (``audit_record_many`` for reads)."""
    records = _records(
        action=action,
        subjects=subjects,
        actor=actor,
        agency=None,
        legal_basis=legal_basis,
        outcome=outcome,
        details=details,
    )
    pending = _reads.get()
    if pending is not None:
        pending.extend(records)
    elif records:
        _append(records)


def seals_inline() -> bool:
    """Whether a writer seals its own events: always on SQLite, which has one writer at a
    time anyway; on PostgreSQL only when ``SAMVERKAN_AUDIT_SEALING=inline``."""
    return connection.vendor != "postgresql" or settings.AUDIT_SEALING == "inline"


def _stored(record: EventRecord, **overrides: Any) -> dict[str, Any]:
    """The stored columns of a record, as model field values."""
    values = {name: getattr(record, name) for name in _COLUMNS}
    values.update(overrides)
    return values


class PreparedEvent(NamedTuple):
    """One event for ``append_bulk``: what happened and when, not yet numbered or chained."""

    occurred_at: datetime
    action: str
    actor_id: int | None = None
    agency_id: int | None = None
    object_type: str = ""
    object_id: str = ""
    case_id: int | None = None
    legal_basis: str = ""
    outcome: str = Outcome.ALLOWED
    request_id: str = ""
    source: str = ""
    details: Mapping[str, Any] = MappingProxyType({})


def append_bulk(events: Iterable[PreparedEvent]) -> int:
    """Append many events at once, in the order given and at the times they carry, in one
    transaction; returns how many. For history made elsewhere than in a request (the synthetic
    data set): each event is checked as ``audit_record`` checks it and numbered, linked and
    hashed by the same ``_seal``, after whatever the chain holds. No IP address is recorded.
    Refused in production: history is never written there after the fact.
    """
    refuse_in_production()
    key: bytes = settings.AUDIT_KEY
    with transaction.atomic():
        # What was written before goes first: seal it, then append after it (D28).
        audit_seal()
        head, _ = ChainHead.objects.select_for_update().get_or_create(pk=1)
        tail: list[Any] = [head.seq, head.hash]

        def rows() -> Iterator[tuple[Any, ...]]:
            seq, prev_hash = tail
            for e in events:
                _check_event(e.action, e.outcome)
                seq += 1
                details = _check_details(e.details)
                record = EventRecord(
                    seq=seq,
                    occurred_at=e.occurred_at,
                    action=e.action,
                    outcome=str(e.outcome),
                    actor_id=e.actor_id,
                    agency_id=e.agency_id,
                    object_type=e.object_type,
                    object_id=e.object_id,
                    case_id=e.case_id,
                    legal_basis=e.legal_basis,
                    request_id=e.request_id,
                    source=e.source,
                    details=details,
                    prev_hash=prev_hash,
                )
                linked, prev_hash = prev_hash, _seal(record, key)
                tail[:] = [seq, prev_hash]
                # In the order of _COLUMNS; no IP address, so its three columns are empty.
                yield (
                    *(seq, e.occurred_at, e.actor_id, e.agency_id, e.action, e.object_type),
                    *(e.object_id, e.case_id, e.legal_basis, record.outcome, e.request_id),
                    *(e.source, None, "", "", details, linked, prev_hash),
                )

        count = insert_values(AuditEvent, _COLUMNS, rows())
        if count:
            head.seq, head.hash = tail
            head.save(update_fields=["seq", "hash"])
    return count
