"""``samverkan backup PATH``: a consistent copy of the database, taken while it runs.

SQLite: the sqlite3 online backup API into a new single file (no WAL beside it). PostgreSQL:
``pg_dump --format=custom`` with the connection of ``DATABASE_URL``, the password passed in
``PGPASSWORD`` (never on the command line, where ``ps`` shows it to every user).

Encrypted columns are copied as they are stored, still encrypted. The keys (encryption ring,
search key, audit key, secret key) live outside the database and are never in a backup: keep
them apart from it (docs/operations.md §8). The file is created with mode 0600 and never
overwrites an existing one. Making a backup is recorded in the audit log
(``records.backup_made``) before the copy is taken, so the backup holds its own event.

Exit status: 0 written; 1 an error (one line on stderr).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from samverkan.audit.services import audit_record


def database_kind() -> str:
    """'sqlite' or 'postgresql', for the configured default database."""
    if connection.vendor == "sqlite":
        return "sqlite"
    if connection.vendor == "postgresql":
        return "postgresql"
    raise CommandError(f"backups of a {connection.vendor} database are not supported")


def pg_environment() -> dict[str, str]:
    """The environment for pg_dump / pg_restore: the connection of ``DATABASE_URL``, its
    password in PGPASSWORD, nothing on the command line. Other ``PG*`` variables the operator
    set (``PGSSLROOTCERT``, ``PGPASSFILE`` …) pass through."""
    db = connection.settings_dict
    env = dict(os.environ)
    mapping = {
        "PGHOST": db.get("HOST"),
        "PGPORT": db.get("PORT"),
        "PGUSER": db.get("USER"),
        "PGPASSWORD": db.get("PASSWORD"),
        "PGDATABASE": db.get("NAME"),
        "PGSSLMODE": (db.get("OPTIONS") or {}).get("sslmode"),
    }
    env.update({k: str(v) for k, v in mapping.items() if v})
    return env


def pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise CommandError(f"{name} is not installed (Debian: apt-get install postgresql-client)")
    return path


def first_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else "no message"


def create_private(path: Path) -> None:
    """Create ``path`` empty with mode 0600; refuse if anything is there already."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise CommandError(f"{path} already exists; choose a new file name") from None
    except OSError as exc:
        raise CommandError(f"cannot create {path}: {exc.strerror}") from None
    os.close(fd)


def sqlite_backup(target: Path) -> None:
    """The online backup API: a consistent snapshot even while others write."""
    connection.ensure_connection()
    source = connection.connection
    destination = sqlite3.connect(target)
    try:
        source.backup(destination)
        # One self-contained file: the live database runs in WAL mode, the copy need not.
        destination.execute("PRAGMA journal_mode=DELETE")
    finally:
        destination.close()


def pg_dump(target: Path) -> None:
    result = subprocess.run(  # noqa: S603 - fixed program, no shell, no secret in argv
        [pg_tool("pg_dump"), "--format=custom", "--file", str(target)],
        env=pg_environment(),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise CommandError(f"pg_dump failed: {first_line(result.stderr)}")


class Command(BaseCommand):
    help = "Back up the database to a new file (SQLite online backup, or pg_dump)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("path", type=Path, help="The backup file to create (must not exist).")

    def handle(self, *args: Any, **options: Any) -> None:
        target: Path = options["path"]
        kind = database_kind()
        if target.exists() or target.is_symlink():
            raise CommandError(f"{target} already exists; choose a new file name")
        if not target.parent.is_dir():
            raise CommandError(f"{target.parent} is not a folder")
        with transaction.atomic():
            audit_record(
                action="records.backup_made", object_type="records.backup", details={"kind": kind}
            )
        create_private(target)
        try:
            if kind == "sqlite":
                sqlite_backup(target)
            else:
                pg_dump(target)
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        if target.resolve().is_relative_to(Path(settings.DATA_DIR).resolve()):
            print(
                "samverkan: warning: the backup is inside the data folder, next to the "
                "development keys; move it elsewhere and keep the keys apart from it",
                file=sys.stderr,
            )
        size = target.stat().st_size
        self.stdout.write(f"backup written to {target} ({kind}, {size} bytes); keys not included")
