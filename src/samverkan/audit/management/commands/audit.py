"""``samverkan audit verify [--checkpoint FILE]``, ``samverkan audit checkpoint --out FILE``,
``samverkan audit prune [--dry-run]`` and ``samverkan audit anchor --out FILE``."""

from __future__ import annotations

import os
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from samverkan.audit.pruning import anchor_json, audit_prune
from samverkan.audit.selectors import Checkpoint, audit_anchor, audit_head, audit_verify
from samverkan.audit.services import audit_record


class Command(BaseCommand):
    help = (
        "Verify the audit log's hash chain, export its head as a checkpoint, or prune it up to "
        "a signed anchor."
    )

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
        prune = sub.add_parser(
            "prune",
            help="Prune events past SAMVERKAN_RETENTION_AUDIT_YEARS up to a signed anchor, and "
            "truncate IP addresses past SAMVERKAN_RETENTION_AUDIT_IP_DAYS.",
        )
        prune.add_argument(
            "--dry-run", action="store_true", help="Say what would change; change nothing."
        )
        anchor = sub.add_parser("anchor", help="Write the newest pruning anchor to a file again.")
        anchor.add_argument("--out", type=Path, required=True, help="File to write.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "verify":
            self._verify(options.get("checkpoint"))
        elif options["subcommand"] == "prune":
            self._prune(dry_run=options["dry_run"])
        elif options["subcommand"] == "anchor":
            self._anchor(options["out"])
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
        if result.note:
            self.stdout.write(f"note: {result.note}")

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

    def _prune(self, *, dry_run: bool) -> None:
        try:
            report = audit_prune(dry_run=dry_run)
        except OSError as exc:
            # The pruning committed; only publishing the anchor failed.
            raise CommandError(
                f"pruned, but the anchor could not be published: {exc.strerror}; write it again "
                "with: samverkan audit anchor --out FILE"
            ) from None
        verb = "would prune" if dry_run else "pruned"
        span = (
            f"(events {report.pruned_from}-{report.pruned_through})" if report.pruned_count else ""
        )
        self.stdout.write(
            f"{verb} {report.pruned_count} events older than {report.cutoff.date()} {span}".rstrip()
        )
        verb = "would truncate" if dry_run else "truncated"
        self.stdout.write(
            f"{verb} the IP address of {report.ip_truncated_count} events older than "
            f"{report.ip_cutoff.date()}"
        )
        if report.anchor is not None:
            self.stdout.write(
                f"new anchor at event {report.anchor.pruned_through}, published to "
                f"{report.published}; ship it off this host"
            )

    def _anchor(self, out: Path) -> None:
        anchor, broken = audit_anchor()
        if broken is not None:
            raise CommandError(f"audit chain BROKEN: {broken.problem}")
        if anchor is None:
            raise CommandError("the audit log has not been pruned: there is no anchor")
        try:
            fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(anchor_json(anchor) + "\n")
        except OSError as exc:
            raise CommandError(f"cannot write {out}: {exc.strerror}") from None
        self.stdout.write(f"anchor written to {out}: event {anchor.pruned_through}")
