"""DATABASES from the environment (lib/database.py): pooling, pgbouncer, the read replica."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connection, router
from django.db.backends.postgresql.base import DatabaseWrapper

from samverkan.lib import replica
from samverkan.lib.database import database_settings, replica_max_lag
from samverkan.lib.env import ConfigError, Env
from samverkan.organisations.models import Municipality

PG = "postgres://svk@db.example:5432/samverkan"


def databases(tmp_path: Path, **environ: str) -> dict[str, dict[str, Any]]:
    return database_settings(Env(environ), tmp_path)


def test_sqlite_by_default_in_the_data_folder(tmp_path: Path) -> None:
    db = databases(tmp_path)["default"]
    assert db["ENGINE"] == "django.db.backends.sqlite3"
    assert db["NAME"] == str(tmp_path / "samverkan.sqlite3")
    assert db["CONN_MAX_AGE"] == 0
    assert db["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_postgres_defaults(tmp_path: Path) -> None:
    found = databases(tmp_path, DATABASE_URL=PG)
    assert set(found) == {"default"}
    db = found["default"]
    assert (db["HOST"], db["PORT"], db["NAME"]) == ("db.example", 5432, "samverkan")
    assert db["CONN_MAX_AGE"] == 60
    assert db["CONN_HEALTH_CHECKS"] is True
    assert db["DISABLE_SERVER_SIDE_CURSORS"] is False
    assert "pool" not in db["OPTIONS"]
    assert "prepare_threshold" not in db["OPTIONS"]


def test_pgbouncer_settings(tmp_path: Path) -> None:
    db = databases(
        tmp_path,
        DATABASE_URL=PG,
        SAMVERKAN_DATABASE_CONN_MAX_AGE="0",
        SAMVERKAN_DATABASE_HEALTH_CHECKS="false",
        SAMVERKAN_DATABASE_DISABLE_SERVER_SIDE_CURSORS="true",
    )["default"]
    assert db["CONN_MAX_AGE"] == 0
    assert db["CONN_HEALTH_CHECKS"] is False
    assert db["DISABLE_SERVER_SIDE_CURSORS"] is True


def test_prepared_statements_are_off_unless_asked_for(tmp_path: Path) -> None:
    """Django passes prepare_threshold=None to psycopg unless OPTIONS names one: nothing is
    prepared, which pgbouncer 1.18 (Debian's) needs in transaction mode."""
    off = databases(tmp_path, DATABASE_URL=PG)["default"]
    on = databases(tmp_path, DATABASE_URL=PG, SAMVERKAN_DATABASE_PREPARE_THRESHOLD="5")["default"]
    for db, threshold, cursor in ((off, None, "Cursor"), (on, 5, "ServerBindingCursor")):
        wrapper = DatabaseWrapper({**db, "TIME_ZONE": None})
        params = wrapper.get_connection_params()
        assert params["prepare_threshold"] == threshold
        # psycopg prepares only through a cursor that binds on the server.
        assert params["cursor_factory"].__name__ == cursor


def test_pool(tmp_path: Path) -> None:
    db = databases(
        tmp_path,
        DATABASE_URL=PG,
        SAMVERKAN_DATABASE_POOL="on",
        SAMVERKAN_DATABASE_POOL_MIN_SIZE="2",
        SAMVERKAN_DATABASE_POOL_MAX_SIZE="8",
    )["default"]
    assert db["OPTIONS"]["pool"] == {"min_size": 2, "max_size": 8, "timeout": 10}
    # Django refuses persistent connections with a pool: the pool keeps them.
    assert db["CONN_MAX_AGE"] == 0


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"DATABASE_URL": "mysql://x@h/db"}, "DATABASE_URL must be sqlite:/// or postgres://"),
        ({"DATABASE_URL": "postgres://x@h:port/db"}, "DATABASE_URL is malformed"),
        ({"DATABASE_URL": "postgres://x@h:5432"}, "DATABASE_URL names no database"),
        ({"SAMVERKAN_DATABASE_CONN_MAX_AGE": "-1"}, "CONN_MAX_AGE must be at least 0"),
        ({"SAMVERKAN_DATABASE_CONN_MAX_AGE": "1m"}, "CONN_MAX_AGE must be a whole number"),
        ({"SAMVERKAN_DATABASE_HEALTH_CHECKS": "maybe"}, "HEALTH_CHECKS must be true or false"),
        (
            {"SAMVERKAN_DATABASE_DISABLE_SERVER_SIDE_CURSORS": "2"},
            "DISABLE_SERVER_SIDE_CURSORS must be true or false",
        ),
        ({"SAMVERKAN_DATABASE_PREPARE_THRESHOLD": "off"}, "PREPARE_THRESHOLD must be a whole"),
        (
            {"SAMVERKAN_DATABASE_POOL": "on", "SAMVERKAN_DATABASE_CONN_MAX_AGE": "60"},
            "CONN_MAX_AGE must be 0 with SAMVERKAN_DATABASE_POOL",
        ),
        (
            {"SAMVERKAN_DATABASE_POOL": "on", "SAMVERKAN_DATABASE_POOL_MIN_SIZE": "5"}
            | {"SAMVERKAN_DATABASE_POOL_MAX_SIZE": "2"},
            "POOL_MAX_SIZE (2) is below SAMVERKAN_DATABASE_POOL_MIN_SIZE (5)",
        ),
        ({"SAMVERKAN_DATABASE_POOL_MAX_SIZE": "8"}, "is set but SAMVERKAN_DATABASE_POOL is off"),
        ({"SAMVERKAN_DATABASE_REPLICA_URL": "sqlite:///x"}, "REPLICA_URL must be a postgres://"),
        ({"SAMVERKAN_DATABASE_REPLICA_URL": "redis://h"}, "REPLICA_URL must be sqlite:/// or"),
        (
            {"SAMVERKAN_DATABASE_REPLICA_MAX_LAG_SECONDS": "10"},
            "REPLICA_MAX_LAG_SECONDS is set but SAMVERKAN_DATABASE_REPLICA_URL is not",
        ),
        (
            {"SAMVERKAN_DATABASE_REPLICA_STATEMENT_TIMEOUT": "10"},
            "REPLICA_STATEMENT_TIMEOUT is set but SAMVERKAN_DATABASE_REPLICA_URL is not",
        ),
        (
            {"SAMVERKAN_DATABASE_REPLICA_URL": "postgres://r@h/s"}
            | {"SAMVERKAN_DATABASE_REPLICA_STATEMENT_TIMEOUT": "-1"},
            "REPLICA_STATEMENT_TIMEOUT must be at least 0 and at most 3600",
        ),
    ],
)
def test_bad_values_stop_start_up_naming_the_variable(
    tmp_path: Path, environ: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        databases(tmp_path, **{"DATABASE_URL": PG, **environ})


def test_postgres_settings_are_refused_with_sqlite(tmp_path: Path) -> None:
    for name in (
        "SAMVERKAN_DATABASE_POOL",
        "SAMVERKAN_DATABASE_DISABLE_SERVER_SIDE_CURSORS",
        "SAMVERKAN_DATABASE_REPLICA_URL",
    ):
        with pytest.raises(ConfigError, match=f"{name} is for PostgreSQL only"):
            databases(tmp_path, **{name: "1"})


def test_replica_mirrors_the_primary_in_tests_and_times_out_quickly(tmp_path: Path) -> None:
    found = databases(
        tmp_path,
        DATABASE_URL=PG,
        SAMVERKAN_DATABASE_DISABLE_SERVER_SIDE_CURSORS="1",
        SAMVERKAN_DATABASE_REPLICA_URL="postgres://reader@standby.example:5433/samverkan",
    )
    replica = found["replica"]
    assert (replica["HOST"], replica["PORT"], replica["USER"]) == (
        "standby.example",
        5433,
        "reader",
    )
    assert replica["TEST"] == {"MIRROR": "default"}
    assert replica["OPTIONS"]["connect_timeout"] == 3
    # The same connection settings as the primary (both may sit behind one pgbouncer).
    assert replica["DISABLE_SERVER_SIDE_CURSORS"] is True
    explicit = databases(
        tmp_path,
        DATABASE_URL=PG,
        SAMVERKAN_DATABASE_REPLICA_URL="postgres://r@standby.example/s?connect_timeout=1",
    )
    assert explicit["replica"]["OPTIONS"]["connect_timeout"] == 1


def test_statements_on_the_replica_time_out(tmp_path: Path) -> None:
    url = "postgres://reader@standby.example/s"
    found = databases(tmp_path, DATABASE_URL=PG, SAMVERKAN_DATABASE_REPLICA_URL=url)
    assert found["replica"]["OPTIONS"]["options"] == "-c statement_timeout=30000"
    assert "options" not in found["default"]["OPTIONS"]
    # After the URL's own options, so the setting is the one the server keeps.
    found = databases(
        tmp_path,
        DATABASE_URL=PG,
        SAMVERKAN_DATABASE_REPLICA_URL=f"{url}?options=-c%20work_mem%3D8MB",
        SAMVERKAN_DATABASE_REPLICA_STATEMENT_TIMEOUT="5",
    )
    assert found["replica"]["OPTIONS"]["options"] == "-c work_mem=8MB -c statement_timeout=5000"
    found = databases(
        tmp_path,
        DATABASE_URL=PG,
        SAMVERKAN_DATABASE_REPLICA_URL=url,
        SAMVERKAN_DATABASE_REPLICA_STATEMENT_TIMEOUT="0",
    )
    assert "options" not in found["replica"]["OPTIONS"]


def test_replica_max_lag() -> None:
    assert replica_max_lag(Env({})) == 30
    assert replica_max_lag(Env({"SAMVERKAN_DATABASE_REPLICA_MAX_LAG_SECONDS": "5"})) == 5
    with pytest.raises(ConfigError, match="MAX_LAG_SECONDS must be a whole number"):
        replica_max_lag(Env({"SAMVERKAN_DATABASE_REPLICA_MAX_LAG_SECONDS": "soon"}))


@pytest.mark.postgresql
@pytest.mark.django_db
def test_a_pooled_connection_works() -> None:
    """psycopg[pool] is installed and Django's pool opens, lends and closes connections."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    settings_dict = {
        **connection.settings_dict,
        "CONN_MAX_AGE": 0,
        "OPTIONS": {"pool": {"min_size": 1, "max_size": 2, "timeout": 5}},
    }
    pooled = DatabaseWrapper(settings_dict, alias="pooled")
    try:
        with pooled.cursor() as cursor:
            cursor.execute("SELECT 1")
            assert cursor.fetchone() == (1,)
        assert pooled.pool is not None
        assert pooled.pool.get_stats()["pool_size"] >= 1
    finally:
        pooled.close()
        pooled.close_pool()


@pytest.mark.postgresql
@pytest.mark.django_db
def test_the_prepare_threshold_prepares_statements_on_the_server(tmp_path: Path) -> None:
    """With ``SAMVERKAN_DATABASE_PREPARE_THRESHOLD`` a query run that many times is prepared on
    the server, and its plan kept for the connection (before issue 18 nothing was: the
    default cursor binds on the client)."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    options = databases(tmp_path, DATABASE_URL=PG, SAMVERKAN_DATABASE_PREPARE_THRESHOLD="1")
    settings_dict = {**connection.settings_dict, "OPTIONS": options["default"]["OPTIONS"]}
    prepared = DatabaseWrapper(settings_dict, alias="prepared")
    try:
        with prepared.cursor() as cursor:
            for _ in range(3):
                cursor.execute("SELECT count(*) FROM organisations_municipality WHERE id > %s", [0])
            cursor.execute("SELECT count(*) FROM pg_prepared_statements")
            row = cursor.fetchone()
            assert row is not None
            assert row[0] >= 1
    finally:
        prepared.close()


def test_writes_go_to_the_primary_even_inside_statistics_reads() -> None:
    assert "samverkan.lib.replica.PrimaryWritesRouter" in django_settings.DATABASE_ROUTERS
    read_elsewhere = Municipality(name="Avesta", code="2084")
    read_elsewhere._state.db = "replica"
    with replica.statistics_reads():
        assert router.db_for_write(Municipality, instance=read_elsewhere) == "default"
    assert router.allow_migrate("replica", "organisations") is False


@pytest.mark.django_db
def test_without_a_replica_the_statistics_read_the_primary() -> None:
    assert not replica.configured()
    with replica.statistics_reads() as alias:
        assert alias == "default"
        assert router.db_for_read(Municipality) == "default"
