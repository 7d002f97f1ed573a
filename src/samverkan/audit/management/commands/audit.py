"""``samverkan audit verify [--checkpoint FILE]`` and ``samverkan audit checkpoint --out FILE``."""

from __future__ import annotations

import os
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from samverkan.audit.selectors import Checkpoint, audit_head, audit_verify
from samverkan.audit.services import audit_record


class Command(BaseCommand):
    help = "Verify the audit log's hash chain, or export its head as a checkpoint."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        verify = sub.add_parser("verify", help="Verify the whole chain.")
        verify.add_argument(
            "--checkpoint",
            type=Path,
            help="A checkpoint file written earlier; also detects a truncated tail.",
        )
        checkpoint = sub.add_parser("checkpoint", help="Write the chain head to a file.")
        checkpoint.add_argument("--out", type=Path, required=True, help="File to write.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "verify":
            self._verify(options.get("checkpoint"))
        else:
            self._checkpoint(options["out"])

    def _verify(self, checkpoint_path: Path | None) -> None:
        checkpoint = None
        if checkpoint_path is not None:
            try:
                checkpoint = Checkpoint.from_file(checkpoint_path)
            except ValueError as exc:
                raise CommandError(str(exc)) from None
        result = audit_verify(checkpoint=checkpoint)
        if not result.ok:
            raise CommandError(
                f"audit chain BROKEN at event {result.first_bad_seq}: {result.problem} "
                f"({result.count} events verified before it)"
            )
        self.stdout.write(
            f"audit chain OK: {result.count} events, head {result.head_seq} {result.head_hash}"
        )

    def _checkpoint(self, out: Path) -> None:
        with transaction.atomic():
            audit_record(action="audit.checkpoint_exported", object_type="audit.chain")
            head = audit_head()
        try:
            fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(head.to_json() + "\n")
        except OSError as exc:
            raise CommandError(f"cannot write {out}: {exc.strerror}") from None
        self.stdout.write(f"checkpoint written to {out}: event {head.seq} {head.hash}")
