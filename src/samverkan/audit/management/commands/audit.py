"""``samverkan audit verify [--checkpoint FILE] [--progress]``, ``samverkan audit checkpoint
--out FILE``, ``samverkan audit seal [--loop]``, ``samverkan audit status``, ``samverkan audit
prune [--dry-run]`` and ``samverkan audit anchor --out FILE``."""

from __future__ import annotations

import os
import signal
import threading
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from samverkan.audit import checkpoints
from samverkan.audit.pruning import anchor_json, audit_prune
from samverkan.audit.sealing import audit_seal, seal_forever, seal_status
from samverkan.audit.selectors import Checkpoint, audit_anchor, audit_verify


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
            help="A checkpoint or anchor file published earlier: proves the log still extends "
            "it (detects a truncated tail, and a rewrite by someone holding the audit key).",
        )
        verify.add_argument(
            "--progress", action="store_true", help="Report progress on standard error."
        )
        checkpoint = sub.add_parser(
            "checkpoint", help="Sign the chain head and write the checkpoint to a file."
        )
        checkpoint.add_argument("--out", type=Path, required=True, help="File to write.")
        seal = sub.add_parser(
            "seal", help="Seal the events written so far (the worker does this continuously)."
        )
        seal.add_argument(
            "--loop", action="store_true", help="Keep sealing until interrupted (Ctrl-C, SIGTERM)."
        )
        status = sub.add_parser("status", help="Show the chain head and how far sealing lags.")
        status.add_argument(
            "--max-lag",
            type=float,
            metavar="SECONDS",
            help="Exit with status 1 when the seal lag is longer (for monitoring).",
        )
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
            self._verify(options.get("checkpoint"), progress=options["progress"])
        elif options["subcommand"] == "seal":
            self._seal(loop=options["loop"])
        elif options["subcommand"] == "status":
            self._status(max_lag=options["max_lag"])
        elif options["subcommand"] == "prune":
            self._prune(dry_run=options["dry_run"])
        elif options["subcommand"] == "anchor":
            self._anchor(options["out"])
        else:
            self._checkpoint(options["out"])

    def _verify(self, checkpoint_path: Path | None, *, progress: bool) -> None:
        checkpoint = None
        if checkpoint_path is not None:
            try:
                checkpoint = Checkpoint.from_file(checkpoint_path)
            except ValueError as exc:
                raise CommandError(str(exc)) from None
        report = None
        if progress:

            def report(count: int) -> None:
                self.stderr.write(f"verified {count} events", ending="\r")
                self.stderr.flush()

        result = audit_verify(checkpoint=checkpoint, progress=report)
        if progress:
            self.stderr.write("")
        if not result.ok:
            raise CommandError(
                f"audit chain BROKEN at event {result.first_bad_seq}: {result.problem} "
                f"({result.count} events verified before it)"
            )
        self.stdout.write(
            f"audit chain OK: {result.count} sealed events, head {result.head_seq} "
            f"{result.head_hash}; {result.unsealed} events not yet sealed"
        )
        if checkpoint is not None:
            self.stdout.write(
                f"the log extends the checkpoint of {checkpoint.time.isoformat()} "
                f"(event {checkpoint.seq})"
            )
        if result.note:
            self.stdout.write(f"note: {result.note}")

    def _checkpoint(self, out: Path) -> None:
        # Seal first, so that the checkpoint covers what has been written until now.
        audit_seal()
        made = checkpoints.published(checkpoints.checkpoint_make(exported=True))
        try:
            fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(made.to_json() + "\n")
        except OSError as exc:
            raise CommandError(f"cannot write {out}: {exc.strerror}") from None
        self.stdout.write(
            f"signed checkpoint written to {out}: event {made.seq} {made.hash} (key {made.key_id})"
        )

    def _seal(self, *, loop: bool) -> None:
        if not loop:
            self.stdout.write(f"sealed {audit_seal()} events")
            return
        stop = threading.Event()
        handled = (signal.SIGINT, signal.SIGTERM)
        previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in handled}
        try:
            seal_forever(
                interval=settings.AUDIT_SEAL_INTERVAL_MS / 1000,
                should_stop=stop.is_set,
                wait=stop.wait,
            )
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.stdout.write("sealer stopped")

    def _status(self, *, max_lag: float | None) -> None:
        status = seal_status()
        self.stdout.write(f"chain head: event {status.head_seq} {status.head_hash}")
        self.stdout.write(f"unsealed events: {status.unsealed}")
        self.stdout.write(f"seal lag: {status.lag.total_seconds():.1f} s")
        latest = checkpoints.recent(1)
        if latest:
            self.stdout.write(
                f"last signed checkpoint: event {latest[0].seq} at "
                f"{latest[0].created_at.isoformat()} (key {latest[0].key_id})"
            )
        else:
            self.stdout.write("last signed checkpoint: none yet")
        if max_lag is not None and status.lag.total_seconds() > max_lag:
            raise CommandError(
                f"seal lag {status.lag.total_seconds():.1f} s is over {max_lag:g} s: is a worker "
                "(or samverkan audit seal --loop) running, with the grants of operations.md §3?"
            )

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
