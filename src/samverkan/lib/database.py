"""``DATABASES`` from the environment: the primary, an optional read replica, and the
PostgreSQL settings operators need behind a pooler (docs/operations.md §14).

Every value is parsed strictly (``lib/env.py``): a malformed or contradictory setting stops
start-up with one line naming the variable. PostgreSQL-only settings given with SQLite are an
error too, never silently ignored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dj_database_url

from samverkan.lib.env import ConfigError, Env

POSTGRES_SCHEMES = frozenset({"postgres", "postgresql", "pgsql"})
REPLICA_ALIAS = "replica"
# Seconds a connection to the replica may take before the statistics fall back to the primary
# (unless the replica URL names its own ``connect_timeout``).
REPLICA_CONNECT_TIMEOUT = 3
# Seconds a statement may run on the replica (SAMVERKAN_DATABASE_REPLICA_STATEMENT_TIMEOUT):
# a replica that hangs fails the read instead of holding the request.
REPLICA_STATEMENT_TIMEOUT = 30
_POSTGRES_ONLY = (
    "SAMVERKAN_DATABASE_DISABLE_SERVER_SIDE_CURSORS",
    "SAMVERKAN_DATABASE_PREPARE_THRESHOLD",
    "SAMVERKAN_DATABASE_POOL",
    "SAMVERKAN_DATABASE_POOL_MIN_SIZE",
    "SAMVERKAN_DATABASE_POOL_MAX_SIZE",
    "SAMVERKAN_DATABASE_POOL_TIMEOUT",
    "SAMVERKAN_DATABASE_REPLICA_URL",
    "SAMVERKAN_DATABASE_REPLICA_MAX_LAG_SECONDS",
    "SAMVERKAN_DATABASE_REPLICA_STATEMENT_TIMEOUT",
)
# Meaningful only with SAMVERKAN_DATABASE_REPLICA_URL.
_REPLICA_ONLY = (
    "SAMVERKAN_DATABASE_REPLICA_MAX_LAG_SECONDS",
    "SAMVERKAN_DATABASE_REPLICA_STATEMENT_TIMEOUT",
)
_POOL_SIZES = (
    "SAMVERKAN_DATABASE_POOL_MIN_SIZE",
    "SAMVERKAN_DATABASE_POOL_MAX_SIZE",
    "SAMVERKAN_DATABASE_POOL_TIMEOUT",
)


def _parse_url(name: str, url: str) -> dict[str, Any]:
    scheme = url.split(":", 1)[0]
    if scheme != "sqlite" and scheme not in POSTGRES_SCHEMES:
        raise ConfigError(f"{name} must be sqlite:/// or postgres://; got scheme {scheme!r}")
    try:
        parsed: dict[str, Any] = dict(dj_database_url.parse(url))
    except ValueError as exc:
        raise ConfigError(f"{name} is malformed: {exc}") from None
    if scheme in POSTGRES_SCHEMES and not parsed.get("NAME"):
        raise ConfigError(f"{name} names no database (postgres://user@host:port/NAME)")
    return parsed


def _sqlite(db: dict[str, Any], env: Env) -> dict[str, Any]:
    for name in _POSTGRES_ONLY:
        if env.raw(name) is not None:
            raise ConfigError(f"{name} is for PostgreSQL only; DATABASE_URL is SQLite")
    if db["NAME"] != ":memory:":
        Path(db["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    db["CONN_MAX_AGE"] = env.get_int("SAMVERKAN_DATABASE_CONN_MAX_AGE", 0, maximum=86400)
    db["CONN_HEALTH_CHECKS"] = env.get_bool("SAMVERKAN_DATABASE_HEALTH_CHECKS", False)
    # IMMEDIATE: a write transaction takes the database lock when it begins, so two writers
    # of the audit chain queue up instead of failing half-way with "database is locked".
    db["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    return db


def _pool(env: Env) -> dict[str, int] | None:
    """psycopg's connection pool (Django's ``OPTIONS["pool"]``), one per process and alias."""
    if not env.get_bool("SAMVERKAN_DATABASE_POOL", False):
        for name in _POOL_SIZES:
            if env.raw(name) is not None:
                raise ConfigError(f"{name} is set but SAMVERKAN_DATABASE_POOL is off")
        return None
    smallest = env.get_int("SAMVERKAN_DATABASE_POOL_MIN_SIZE", 1, minimum=0, maximum=100)
    largest = env.get_int("SAMVERKAN_DATABASE_POOL_MAX_SIZE", max(4, smallest), minimum=1)
    if largest < smallest:
        raise ConfigError(
            f"SAMVERKAN_DATABASE_POOL_MAX_SIZE ({largest}) is below "
            f"SAMVERKAN_DATABASE_POOL_MIN_SIZE ({smallest})"
        )
    timeout = env.get_int("SAMVERKAN_DATABASE_POOL_TIMEOUT", 10, minimum=1, maximum=600)
    return {"min_size": smallest, "max_size": largest, "timeout": timeout}


def _postgres(db: dict[str, Any], env: Env) -> dict[str, Any]:
    pool = _pool(env)
    max_age = env.get_int("SAMVERKAN_DATABASE_CONN_MAX_AGE", 0 if pool else 60, maximum=86400)
    if pool and max_age:
        raise ConfigError(
            "SAMVERKAN_DATABASE_CONN_MAX_AGE must be 0 with SAMVERKAN_DATABASE_POOL: "
            "the pool keeps the connections"
        )
    db["CONN_MAX_AGE"] = max_age
    db["CONN_HEALTH_CHECKS"] = env.get_bool("SAMVERKAN_DATABASE_HEALTH_CHECKS", True)
    # Behind pgbouncer in transaction mode a cursor held across transactions (``.iterator()``)
    # may land on another server connection: InvalidCursorName.
    db["DISABLE_SERVER_SIDE_CURSORS"] = env.get_bool(
        "SAMVERKAN_DATABASE_DISABLE_SERVER_SIDE_CURSORS", False
    )
    options: dict[str, Any] = dict(db.get("OPTIONS") or {})
    # Django's default (None) prepares nothing, which every pooler accepts; a number turns
    # psycopg's prepared statements on, for a direct connection only (pgbouncer < 1.21 and any
    # pgbouncer without max_prepared_statements loses them between transactions). Prepared
    # statements need server-side binding: Django's default cursor binds on the client and
    # psycopg never prepares through it, so the number alone would change nothing (issue 18).
    if env.raw("SAMVERKAN_DATABASE_PREPARE_THRESHOLD") is not None:
        options["prepare_threshold"] = env.get_int(
            "SAMVERKAN_DATABASE_PREPARE_THRESHOLD", 5, minimum=0, maximum=1000
        )
        options["server_side_binding"] = True
    if pool:
        options["pool"] = pool
    db["OPTIONS"] = options
    return db


def database_settings(env: Env, data_dir: Path) -> dict[str, dict[str, Any]]:
    """``DATABASES``: ``default`` from ``DATABASE_URL`` (SQLite in the data folder when unset)
    and, with ``SAMVERKAN_DATABASE_REPLICA_URL``, a read-only ``replica`` for the statistics
    (``lib/replica.py``). The replica takes the same connection settings as the primary."""
    url = env.get_str("DATABASE_URL", f"sqlite:///{data_dir / 'samverkan.sqlite3'}")
    default = _parse_url("DATABASE_URL", url)
    if default["ENGINE"] == "django.db.backends.sqlite3":
        return {"default": _sqlite(default, env)}
    databases = {"default": _postgres(default, env)}
    replica_url = env.get_str("SAMVERKAN_DATABASE_REPLICA_URL", "")
    if not replica_url:
        for name in _REPLICA_ONLY:
            if env.raw(name) is not None:
                raise ConfigError(f"{name} is set but SAMVERKAN_DATABASE_REPLICA_URL is not")
        return databases
    replica = _parse_url("SAMVERKAN_DATABASE_REPLICA_URL", replica_url)
    if replica["ENGINE"] == "django.db.backends.sqlite3":
        raise ConfigError("SAMVERKAN_DATABASE_REPLICA_URL must be a postgres:// address")
    replica = _postgres(replica, env)
    replica["OPTIONS"].setdefault("connect_timeout", REPLICA_CONNECT_TIMEOUT)
    timeout = env.get_int(
        "SAMVERKAN_DATABASE_REPLICA_STATEMENT_TIMEOUT", REPLICA_STATEMENT_TIMEOUT, maximum=3600
    )
    if timeout:
        # libpq's startup options; after any ``?options=`` of the URL, so this one counts.
        given = replica["OPTIONS"].get("options", "")
        setting = f"-c statement_timeout={timeout * 1000}"
        replica["OPTIONS"]["options"] = f"{given} {setting}".strip()
    # The test suite never creates a database there: a replica mirrors the primary.
    replica["TEST"] = {"MIRROR": "default"}
    databases[REPLICA_ALIAS] = replica
    return databases


def replica_max_lag(env: Env) -> int:
    """Seconds the replica may be behind before the statistics are read on the primary."""
    return env.get_int("SAMVERKAN_DATABASE_REPLICA_MAX_LAG_SECONDS", 30, maximum=86400)
