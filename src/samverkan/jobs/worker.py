"""The worker loop: run queued tasks from the database, and enqueue periodic jobs when due."""

from __future__ import annotations

import logging
import os
import secrets
import signal
import socket
import threading
import time
from dataclasses import dataclass
from types import FrameType

from django.conf import settings
from django.db import DatabaseError, OperationalError, close_old_connections
from django.db import connection as default_connection
from django.db.migrations.executor import MigrationExecutor
from django_tasks import task_backends
from django_tasks.base import TaskResultStatus
from django_tasks.exceptions import InvalidTaskBackendError
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.management.commands.db_worker import Worker as TaskRunner
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

from samverkan.jobs.heartbeat import Heartbeat
from samverkan.jobs.loops import LoopThreads
from samverkan.jobs.reaper import reap_lost_tasks
from samverkan.jobs.registry import JobRegistry, registry
from samverkan.jobs.scheduler import run_due_jobs
from samverkan.lib import context
from samverkan.lib.env import ConfigError
from samverkan.lib.redact import exception_summary, exception_type

logger = logging.getLogger("samverkan.jobs")


def check_configuration(*, backend_name: str, jobs: JobRegistry = registry) -> None:
    """Refuse to start, with one line, when the worker could not do its work."""
    try:
        backend = task_backends[backend_name]
    except InvalidTaskBackendError:
        raise ConfigError(f"TASKS has no task backend named {backend_name!r}") from None
    if not isinstance(backend, DatabaseBackend):
        raise ConfigError(
            f"the worker needs the database task backend (django_tasks_db.DatabaseBackend); "
            f"TASKS[{backend_name!r}] is {type(backend).__module__}.{type(backend).__name__}"
        )
    try:
        executor = MigrationExecutor(default_connection)
        unapplied = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as exc:
        raise ConfigError(
            f"cannot reach the database ({exception_type(exc)}); check DATABASE_URL"
        ) from None
    if unapplied:
        raise ConfigError("the database is not up to date; run `samverkan migrate` first")
    problems = jobs.problems(backend=backend_name)
    if problems:
        raise ConfigError("; ".join(problems))


def default_worker_id() -> str:
    """Host, process and a random tag: telling in a task result, and unique even when a
    restarted container's worker gets the process id of the one that died (whose tasks must
    not look alive)."""
    return f"{socket.gethostname()[:48]}-{os.getpid()}-{secrets.token_hex(3)}"


@dataclass(frozen=True)
class Summary:
    enqueued: int
    ran: int
    failed: int


class Worker:
    """One worker process. Any number may run, on any number of machines, on one database."""

    def __init__(
        self,
        *,
        backend_name: str = "default",
        interval: float = 1.0,
        schedule_every: float = 60.0,
        worker_id: str | None = None,
        jobs: JobRegistry = registry,
        heartbeat_seconds: float | None = None,
        stale_seconds: float | None = None,
    ) -> None:
        self.backend_name = backend_name
        self.interval = interval
        self.schedule_every = schedule_every
        self.worker_id = worker_id or default_worker_id()
        self.jobs = jobs
        self.stale_seconds = stale_seconds or settings.WORKER_STALE_SECONDS
        self.heartbeat = Heartbeat(
            worker_id=self.worker_id,
            every=heartbeat_seconds or settings.WORKER_HEARTBEAT_SECONDS,
            stale=self.stale_seconds,
            backend_name=backend_name,
        )
        self.loops = LoopThreads()
        self._stopping = False
        self._forced = False
        self._wake = threading.Event()
        # django-tasks-db's own worker runs each task: status, result, signals and retries of
        # the result write stay the library's.
        self._runner = TaskRunner(
            queue_names=["*"],
            interval=interval,
            batch=True,
            backend_name=backend_name,
            startup_delay=False,
            max_tasks=None,
            worker_id=self.worker_id,
            excluded_queue_names=[],
        )

    def enqueue_due_jobs(self) -> int:
        return len(run_due_jobs(jobs=self.jobs))

    def reap_lost_tasks(self) -> int:
        """Queue again or fail the tasks of dead workers (the heartbeat thread does it too)."""
        return len(
            reap_lost_tasks(stale_seconds=self.stale_seconds, backend_name=self.backend_name)
        )

    def run_pending_tasks(self, *, until: float | None = None) -> tuple[int, int]:
        """Run ready tasks until none is left, a stop is asked or the monotonic clock passes
        ``until`` (so that a steady stream of tasks cannot starve the scheduler):
        (ran, failed)."""
        ran = failed = 0
        while not self._stopping and (until is None or time.monotonic() < until):
            claimed = self._claim_next()
            if claimed is None:
                break
            ctx = context.RequestContext(request_id=context.new_request_id(), source="worker")
            with context.bound(ctx):
                self._runner.run_task(claimed)
            ran += 1
            if claimed.status == TaskResultStatus.FAILED:
                failed += 1
        return ran, failed

    def _claim_next(self) -> DBTaskResult | None:
        # Inside a test's transaction the connection must stay; a real worker is never in one.
        if not default_connection.in_atomic_block:
            close_old_connections()
        tasks = DBTaskResult.objects.ready().filter(backend_name=self.backend_name)
        with exclusive_transaction(tasks.db):
            try:
                claimed = tasks.get_locked()
                if claimed is not None:
                    claimed.claim(self.worker_id)
            except OperationalError as exc:
                if not is_locked_database_exception(exc):
                    raise
                claimed = None  # SQLite busy: look again after the interval
        return claimed

    def run_once(self) -> Summary:
        """Enqueue what is due, run everything pending, return (for ``--once`` and cron)."""
        self.heartbeat.start()
        try:
            self.reap_lost_tasks()
            enqueued = self.enqueue_due_jobs()
            ran, failed = self.run_pending_tasks()
        finally:
            self.heartbeat.stop()
        return Summary(enqueued=enqueued, ran=ran, failed=failed)

    def stop(self) -> None:
        """Finish the current task, then return from ``run_forever``."""
        self._stopping = True
        self._wake.set()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self._stopping:
            # The second Ctrl-C stops at once; a task it interrupts is marked failed.
            self._forced = True
            raise KeyboardInterrupt
        logger.info(
            "worker %s: %s received, stopping after the current task",
            self.worker_id,
            signal.Signals(signum).name,
        )
        self.stop()

    def run_forever(self) -> None:
        """Loop until SIGINT or SIGTERM; call from the main thread. Raises KeyboardInterrupt
        when a second signal cut the current task short."""
        handled = (signal.SIGINT, signal.SIGTERM)
        previous = {sig: signal.signal(sig, self._on_signal) for sig in handled}
        logger.info(
            "worker %s started: %d periodic jobs, looking for tasks every %ss",
            self.worker_id,
            len(self.jobs),
            self.interval,
        )
        next_schedule = 0.0
        try:
            self.heartbeat.start()
            self.loops.start()
            while not self._stopping:
                try:
                    if time.monotonic() >= next_schedule:
                        self.reap_lost_tasks()
                        self.enqueue_due_jobs()
                        next_schedule = time.monotonic() + self.schedule_every
                    ran, _ = self.run_pending_tasks(until=next_schedule)
                except DatabaseError as exc:
                    # A database restart or fail-over: wait and carry on rather than die.
                    logger.error(
                        "worker %s: database error: %s", self.worker_id, exception_summary(exc)
                    )
                    close_old_connections()
                    self._wake.wait(max(self.interval, 5.0))
                    continue
                if not ran:
                    self._wake.wait(self.interval)
        finally:
            self.loops.stop()
            self.heartbeat.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        logger.info("worker %s stopped", self.worker_id)
        if self._forced:
            raise KeyboardInterrupt
