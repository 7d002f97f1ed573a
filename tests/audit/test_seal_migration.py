"""An existing chain crosses migration 0004 (append, then seal) without being rewritten.

A fresh database is migrated to 0003, given a chain written the old way (the number is the
key), migrated on, and verified; then the log goes on in the new way and still verifies. On
PostgreSQL a database of its own is made for it, on SQLite a file.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from samverkan.audit.chain import GENESIS_HASH, EventRecord, compute_hash

KEY = secrets.token_bytes(32)


def samverkan(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own command line
        [sys.executable, "-m", "samverkan", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def database(tmp_path: Path) -> Iterator[str]:
    if connection.vendor != "postgresql":
        yield f"sqlite:///{tmp_path / 'old.sqlite3'}"
        return
    db = connection.settings_dict
    server = f"host={db['HOST']} port={db['PORT'] or 5432} user={db['USER']} dbname=postgres"
    if db["PASSWORD"]:
        server += f" password={db['PASSWORD']}"
    name = f"samverkan_migrate_{secrets.token_hex(4)}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield (f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT'] or 5432}/{name}")
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def old_chain(n: int) -> list[EventRecord]:
    records, prev = [], GENESIS_HASH
    for seq in range(1, n + 1):
        record = EventRecord(
            seq=seq,
            occurred_at=datetime(2026, 1, 1, 12, seq, tzinfo=UTC),
            action="case.viewed",
            outcome="allowed",
            object_type="cases.case",
            object_id=str(seq),
            details={"n": seq},
            prev_hash=prev,
        )
        prev = compute_hash(record, KEY)
        records.append(EventRecord(**{**record.__dict__, "hash": prev}))
    return records


def insert_old(url: str, records: list[EventRecord]) -> None:
    """Rows as the old schema held them: ``seq`` the primary key, the head row moved."""
    columns = "seq, occurred_at, action, object_type, object_id, legal_basis, outcome, "
    columns += "request_id, source, details, prev_hash, hash"
    rows = [
        (
            *(r.seq, r.occurred_at.isoformat(), r.action, r.object_type, r.object_id, ""),
            *(r.outcome, "", "", json.dumps(r.details), r.prev_hash, r.hash),
        )
        for r in records
    ]
    insert = f"INSERT INTO audit_auditevent ({columns}) VALUES ({', '.join(['%s'] * 12)})"  # noqa: S608
    head = "UPDATE audit_chainhead SET seq = %s, hash = %s WHERE id = 1"
    if url.startswith("sqlite"):
        import sqlite3

        with sqlite3.connect(url.removeprefix("sqlite:///")) as lite:
            lite.executemany(insert.replace("%s", "?"), rows)
            lite.execute(head.replace("%s", "?"), (records[-1].seq, records[-1].hash))
        lite.close()
        return
    with psycopg.connect(url.replace("postgres://", "postgresql://")) as pg, pg.cursor() as cur:
        cur.executemany(insert, rows)
        cur.execute(head, (records[-1].seq, records[-1].hash))


def test_an_old_chain_verifies_across_the_migration_and_goes_on(
    database: str, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SAMVERKAN_", "DATABASE_"))}
    env.update(
        SAMVERKAN_DATA_DIR=str(tmp_path / "data"),
        DATABASE_URL=database,
        SAMVERKAN_AUDIT_KEY=KEY.hex(),
    )
    step = samverkan(env, "migrate", "audit", "0003")
    assert step.returncode == 0, step.stderr
    records = old_chain(5)
    insert_old(database, records)

    step = samverkan(env, "migrate")
    assert step.returncode == 0, step.stderr
    step = samverkan(env, "audit", "verify")
    assert step.returncode == 0, step.stderr
    assert f"5 sealed events, head 5 {records[-1].hash}" in step.stdout

    # The log goes on: a new event gets the next id and, once sealed, the next place.
    checkpoint = tmp_path / "checkpoint.json"
    step = samverkan(env, "audit", "checkpoint", "--out", str(checkpoint))
    assert step.returncode == 0, step.stderr
    assert json.loads(checkpoint.read_text())["hash"] == records[-1].hash
    step = samverkan(env, "audit", "seal")
    assert step.returncode == 0, step.stderr
    step = samverkan(env, "audit", "verify", "--checkpoint", str(checkpoint))
    assert step.returncode == 0, step.stderr
    assert "6 sealed events" in step.stdout
