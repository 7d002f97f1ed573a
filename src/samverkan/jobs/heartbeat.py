"""A worker's heartbeat: proof, in the database, that it is alive (docs/operations.md §7).

The beat runs in a daemon thread with its own database connection, so that a task running for
an hour in the main thread does not make its worker look dead. The same thread reaps the tasks
of dead workers (jobs/reaper.py) after each beat, so a lost task is reclaimed within the stale
limit and a beat or two however busy the workers are.

A worker also fences itself: it exits at once (status 75) when it could not beat for longer
than the stale limit less one beat, or when its heartbeat row is gone because another worker
took it for dead. By the time another worker may reclaim its task, it has stopped; so no task
runs in two places at once. The order that makes this hold:

- a beat writes ``beat_at = now()`` on the database's clock, and the worker counts its silence
  from the moment it *sent* that beat (taken before the UPDATE), so however long the UPDATE
  stalls, the worker's deadline (sent + stale - beat) falls a beat before the earliest moment
  a reaper may judge the row dead (written + stale, written >= sent);
- a watchdog thread of its own fires at that deadline, so a beat that hangs in the database
  driver does not hold the fence up;
- a reaper deletes a dead row first and reclaims only the tasks of the rows it deleted, in one
  transaction (jobs/reaper.py): a late beat either commits first (the row is fresh again and
  nothing is reclaimed) or finds the row gone (and the worker fences).

Only the database's clock is read for beats and limits, so the hosts' clocks need not agree.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import DatabaseError, close_old_connections, connection, connections
from django.db.models import Count
from django.db.models.functions import Now
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from samverkan.jobs.models import WorkerHeartbeat
from samverkan.jobs.reaper import reap_lost_tasks
from samverkan.lib.redact import exception_summary

logger = logging.getLogger("samverkan.jobs")

LOST_EXIT_STATUS = 75  # EX_TEMPFAIL: systemd's Restart=on-failure starts a fresh worker


def _exit_now(reason: str) -> None:
    logger.critical("worker stops at once: %s", reason)
    logging.shutdown()
    os._exit(LOST_EXIT_STATUS)


class Heartbeat:
    """Start it before claiming the first task; stop it after the last one."""

    def __init__(
        self,
        *,
        worker_id: str,
        every: float,
        stale: float,
        backend_name: str = "default",
        on_lost: Callable[[str], None] = _exit_now,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.worker_id = worker_id
        self.every = every
        self.stale = stale
        self.backend_name = backend_name
        self.on_lost = on_lost
        self.clock = clock
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._last_ok = clock()

    def start(self) -> None:
        """Write this worker's row (in the calling thread) and start beating."""
        sent = self.clock()
        WorkerHeartbeat.objects.update_or_create(
            worker_id=self.worker_id,
            defaults={
                "host": socket.gethostname()[:255],
                "pid": os.getpid(),
                "started_at": Now(),
                "beat_at": Now(),
                "stale_after": timedelta(seconds=self.stale),
            },
        )
        self._last_ok = sent
        self._stop.clear()
        for name, target in (("heartbeat", self._run), ("heartbeat-fence", self._watch)):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        """Stop beating and delete the row: a worker that stops cleanly is not dead."""
        self._stop.set()
        for thread in self._threads:
            thread.join()
        self._threads.clear()
        try:
            WorkerHeartbeat.objects.filter(worker_id=self.worker_id).delete()
        except DatabaseError as exc:  # the row goes stale and a reaper deletes it
            logger.warning(
                "worker %s: heartbeat not removed: %s", self.worker_id, exception_summary(exc)
            )

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.every):
                try:
                    if self.beat():
                        self.reap()
                except Exception as exc:  # the thread must live on, or the fence dies with it
                    logger.error("worker %s: heartbeat: %s", self.worker_id, exception_summary(exc))
        finally:
            connections.close_all()  # this thread's own connection

    def _watch(self) -> None:
        """The fence: fire at the deadline, whatever the beating thread is stuck in."""
        while not self.fenced():
            remaining = self._last_ok + self.stale - self.every - self.clock()
            if self._stop.wait(max(remaining, 0.0) + 0.01):
                return

    def fenced(self) -> bool:
        """Fence the worker (``on_lost``) when another may already take it for dead."""
        silent = self.clock() - self._last_ok
        if silent > self.stale - self.every:
            self.on_lost(f"no heartbeat written for {silent:.0f}s")
            return True
        return False

    def beat(self) -> bool:
        """Write one beat; True when it was written. Fences the worker (``on_lost``) when it
        may already have been taken for dead."""
        if self.fenced():
            return False
        # Counted from before the UPDATE is sent: the row's beat (the database's clock when the
        # UPDATE runs) is never earlier, so the worker's deadline comes first.
        sent = self.clock()
        try:
            if not connection.in_atomic_block:  # always so in the thread; not in a test
                close_old_connections()
            written = WorkerHeartbeat.objects.filter(worker_id=self.worker_id).update(beat_at=Now())
        except DatabaseError as exc:
            logger.warning(
                "worker %s: heartbeat failed: %s", self.worker_id, exception_summary(exc)
            )
            return False
        if not written:
            self.on_lost("its heartbeat was removed: another worker took it for dead")
            return False
        self._last_ok = max(self._last_ok, sent)
        return True

    def reap(self) -> None:
        try:
            reap_lost_tasks(stale_seconds=self.stale, backend_name=self.backend_name)
        except DatabaseError as exc:
            logger.warning("worker %s: reaping failed: %s", self.worker_id, exception_summary(exc))


@dataclass(frozen=True)
class WorkerState:
    worker_id: str
    host: str
    pid: int
    started_at: datetime
    beat_at: datetime
    silent_for: timedelta  # since the last beat, on the database's clock
    alive: bool
    running: int


@dataclass(frozen=True)
class Status:
    workers: list[WorkerState]
    ready: int
    running: int

    @property
    def alive(self) -> int:
        return sum(1 for worker in self.workers if worker.alive)


def worker_status() -> Status:
    """The workers as their heartbeats tell (each judged by its own stale limit, on the
    database's clock), and the queue, for ``samverkan worker --status``."""
    running = DBTaskResult.objects.running().values_list("worker_ids", flat=True)
    per_worker: dict[str, int] = {}
    for ids in running:
        if ids:
            per_worker[ids[-1]] = per_worker.get(ids[-1], 0) + 1
    counts = {
        row["status"]: row["n"]
        for row in DBTaskResult.objects.filter(
            status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING]
        )
        .order_by()
        .values("status")
        .annotate(n=Count("pk"))
    }
    workers = [
        WorkerState(
            worker_id=row.worker_id,
            host=row.host,
            pid=row.pid,
            started_at=row.started_at,
            beat_at=row.beat_at,
            silent_for=row.checked_at - row.beat_at,
            alive=row.beat_at + row.stale_after >= row.checked_at,
            running=per_worker.get(row.worker_id, 0),
        )
        for row in WorkerHeartbeat.objects.annotate(checked_at=Now())
    ]
    return Status(
        workers=workers,
        ready=counts.get(TaskResultStatus.READY, 0),
        running=counts.get(TaskResultStatus.RUNNING, 0),
    )
