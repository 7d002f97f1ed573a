"""The statistics read on the replica; everything else, and every write, on the primary.

``statistics_reads()`` wraps the statistics selectors' queries: inside it the router sends
reads to the ``replica`` alias (``SAMVERKAN_DATABASE_REPLICA_URL``) while the replica is
reachable and at most ``SAMVERKAN_DATABASE_REPLICA_MAX_LAG_SECONDS`` behind; otherwise to the
primary, with a warning in the log. The decision is kept for ``HEALTH_SECONDS``, so a request
does not pay for a probe. Writes go to the primary whatever the context (``db_for_write``), so
an object read on the replica and saved again still lands on the primary; a write sent to the
replica explicitly is refused by PostgreSQL itself (a standby is read-only).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

from samverkan.lib.database import REPLICA_ALIAS

logger = logging.getLogger(__name__)

HEALTH_SECONDS = 5.0
# Seconds the standby is behind: 0 when it has replayed all the WAL it received (an idle
# primary writes nothing, so the last replayed commit can be old without any lag), NULL when
# unknown (nothing replayed yet). A server that is not in recovery is a primary: no lag.
LAG_SQL = """
SELECT CASE
    WHEN NOT pg_is_in_recovery() THEN 0
    WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
    ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())
END
"""

_reading: ContextVar[str] = ContextVar("samverkan_read_alias", default=DEFAULT_DB_ALIAS)


class PrimaryWritesRouter:
    """Reads where ``statistics_reads`` says (the primary outside it); writes on the primary."""

    def db_for_read(self, model: type[Any], **hints: Any) -> str:
        return _reading.get()

    def db_for_write(self, model: type[Any], **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        # The replica holds the primary's rows: an object read there may point at one read here.
        if {obj1._state.db, obj2._state.db} <= {DEFAULT_DB_ALIAS, REPLICA_ALIAS}:
            return True
        return None

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        return False if db == REPLICA_ALIAS else None


@dataclass(frozen=True)
class _Decision:
    alias: str
    until: float


_lock = threading.Lock()
_decided: _Decision | None = None


def forget() -> None:
    """Probe again at the next read (tests; a changed configuration)."""
    global _decided
    with _lock:
        _decided = None


def configured() -> bool:
    return REPLICA_ALIAS in connections.settings


def statistics_alias() -> str:
    """``replica`` when configured, reachable and caught up; else ``default``."""
    global _decided
    if not configured():
        return DEFAULT_DB_ALIAS
    with _lock:
        decided = _decided
    if decided is not None and time.monotonic() < decided.until:
        return decided.alias
    alias = _probe()
    with _lock:
        _decided = _Decision(alias, time.monotonic() + HEALTH_SECONDS)
    return alias


def _probe() -> str:
    limit = settings.DATABASE_REPLICA_MAX_LAG_SECONDS
    connection = connections[REPLICA_ALIAS]
    try:
        with connection.cursor() as cursor:
            cursor.execute(LAG_SQL)
            row = cursor.fetchone()
    except DatabaseError as exc:
        connection.close()
        # The exception's class only: its text names hosts and accounts.
        logger.warning(
            "statistics read on the primary: the replica cannot be reached (%s)",
            type(exc).__name__,
        )
        return DEFAULT_DB_ALIAS
    lag = None if row is None or row[0] is None else float(row[0])
    if lag is None:
        logger.warning("statistics read on the primary: the replica's lag is unknown")
        return DEFAULT_DB_ALIAS
    if lag > limit:
        logger.warning(
            "statistics read on the primary: the replica is %.1f s behind (limit %d s)",
            lag,
            limit,
        )
        return DEFAULT_DB_ALIAS
    return REPLICA_ALIAS


@contextmanager
def statistics_reads() -> Iterator[str]:
    """Within the block, reads go to the replica when it is healthy; yields the alias used."""
    token = _reading.set(statistics_alias())
    try:
        yield _reading.get()
    finally:
        _reading.reset(token)
