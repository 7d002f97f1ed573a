"""The sealer: gives committed, unsealed audit events their place in the chain (D28).

Writers append events with no sequence number, no link and no hash, and take no lock. The
sealer takes the chain head row's lock (it is the only one that does, besides pruning and the
bulk loader), reads the oldest unsealed events that have committed, numbers them after the
head in the order they were written, links and hashes each, and stores all three in one
statement, in one transaction with the new head. Two sealers therefore queue on the head and
cannot give out a number twice; a sealer killed mid-batch rolls back, and the next run seals
the same events again from the same head. An event still in an uncommitted transaction is not
seen and is sealed by a later run: the chain's order is the order in which events became
visible to the sealer, then the order of writing.

The database triggers allow exactly this one update on an unsealed event and nothing else.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from samverkan.audit.chain import RECORD_FIELDS, EventRecord, compute_hash
from samverkan.audit.models import AuditEvent, ChainHead
from samverkan.lib.redact import exception_summary

logger = logging.getLogger("samverkan.audit")

BATCH = 5000

# What the sealer reads of an event: its id, then its content without place and link.
_CONTENT = ("id", *RECORD_FIELDS[1:-2])

_UPDATE = """
UPDATE audit_auditevent AS e
   SET seq = v.seq, prev_hash = v.prev_hash, hash = v.hash
  FROM unnest(%s::bigint[], %s::bigint[], %s::varchar[], %s::varchar[])
       AS v(id, seq, prev_hash, hash)
 WHERE e.id = v.id AND e.seq IS NULL
"""


class SealConflictError(RuntimeError):
    """An event the sealer read could not be sealed: the table is not as the sealer saw it."""


def seal_batch(*, limit: int = BATCH) -> int:
    """Seal up to ``limit`` committed events after the head, in one transaction: the count."""
    key: bytes = settings.AUDIT_KEY
    # A plain read first: an idle sealer takes no lock (on SQLite every transaction would take
    # the database's write lock, twice a second).
    if not AuditEvent.objects.filter(seq__isnull=True).exists():
        return 0
    with transaction.atomic():
        head, _ = ChainHead.objects.select_for_update().get_or_create(pk=1)
        rows = list(
            AuditEvent.objects.filter(seq__isnull=True)
            .order_by("id")
            .values_list(*_CONTENT)[:limit]
        )
        if not rows:
            return 0
        ids, seqs, links, hashes = [], [], [], []
        seq, prev_hash = head.seq, head.hash
        for event_id, *content in rows:
            seq += 1
            record = EventRecord(
                **dict(zip(_CONTENT[1:], content, strict=True)), seq=seq, prev_hash=prev_hash
            )
            ids.append(event_id)
            seqs.append(seq)
            links.append(prev_hash)
            prev_hash = compute_hash(record, key)
            hashes.append(prev_hash)
        if connection.vendor != "postgresql":
            # SQLite seals every event as it is written, and its triggers refuse a later seal.
            raise SealConflictError(f"{len(ids)} unsealed events in a SQLite database")
        with connection.cursor() as cursor:
            cursor.execute(_UPDATE, [ids, seqs, links, hashes])
            updated = cursor.rowcount
        if updated != len(ids):
            raise SealConflictError(f"sealed {updated} of {len(ids)} events; nothing was sealed")
        head.seq, head.hash = seq, prev_hash
        head.save(update_fields=["seq", "hash"])
    return len(ids)


def audit_seal(*, limit: int | None = None, batch: int = BATCH) -> int:
    """Seal every committed event there is (or ``limit`` of them), batch by batch: the count.

    Each batch commits on its own, so a long backlog is sealed in steps that a crash cannot
    undo, and writers are never held back (they do not wait for the head).
    """
    sealed = 0
    while limit is None or sealed < limit:
        step = batch if limit is None else min(batch, limit - sealed)
        count = seal_batch(limit=step)
        sealed += count
        if count < step:
            break
    return sealed


@dataclass(frozen=True)
class SealStatus:
    head_seq: int
    head_hash: str
    unsealed: int
    oldest_unsealed: datetime | None

    @property
    def lag(self) -> timedelta:
        """How long the oldest unsealed event has waited (zero when none waits)."""
        if self.oldest_unsealed is None:
            return timedelta(0)
        return max(timedelta(0), timezone.now() - self.oldest_unsealed)


def seal_status() -> SealStatus:
    head = ChainHead.objects.filter(pk=1).first() or ChainHead(pk=1)
    pending = AuditEvent.objects.filter(seq__isnull=True)
    oldest = pending.order_by("id").values_list("occurred_at", flat=True).first()
    return SealStatus(head.seq, head.hash, pending.count(), oldest)


def seal_forever(
    *, interval: float, should_stop: Callable[[], bool], wait: Callable[[float], object]
) -> None:
    """Seal until ``should_stop()``; between empty rounds, ``wait(interval)``.

    A database error is logged and tried again after a pause: a restart or a fail-over must
    not end the sealing, since every minute without it is a minute of unsealed events.
    """
    from django.db import DatabaseError, close_old_connections

    while not should_stop():
        started = time.monotonic()
        try:
            sealed = audit_seal()
        except DatabaseError as exc:
            logger.error("audit sealer: database error: %s", exception_summary(exc))
            close_old_connections()
            wait(max(interval, 5.0))
            continue
        if sealed:
            logger.debug(
                "audit sealer: sealed %d events in %.3fs", sealed, time.monotonic() - started
            )
        else:
            wait(interval)
