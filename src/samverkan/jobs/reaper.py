"""Hand the running task of a dead worker to another worker, or fail it.

django-tasks-db marks a task RUNNING when a worker claims it and never looks at it again, so a
worker killed mid-task (SIGKILL, out of memory, power loss) would leave it RUNNING for ever.
Every worker therefore writes a heartbeat (jobs/heartbeat.py), and every worker reaps: a
RUNNING task whose last worker has not beaten within the stale limit is queued again (READY),
or marked FAILED once it has been tried ``MAX_ATTEMPTS`` times. A periodic job's task that is
queued again simply runs again, in the same period, under the same ``JobRun``.

The attempts are the task's own ``worker_ids``: django-tasks-db appends the worker's id at each
claim, so the count is visible on the task result. Reaping takes the task rows with
``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL and the write lock on SQLite, so two reapers
never both reclaim a task, and only tasks started before the stale limit are looked at, so a
task claimed a moment ago by a live worker is never taken away.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction

from samverkan.jobs.models import WorkerHeartbeat

logger = logging.getLogger("samverkan.jobs")

# A task that took its worker down this many times (say, by running out of memory) is failed
# rather than allowed to take down every worker in turn.
MAX_ATTEMPTS = 3


class WorkerLostError(Exception):
    """Stored as the error of a task failed because its workers kept dying."""


@dataclass(frozen=True)
class Reclaimed:
    task_id: str
    task_path: str
    worker_id: str
    attempts: int
    status: str  # READY (queued again) or FAILED


def reap_lost_tasks(
    *,
    stale_seconds: float,
    backend_name: str = "default",
    now: datetime | None = None,
    max_attempts: int = MAX_ATTEMPTS,
) -> list[Reclaimed]:
    """Queue again or fail every RUNNING task whose worker stopped beating; forget the
    heartbeats of dead workers. Returns what was reclaimed."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=stale_seconds)
    suspects = DBTaskResult.objects.running().filter(
        backend_name=backend_name, started_at__lt=cutoff
    )
    dead = WorkerHeartbeat.objects.filter(beat_at__lt=cutoff)
    # A cheap read first, so that a healthy pool takes no write lock.
    if not suspects.exists() and not dead.exists():
        return []
    reclaimed: list[Reclaimed] = []
    with exclusive_transaction(suspects.db):
        live = set(
            WorkerHeartbeat.objects.filter(beat_at__gte=cutoff).values_list("worker_id", flat=True)
        )
        for task in suspects.select_for_update(skip_locked=True):
            worker_id = task.worker_ids[-1] if task.worker_ids else ""
            if worker_id in live:
                continue  # a long task of a live worker
            reclaimed.append(_reclaim(task, worker_id, now=now, max_attempts=max_attempts))
        dead.delete()
    for item in reclaimed:
        logger.warning(
            "task %s (%s): worker %s stopped answering; attempt %d of %d; %s",
            item.task_id,
            item.task_path,
            item.worker_id or "unknown",
            item.attempts,
            max_attempts,
            "queued again" if item.status == TaskResultStatus.READY else "marked failed",
        )
    return reclaimed


def _reclaim(task: DBTaskResult, worker_id: str, *, now: datetime, max_attempts: int) -> Reclaimed:
    attempts = len(task.worker_ids)
    if attempts < max_attempts:
        task.status = TaskResultStatus.READY
        task.save(update_fields=["status"])
    else:
        task.status = TaskResultStatus.FAILED
        task.finished_at = now
        task.return_value = None
        task.exception_class_path = f"{WorkerLostError.__module__}.{WorkerLostError.__qualname__}"
        task.traceback = (
            f"{WorkerLostError.__qualname__}: the worker running this task stopped answering, "
            f"{attempts} times in all (last: {worker_id or 'unknown'})\n"
        )
        task.save(
            update_fields=[
                "status",
                "finished_at",
                "return_value",
                "exception_class_path",
                "traceback",
            ]
        )
    return Reclaimed(
        task_id=str(task.pk),
        task_path=task.task_path,
        worker_id=worker_id,
        attempts=attempts,
        status=task.status,
    )
