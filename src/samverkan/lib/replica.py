"""The statistics read on the replica; everything else, and every write, on the primary.

``statistics_reads()`` wraps the statistics selectors' queries: inside it the router sends
reads to the ``replica`` alias (``SAMVERKAN_DATABASE_REPLICA_URL``) while the replica is
reachable and at most ``SAMVERKAN_DATABASE_REPLICA_MAX_LAG_SECONDS`` behind; otherwise to the
primary, with a warning in the log. The decision is kept for ``HEALTH_SECONDS``, so a request
does not pay for a probe; a read that fails on the replica moves the next ones to the primary
at once. Writes go to the primary whatever the context (``db_for_write``), so
an object read on the replica and saved again still lands on the primary; a write sent to the
replica explicitly is refused by PostgreSQL itself (a standby is read-only).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, OperationalError, connections

from samverkan.lib.database import REPLICA_ALIAS

logger = logging.getLogger(__name__)

HEALTH_SECONDS = 5.0
# The primary's WAL position, read first: a standby that has replayed up to it holds every
# transaction the primary had committed when asked.
PRIMARY_LSN_SQL = "SELECT pg_current_wal_lsn()::text"
# On the replica: seconds behind, and whether its WAL receiver streams (false: no receiver or
# another status; NULL: a role without pg_read_all_stats cannot see the status). A server that is
# not in recovery is a primary: no lag. A standby that has replayed the primary's position is
# not behind, however old its last commit (an idle primary writes nothing). Otherwise it is
# at most as old as the last commit it replayed. pg_last_wal_receive_lsn() is no measure: it
# stops where the stream broke, so a disconnected standby would look caught up for ever.
LAG_SQL = """
SELECT CASE
        WHEN NOT pg_is_in_recovery() THEN 0
        WHEN pg_last_wal_replay_lsn() >= %s::pg_lsn THEN 0
        ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())
    END,
    CASE
        WHEN NOT pg_is_in_recovery() THEN true
        WHEN NOT EXISTS (SELECT 1 FROM pg_stat_wal_receiver) THEN false
        ELSE (SELECT status = 'streaming' FROM pg_stat_wal_receiver)
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
    if not configured():
        return DEFAULT_DB_ALIAS
    with _lock:
        decided = _decided
    if decided is not None and time.monotonic() < decided.until:
        return decided.alias
    alias = _probe()
    _decide(alias)
    return alias


def _decide(alias: str) -> None:
    global _decided
    with _lock:
        _decided = _Decision(alias, time.monotonic() + HEALTH_SECONDS)


def _probe() -> str:
    limit = settings.DATABASE_REPLICA_MAX_LAG_SECONDS
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(PRIMARY_LSN_SQL)
        primary = cursor.fetchone()
    connection = connections[REPLICA_ALIAS]
    try:
        with connection.cursor() as cursor:
            cursor.execute(LAG_SQL, [None if primary is None else primary[0]])
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
    stopped = "" if row is None or row[1] is not False else " and not streaming"
    if lag is None:
        logger.warning("statistics read on the primary: the replica's lag is unknown%s", stopped)
        return DEFAULT_DB_ALIAS
    if lag > limit:
        logger.warning(
            "statistics read on the primary: the replica is %.1f s behind (limit %d s)%s",
            lag,
            limit,
            stopped,
        )
        return DEFAULT_DB_ALIAS
    return REPLICA_ALIAS


@contextmanager
def statistics_reads() -> Iterator[str]:
    """Within the block, reads go to the replica when it is healthy; yields the alias used.

    A replica that fails within the block (a lost connection, ``statement_timeout``, a query
    cancelled by recovery) fails this read and counts as unhealthy for ``HEALTH_SECONDS``: the
    next statistics read goes to the primary without waiting for a probe."""
    alias = statistics_alias()
    token = _reading.set(alias)
    try:
        yield alias
    except OperationalError as exc:
        if alias == REPLICA_ALIAS:
            _decide(DEFAULT_DB_ALIAS)
            # Broken or not, the next read on the replica starts from a new connection.
            with suppress(DatabaseError):
                connections[REPLICA_ALIAS].close()
            logger.warning(
                "statistics read on the primary: a read on the replica failed (%s)",
                type(exc).__name__,
            )
        raise
    finally:
        _reading.reset(token)
