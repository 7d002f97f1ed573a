"""``samverkan worker``: run background tasks and enqueue periodic jobs (docs/operations.md)."""

from __future__ import annotations

import math
from argparse import ArgumentParser, ArgumentTypeError
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from samverkan.jobs.heartbeat import Status, worker_status
from samverkan.jobs.loops import loops
from samverkan.jobs.worker import Worker, check_configuration


def _seconds(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ArgumentTypeError(f"{value!r} is not a number of seconds") from None
    if not math.isfinite(number) or number <= 0:
        raise ArgumentTypeError("must be a positive number of seconds")
    return number


class Command(BaseCommand):
    help = (
        "Run queued background tasks and enqueue periodic jobs when they are due. "
        "Any number of workers may run against one database."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--once",
            action="store_true",
            help="Enqueue the jobs that are due, run every pending task, then exit.",
        )
        parser.add_argument(
            "--status",
            action="store_true",
            help="Print the workers' heartbeats, the queue and the background loops a worker "
            "runs, then exit (status 1 when no worker is alive).",
        )
        parser.add_argument(
            "--interval",
            type=_seconds,
            default=1.0,
            help="Seconds to wait for new tasks when idle (default 1).",
        )
        parser.add_argument(
            "--schedule-every",
            type=_seconds,
            default=60.0,
            help="Seconds between looks for periodic jobs that are due (default 60).",
        )
        parser.add_argument(
            "--backend", default="default", help="Task backend (default 'default')."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        check_configuration(backend_name=options["backend"])
        if options["status"]:
            self._print_status(worker_status())
            return
        worker = Worker(
            backend_name=options["backend"],
            interval=options["interval"],
            schedule_every=options["schedule_every"],
        )
        if options["once"]:
            summary = worker.run_once()
            self.stdout.write(
                f"periodic jobs enqueued: {summary.enqueued}; tasks run: {summary.ran}; "
                f"failed: {summary.failed}"
            )
            if summary.failed:
                raise CommandError(f"{summary.failed} of {summary.ran} tasks failed; see the log")
            return
        try:
            worker.run_forever()
        except KeyboardInterrupt:
            raise CommandError("worker stopped at once by a second signal") from None

    def _print_status(self, status: Status) -> None:
        for worker in status.workers:
            state = "alive" if worker.alive else "silent"
            self.stdout.write(
                f"worker {worker.worker_id}: {state}, host {worker.host}, pid {worker.pid}, "
                f"last heartbeat {worker.silent_for.total_seconds():.0f}s ago, "
                f"started {timezone.localtime(worker.started_at):%Y-%m-%d %H:%M:%S}, "
                f"running {worker.running}"
            )
        names = ", ".join(loop.name for loop in loops()) or "none"
        self.stdout.write(
            f"background loops in each worker (not in worker --once): {names}\n"
            f"workers alive: {status.alive}; tasks ready: {status.ready}; running: {status.running}"
        )
        if not status.alive:
            raise CommandError("no worker has written a heartbeat within its stale limit")
