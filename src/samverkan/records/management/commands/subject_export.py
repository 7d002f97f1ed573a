"""``samverkan subject-export --output FILE.zip [--input FILE] [--language sv|en]``.

The data-subject export (*registerutdrag*) from the command line, for the operator acting on
the data-protection officer's request. The identity number is read from standard input (typed
without echo at a terminal) or from a file, never from the command line: the arguments of a
running process are visible to every user of the machine (``ps``) and end up in shell history.

Exit status: 0 the archive was written; 1 an error (one line on stderr); 3 nothing is held
about the person, and no file was written.
"""

from __future__ import annotations

import getpass
import os
import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from samverkan.lib.pdf import PdfUnavailableError
from samverkan.lib.personnummer import IdentityNumberError
from samverkan.records.subject_export import LANGUAGES, subject_export

NOTHING_HELD = 3


class Command(BaseCommand):
    help = (
        "Write a data-subject export (registerutdrag) as a ZIP. The identity number is read "
        "from standard input or --input, never from the command line."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--output", type=Path, required=True, help="The ZIP file to create (must not exist)."
        )
        parser.add_argument(
            "--input",
            type=Path,
            help="A file whose first line is the identity number (default: standard input).",
        )
        parser.add_argument("--language", choices=LANGUAGES, default="sv")

    def handle(self, *args: Any, **options: Any) -> None:
        output: Path = options["output"]
        if output.exists() or output.is_symlink():
            raise CommandError(f"{output} already exists; choose a new file name")
        if not output.parent.is_dir():
            raise CommandError(f"{output.parent} is not a folder")
        number = self._read_number(options.get("input"))
        try:
            archive = subject_export(
                actor=None, identity_number=number, language=options["language"]
            )
        except IdentityNumberError as exc:
            raise CommandError(f"not a valid identity number: {exc.message}") from None
        except PdfUnavailableError:
            raise CommandError(
                "this server cannot make PDF files: install Pango (libpango-1.0-0)"
            ) from None
        if archive is None:
            raise CommandError(
                "no data is held about this person; nothing written", returncode=NOTHING_HELD
            )
        try:
            fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise CommandError(f"{output} already exists; choose a new file name") from None
        except OSError as exc:
            raise CommandError(f"cannot write {output}: {exc.strerror}") from None
        with os.fdopen(fd, "wb") as handle:
            handle.write(archive.content)
        self.stdout.write(
            f"register extract written to {output}: {', '.join(archive.kinds)}, "
            f"{archive.case_count} case(s)"
        )

    def _read_number(self, path: Path | None) -> str:
        if path is not None:
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise CommandError(f"cannot read {path}: {exc.strerror}") from None
        elif sys.stdin.isatty():
            text = getpass.getpass("Identity number: ")
        else:
            text = sys.stdin.readline()
        lines = text.strip().splitlines()
        if not lines or not lines[0].strip():
            raise CommandError("no identity number given on standard input or in --input")
        return lines[0].strip()
