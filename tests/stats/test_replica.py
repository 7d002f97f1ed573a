"""The statistics read on a real streaming standby (lib/replica.py), and fall back to the
primary when it lags or cannot be reached.

Needs ``SAMVERKAN_TEST_REPLICA_URL`` pointing at a standby of the test's PostgreSQL primary
(``.ci/standby.sh`` makes one on port 5433); the database name in the URL is ignored: the
test database is replicated like any other. ``SAMVERKAN_REQUIRE_REPLICA=1`` (CI) makes a
missing standby a failure instead of a skip. Transactional tests: the standby sees only what
the primary committed.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import dj_database_url
import psycopg
import pytest
from django.db import DEFAULT_DB_ALIAS, DatabaseError, OperationalError, connection, connections
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from samverkan.audit.models import AuditEvent
from samverkan.lib import replica
from samverkan.lib.database import REPLICA_ALIAS, database_settings
from samverkan.lib.env import Env
from samverkan.organisations.models import Municipality
from samverkan.stats.models import CaseFact
from tests.stats.stats_data import avesta, council_dashboard, make_facts

REPLICA_URL = os.environ.get("SAMVERKAN_TEST_REPLICA_URL", "")
REQUIRE_REPLICA = os.environ.get("SAMVERKAN_REQUIRE_REPLICA") == "1"
# The tables only the statistics read: none of them may be queried on the primary.
STATISTICS_TABLES = ("stats_casefact", "stats_interventionfact", "stats_factsbuild")
WAIT_SECONDS = 30

pytestmark = [
    pytest.mark.postgresql,
    pytest.mark.django_db(transaction=True, databases=["default", REPLICA_ALIAS]),
]


def _unavailable(reason: str) -> NoReturn:
    if REQUIRE_REPLICA:
        pytest.fail(f"SAMVERKAN_REQUIRE_REPLICA=1 but {reason}")
    pytest.skip(reason)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def replica_alias(django_db_setup: None) -> Iterator[dict[str, Any]]:
    """The ``replica`` alias, added before each test's database set-up sees the aliases: the
    primary's test database on the standby's server (or, without one, on a closed port)."""
    if connection.vendor != "postgresql":
        _unavailable("the replica tests need PostgreSQL (DATABASE_URL)")
    if REPLICA_URL:
        parsed = dj_database_url.parse(REPLICA_URL)
        server = {key: parsed[key] for key in ("HOST", "PORT", "USER", "PASSWORD")}
    else:
        server = {"HOST": "127.0.0.1", "PORT": _closed_port()}
    # The connection options SAMVERKAN_DATABASE_REPLICA_URL gets (timeouts) by default.
    url = "postgres://u@h/d"
    built = database_settings(
        Env({"DATABASE_URL": url, "SAMVERKAN_DATABASE_REPLICA_URL": url}), Path()
    )
    connections.settings[REPLICA_ALIAS] = {
        **connection.settings_dict,
        "CONN_MAX_AGE": 0,
        "OPTIONS": built[REPLICA_ALIAS]["OPTIONS"],
        "TEST": {"MIRROR": "default"},
        **server,
    }
    yield server
    connections[REPLICA_ALIAS].close()
    del connections[REPLICA_ALIAS]
    del connections.settings[REPLICA_ALIAS]
    replica.forget()


@pytest.fixture
def standby(replica_alias: dict[str, Any]) -> Iterator[None]:
    """The ``replica`` alias is a streaming standby; replay runs again afterwards."""
    if not REPLICA_URL:
        _unavailable("no standby given (SAMVERKAN_TEST_REPLICA_URL)")
    replica.forget()
    try:
        in_recovery = _on_standby("SELECT pg_is_in_recovery()")
    except DatabaseError as exc:
        _unavailable(f"the standby cannot be reached ({type(exc).__name__})")
    if not in_recovery:
        _unavailable("SAMVERKAN_TEST_REPLICA_URL is not a standby (not in recovery)")
    try:
        yield
    finally:
        _on_standby("SELECT pg_wal_replay_resume()")
        connections[REPLICA_ALIAS].close()
        replica.forget()


@pytest.fixture
def unreachable(replica_alias: dict[str, Any]) -> Iterator[None]:
    """The ``replica`` alias at a port where nothing listens."""
    replica_settings = connections[REPLICA_ALIAS].settings_dict
    connections[REPLICA_ALIAS].close()
    replica_settings.update(HOST="127.0.0.1", PORT=_closed_port())
    replica.forget()
    try:
        yield
    finally:
        connections[REPLICA_ALIAS].close()
        replica_settings.update(replica_alias)
        replica.forget()


def _on_standby(sql: str, params: list[Any] | None = None) -> Any:
    with connections[REPLICA_ALIAS].cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return None if row is None else row[0]


def _run_on_standby(sql: str, params: list[Any] | None = None) -> None:
    with connections[REPLICA_ALIAS].cursor() as cursor:
        cursor.execute(sql, params)


def _streaming() -> bool:
    return bool(_on_standby("SELECT status = 'streaming' FROM pg_stat_wal_receiver"))


@contextmanager
def _not_streaming() -> Iterator[None]:
    """The standby's WAL receiver stopped (no ``primary_conninfo``), as when the network to the
    primary breaks; streaming again afterwards, whatever the test did."""
    conninfo = _on_standby("SHOW primary_conninfo")
    if not conninfo or not _streaming():
        _unavailable("the standby is not streaming from the primary (run .ci/standby.sh)")
    try:
        _run_on_standby("ALTER SYSTEM SET primary_conninfo = ''")
        _run_on_standby("SELECT pg_reload_conf()")
        _wait_until(
            lambda: not _on_standby("SELECT EXISTS (SELECT 1 FROM pg_stat_wal_receiver)"),
            "stopped its WAL receiver",
        )
        yield
    finally:
        _run_on_standby("ALTER SYSTEM SET primary_conninfo = %s", [conninfo])
        _run_on_standby("SELECT pg_reload_conf()")
        _wait_until(_streaming, "streamed again")


def _terminate_on_standby(backend: int) -> None:
    """End one of the standby's connections from another one, and wait until it has ended."""
    server = connections[REPLICA_ALIAS].settings_dict
    with psycopg.connect(
        host=server["HOST"],
        port=server["PORT"],
        user=server["USER"],
        password=server["PASSWORD"] or None,
        dbname="postgres",
    ) as other:
        other.execute("SELECT pg_terminate_backend(%s, 5000)", [backend])


def _primary_lsn() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        row = cursor.fetchone()
    assert row is not None
    return str(row[0])


def _wait_until(standby_has: Callable[[], bool], what: str) -> None:
    """Wait for the standby, failing after WAIT_SECONDS (a bound, not a measured time)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not standby_has():
        if time.monotonic() > deadline:
            pytest.fail(f"the standby has not {what} in {WAIT_SECONDS} s")
        time.sleep(0.05)


def _replayed() -> None:
    lsn = _primary_lsn()
    _wait_until(
        lambda: _on_standby("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [lsn]),
        f"replayed the primary's WAL up to {lsn}",
    )


def _received() -> None:
    lsn = _primary_lsn()
    _wait_until(
        lambda: _on_standby("SELECT pg_last_wal_receive_lsn() >= %s::pg_lsn", [lsn]),
        f"received the primary's WAL up to {lsn}",
    )


def _sql(captured: CaptureQueriesContext) -> str:
    return "\n".join(query["sql"] for query in captured.captured_queries)


def test_committed_rows_reach_the_standby(standby, world) -> None:
    make_facts(avesta(), 7)
    _replayed()
    on_standby = CaseFact.objects.using(REPLICA_ALIAS)
    assert on_standby.filter(municipality__code="2084").count() == 7
    assert Municipality.objects.using(REPLICA_ALIAS).filter(code="2084").exists()


@pytest.mark.parametrize("page", ["stats:dashboard", "stats:export_csv", "stats:export_xlsx"])
def test_dashboard_and_exports_read_the_figures_on_the_replica(
    standby, personas, client_for, page: str
) -> None:
    make_facts(avesta(), 12)
    c = client_for(personas.council_member)
    _replayed()
    events = AuditEvent.objects.count()
    with (
        CaptureQueriesContext(connections[REPLICA_ALIAS]) as on_replica,
        CaptureQueriesContext(connection) as on_primary,
    ):
        response = c.get(reverse(page))
    assert response.status_code == 200
    for table in STATISTICS_TABLES:
        assert table in _sql(on_replica), table
        assert table not in _sql(on_primary), table
    assert '"meetings_meeting"' in _sql(on_replica)
    # Who may see what is read on the primary, and the view is audited there.
    assert '"organisations_membership"' in _sql(on_primary)
    assert not any(
        query["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
        for query in on_replica.captured_queries
    )
    assert AuditEvent.objects.count() == events + 1


def test_a_write_on_the_replica_is_refused_and_the_router_writes_on_the_primary(
    standby, world
) -> None:
    _replayed()
    with pytest.raises(DatabaseError, match="read-only transaction"):
        Municipality.objects.using(REPLICA_ALIAS).filter(code="2084").update(name="Changed")
    with replica.statistics_reads() as alias:
        assert alias == REPLICA_ALIAS
        read_there = Municipality.objects.get(code="2084")
        assert read_there._state.db == REPLICA_ALIAS
        read_there.name = "Avesta kommun"
        with CaptureQueriesContext(connection) as on_primary:
            read_there.save()
    assert "UPDATE" in _sql(on_primary)
    assert Municipality.objects.get(code="2084").name == "Avesta kommun"


def test_a_paused_standby_sends_the_reads_to_the_primary(standby, personas, caplog) -> None:
    make_facts(avesta(), 12)
    _replayed()
    _on_standby("SELECT pg_wal_replay_pause()")
    make_facts(avesta(), 1)  # committed on the primary, received but not replayed
    _received()
    replica.forget()
    with (
        override_settings(DATABASE_REPLICA_MAX_LAG_SECONDS=0),
        caplog.at_level(logging.WARNING, logger="samverkan.lib.replica"),
        CaptureQueriesContext(connections[REPLICA_ALIAS]) as on_replica,
        CaptureQueriesContext(connection) as on_primary,
    ):
        council_dashboard(personas)
    assert "stats_casefact" in _sql(on_primary)
    assert "stats_casefact" not in _sql(on_replica)
    assert "the replica is" in caplog.text
    assert "behind (limit 0 s)" in caplog.text
    # Resumed, it catches up and the figures go back to it.
    _on_standby("SELECT pg_wal_replay_resume()")
    _replayed()
    replica.forget()
    assert replica.statistics_alias() == REPLICA_ALIAS


def test_the_health_decision_is_kept_for_a_few_seconds(standby, world) -> None:
    with CaptureQueriesContext(connections[REPLICA_ALIAS]) as on_replica:
        assert replica.statistics_alias() == REPLICA_ALIAS
        assert replica.statistics_alias() == REPLICA_ALIAS
    probes = [q for q in on_replica.captured_queries if "pg_last_wal_replay_lsn" in q["sql"]]
    assert len(probes) == 1


def test_an_unreachable_replica_sends_the_reads_to_the_primary(
    unreachable, personas, caplog
) -> None:
    make_facts(avesta(), 12)
    with (
        caplog.at_level(logging.WARNING, logger="samverkan.lib.replica"),
        CaptureQueriesContext(connection) as on_primary,
    ):
        data = council_dashboard(personas)
    assert "stats_casefact" in _sql(on_primary)
    assert not data.too_few
    assert "the replica cannot be reached (OperationalError)" in caplog.text
    # No address or account in the log.
    assert "127.0.0.1" not in caplog.text
    assert "postgres" not in caplog.text


def test_a_standby_that_stopped_streaming_sends_the_reads_to_the_primary(
    standby, personas, caplog
) -> None:
    """Received and replayed positions are equal on a standby cut off from its primary (the
    stream stopped there), yet it falls further behind with every commit on the primary."""
    make_facts(avesta(), 12)
    _replayed()
    with _not_streaming():
        make_facts(avesta(), 1)  # committed on the primary, never received
        assert _on_standby("SELECT pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()")
        replica.forget()
        with (
            override_settings(DATABASE_REPLICA_MAX_LAG_SECONDS=0),
            caplog.at_level(logging.WARNING, logger="samverkan.lib.replica"),
            CaptureQueriesContext(connections[REPLICA_ALIAS]) as on_replica,
            CaptureQueriesContext(connection) as on_primary,
        ):
            council_dashboard(personas)
        assert "stats_casefact" in _sql(on_primary)
        assert "stats_casefact" not in _sql(on_replica)
        assert "behind (limit 0 s) and not streaming" in caplog.text
    _replayed()
    replica.forget()
    assert replica.statistics_alias() == REPLICA_ALIAS


def test_statements_on_the_replica_time_out(standby) -> None:
    """SAMVERKAN_DATABASE_REPLICA_STATEMENT_TIMEOUT's default reaches the replica's server."""
    assert _on_standby("SHOW statement_timeout") == "30s"
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone() == ("0",)


def test_a_read_that_fails_on_the_replica_sends_the_next_reads_to_the_primary(
    standby, world, caplog, monkeypatch
) -> None:
    monkeypatch.setattr(replica, "HEALTH_SECONDS", 3600.0)  # no probe in between
    _replayed()
    with replica.statistics_reads() as alias:
        assert alias == REPLICA_ALIAS
        backend = _on_standby("SELECT pg_backend_pid()")
    # The replica fails between two probes: its server ends the connection.
    _terminate_on_standby(backend)
    with (
        caplog.at_level(logging.WARNING, logger="samverkan.lib.replica"),
        pytest.raises(OperationalError),
        replica.statistics_reads(),
    ):
        CaseFact.objects.count()
    assert "a read on the replica failed (OperationalError)" in caplog.text
    with (
        CaptureQueriesContext(connections[REPLICA_ALIAS]) as on_replica,
        replica.statistics_reads() as alias,
    ):
        assert alias == DEFAULT_DB_ALIAS
        assert Municipality.objects.filter(code="2084").exists()
    assert not on_replica.captured_queries
