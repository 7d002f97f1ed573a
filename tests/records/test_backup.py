"""``samverkan backup`` and ``samverkan restore``: a round trip gives identical content and a
chain that verifies, on SQLite and on PostgreSQL; the backup holds no key; a restore goes only
into an empty database."""

from __future__ import annotations

import base64
import importlib
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from samverkan.audit.models import AuditEvent
from samverkan.cases.services import entry_add
from tests.consent.conftest import YOUTH_NAME

_SEED = importlib.import_module("samverkan.cases.migrations.0002_default_factors_and_categories")

round_trip = pytest.mark.django_db(transaction=True)
sqlite_only = pytest.mark.skipif(
    "connection.vendor != 'sqlite'", reason="the SQLite round trip (the PostgreSQL one below)"
)
postgresql_only = pytest.mark.skipif(
    "connection.vendor != 'postgresql'",
    reason="pg_dump / pg_restore need PostgreSQL (CI's second pass)",
)


def run_cli(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    """The real command in its own process, with the test run's keys and another database."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["DATABASE_URL"] = database_url
    env["SAMVERKAN_DATA_DIR"] = str(settings.DATA_DIR)  # where the development keys are
    return subprocess.run(  # noqa: S603 - our own CLI, fixed arguments
        [sys.executable, "-m", "samverkan", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.fixture
def seeded(transactional_db: None) -> None:
    """The factors and categories the migrations seed: an earlier transactional test ended by
    emptying every table, them included."""
    _SEED.seed(apps, None)


@pytest.fixture
def content(seeded, personas, world, consent_case, active_consent) -> None:
    """A case with guardians, a signed consent and a journal entry: encrypted columns, keyed
    hashes and a chain of audit events."""
    entry_add(
        actor=personas.practitioner,
        case=consent_case.case,
        agency=world.avesta_school,
        category=consent_case.school_category,
        text="Frånvaro 45 % i oktober.",
    )


def key_material() -> list[bytes]:
    """Every key, in every form it is written in the environment or held in memory."""
    forms: list[bytes] = []
    for key in (settings.AUDIT_KEY, settings.SEARCH_KEY, *settings.ENCRYPTION_KEYS.values()):
        forms += [key, key.hex().encode(), base64.b64encode(key)]
    forms.append(settings.SECRET_KEY.encode())
    return forms


# --- SQLite --------------------------------------------------------------------------------


def _sqlite_dump(path: str) -> dict[str, list[tuple[object, ...]]]:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        names = [
            n
            for (n,) in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        return {
            name: sorted(db.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr)  # noqa: S608
            for name in names
        }
    finally:
        db.close()


@round_trip
@sqlite_only
def test_sqlite_round_trip_is_identical_and_verifies(content, tmp_path):
    backup = tmp_path / "samverkan.backup"
    call_command("backup", str(backup))
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert AuditEvent.objects.filter(action="records.backup_made").exists()

    target = tmp_path / "restored.sqlite3"
    restored = run_cli("restore", str(backup), database_url=f"sqlite:///{target}")
    assert restored.returncode == 0, restored.stderr
    assert "audit chain OK" in restored.stdout

    source = _sqlite_dump(connection.settings_dict["NAME"])
    copy = _sqlite_dump(str(target))
    assert copy.keys() == source.keys()
    for table in source:
        assert copy[table] == source[table], f"{table} differs after the restore"
    assert source["cases_youth"], "the round trip must carry data"

    verified = run_cli("audit", "verify", database_url=f"sqlite:///{target}")
    assert verified.returncode == 0, verified.stderr
    events = AuditEvent.objects.count()
    assert f"audit chain OK: {events} sealed events" in verified.stdout


@round_trip
@sqlite_only
def test_the_backup_holds_ciphertext_and_no_key(content, tmp_path):
    backup = tmp_path / "samverkan.backup"
    call_command("backup", str(backup))
    raw = backup.read_bytes()
    assert b"SQLite format 3" in raw[:16]
    for secret in key_material():
        assert secret not in raw
    # Encrypted columns travel as they are: the name is in the file only as ciphertext.
    assert YOUTH_NAME.encode() not in raw
    assert b"v1:k" in raw or b"v1:" in raw


def test_backup_refuses_an_existing_file(db, tmp_path):
    existing = tmp_path / "samverkan.backup"
    existing.write_bytes(b"an older backup")
    with pytest.raises(CommandError, match="already exists"):
        call_command("backup", str(existing))
    assert existing.read_bytes() == b"an older backup"


def test_restore_refuses_a_missing_file(db, tmp_path):
    with pytest.raises(CommandError, match="no such backup file"):
        call_command("restore", str(tmp_path / "missing.backup"))


def test_restore_refuses_a_database_that_is_not_empty(db, tmp_path):
    backup = tmp_path / "samverkan.backup"
    backup.write_bytes(b"whatever")
    with pytest.raises(CommandError, match="not empty"):
        call_command("restore", str(backup))


@sqlite_only
def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path):
    bogus = tmp_path / "notes.txt"
    bogus.write_text("not a database\n" * 200)
    result = run_cli("restore", str(bogus), database_url=f"sqlite:///{tmp_path / 'new.sqlite3'}")
    assert result.returncode == 1
    assert "is not a" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


# --- PostgreSQL ----------------------------------------------------------------------------


def _pg_url(name: str) -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return (
        f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"
    )


def _pg_dump(url: str) -> dict[str, list[str]]:
    import psycopg

    with psycopg.connect(url) as db:
        names = [
            n
            for (n,) in db.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            )
        ]
        return {
            name: [r[0] for r in db.execute(f'SELECT t::text FROM "{name}" t ORDER BY 1')]  # noqa: S608
            for name in names
        }


@pytest.fixture
def empty_pg_database():
    import psycopg

    name = f"{connection.settings_dict['NAME']}_restore"
    admin = _pg_url("postgres")
    with psycopg.connect(admin, autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}"')
        db.execute(f'CREATE DATABASE "{name}"')
    yield name
    with psycopg.connect(admin, autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@round_trip
@postgresql_only
def test_postgresql_round_trip_is_identical_and_verifies(content, tmp_path, empty_pg_database):
    backup = tmp_path / "samverkan.dump"
    call_command("backup", str(backup))
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert backup.read_bytes().startswith(b"PGDMP")
    # The custom format is compressed: read it back as SQL to look for keys.
    script = subprocess.run(  # noqa: S603
        [shutil.which("pg_restore") or "pg_restore", "--file=-", str(backup)],
        capture_output=True,
        check=True,
    ).stdout
    assert b"COPY public.audit_auditevent" in script
    for secret in key_material():
        assert secret not in script
    assert YOUTH_NAME.encode() not in script

    target = _pg_url(empty_pg_database)
    restored = run_cli("restore", str(backup), database_url=target)
    assert restored.returncode == 0, restored.stderr
    assert "audit chain OK" in restored.stdout

    source = _pg_dump(_pg_url(connection.settings_dict["NAME"]))
    copy = _pg_dump(target)
    assert copy.keys() == source.keys()
    for table in source:
        assert copy[table] == source[table], f"{table} differs after the restore"
    assert source["cases_youth"]

    verified = run_cli("audit", "verify", database_url=target)
    assert verified.returncode == 0, verified.stderr
    import psycopg

    with psycopg.connect(target) as db:
        triggers = db.execute(
            "SELECT count(*) FROM pg_trigger "
            "WHERE tgrelid = 'audit_auditevent'::regclass AND NOT tgisinternal"
        ).fetchone()
    assert triggers is not None
    assert triggers[0] > 0, "the append-only triggers must come along"
    again = run_cli("restore", str(backup), database_url=target)
    assert again.returncode == 1
    assert "not empty" in again.stderr


def test_the_backup_file_names_no_key_in_its_command(monkeypatch, db, tmp_path):
    """pg_dump gets the password in PGPASSWORD, not in its arguments (visible in ps)."""
    from samverkan.records.management.commands import backup as command

    seen: dict[str, Any] = {}

    def fake_run(argv, env, **kwargs):
        seen["argv"], seen["env"] = argv, env
        Path(argv[argv.index("--file") + 1]).write_bytes(b"PGDMP")
        return subprocess.CompletedProcess(argv, 0, "", "")

    monkeypatch.setattr(command.subprocess, "run", fake_run)
    monkeypatch.setitem(connection.settings_dict, "PASSWORD", "s3cret-pw")
    monkeypatch.setitem(connection.settings_dict, "USER", "samverkan_owner")
    command.pg_dump(tmp_path / "x.dump")
    assert all("s3cret-pw" not in str(arg) for arg in seen["argv"])
    assert seen["env"]["PGPASSWORD"] == "s3cret-pw"
    assert "--format=custom" in seen["argv"]
