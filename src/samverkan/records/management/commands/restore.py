"""``samverkan restore PATH``: a backup of ``samverkan backup`` into an EMPTY database.

The configured database (``DATABASE_URL``) must hold no tables at all: a restore never merges
into or overwrites live data. SQLite: the backup API copies the file into the configured path.
PostgreSQL: ``pg_restore`` in one transaction, objects owned by the restoring role, without the
backup's grants (re-apply the grants of docs/operations.md §3 afterwards).

The keys are not in the backup: run the restore with the same ``SAMVERKAN_ENCRYPTION_KEYS``
(every key the backup's values may be under), ``SAMVERKAN_SEARCH_KEY`` and
``SAMVERKAN_AUDIT_KEY`` as the system that made it. The command ends by verifying the audit
chain with the configured audit key, which also shows that key to be the right one.

Exit status: 0 restored and the chain verified; 1 an error (one line on stderr).
"""

from __future__ import annotations

import sqlite3
import subprocess
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from samverkan.audit.selectors import audit_verify
from samverkan.records.management.commands.backup import (
    database_kind,
    first_line,
    pg_environment,
    pg_tool,
)

# Tables every Samverkan database has; a file without them is not one of our backups.
REQUIRED_TABLES = {"django_migrations", "audit_auditevent", "audit_chainhead"}


def _sqlite_tables(db: sqlite3.Connection) -> set[str]:
    rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {name for (name,) in rows}


def sqlite_restore(source_path: Path) -> None:
    target = connection.settings_dict["NAME"]
    try:
        source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
        tables = _sqlite_tables(source)
    except sqlite3.DatabaseError:
        raise CommandError(f"{source_path} is not a SQLite backup") from None
    try:
        if not tables >= REQUIRED_TABLES:
            raise CommandError(f"{source_path} is not a backup of a Samverkan database")
        connection.close()
        destination = sqlite3.connect(target)
        try:
            source.backup(destination)
        finally:
            destination.close()
    finally:
        source.close()


def pg_restore(source_path: Path) -> None:
    env = pg_environment()
    listing = subprocess.run(  # noqa: S603 - fixed program, no shell, no secret in argv
        [pg_tool("pg_restore"), "--list", str(source_path)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if listing.returncode != 0:
        raise CommandError(f"{source_path} is not a pg_dump custom-format backup")
    if "TABLE DATA public audit_auditevent" not in listing.stdout:
        raise CommandError(f"{source_path} is not a backup of a Samverkan database")
    connection.close()
    result = subprocess.run(  # noqa: S603
        [
            pg_tool("pg_restore"),
            "--no-owner",
            "--no-acl",
            "--exit-on-error",
            "--single-transaction",
            "--dbname",
            env["PGDATABASE"],
            str(source_path),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise CommandError(f"pg_restore failed: {first_line(result.stderr)}")


class Command(BaseCommand):
    help = "Restore a backup made by `samverkan backup` into an empty database."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("path", type=Path, help="The backup file.")

    def handle(self, *args: Any, **options: Any) -> None:
        source: Path = options["path"]
        kind = database_kind()
        if not source.is_file():
            raise CommandError(f"{source}: no such backup file")
        tables = connection.introspection.table_names()
        if tables:
            raise CommandError(
                f"the database is not empty ({len(tables)} tables); restore only into a new, "
                "empty database"
            )
        if kind == "sqlite":
            sqlite_restore(source)
        else:
            pg_restore(source)
        result = audit_verify()
        if not result.ok:
            raise CommandError(
                f"restored, but the audit chain does not verify at event {result.first_bad_seq}: "
                f"{result.problem} (is SAMVERKAN_AUDIT_KEY the one the backup was made with?)"
            )
        self.stdout.write(
            f"restored from {source}; audit chain OK: {result.count} events, head "
            f"{result.head_seq} {result.head_hash}"
        )
        self.stdout.write("run `samverkan migrate` if this version is newer than the backup")
