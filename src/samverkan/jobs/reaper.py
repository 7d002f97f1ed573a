"""Hand the running task of a dead worker to another worker, or fail it.

django-tasks-db marks a task RUNNING when a worker claims it and never looks at it again, so a
worker killed mid-task (SIGKILL, out of memory, power loss) would leave it RUNNING for ever.
Every worker therefore writes a heartbeat (jobs/heartbeat.py), and every worker reaps: a
RUNNING task whose last worker has not beaten within the stale limit is queued again (READY),
or marked FAILED once it has been tried ``MAX_ATTEMPTS`` times. A periodic job's task that is
queued again simply runs again, in the same period, under the same ``JobRun``.

The attempts are the task's own ``worker_ids``: django-tasks-db appends the worker's id at each
claim, so the count is visible on the task result.

In one transaction (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, the write lock on SQLite), a
reaper first deletes the heartbeat rows whose beat is older than *their own* stale limit, on
the database's clock, and then reclaims only the running tasks of the workers whose rows it
deleted, plus those of workers with no row at all (a worker of the version before heartbeats)
claimed longer ago than the reaper's own limit. A late beat therefore either commits before
the delete (the row is fresh and nothing of that worker is reclaimed) or finds its row gone
and fences its worker (jobs/heartbeat.py); a task is never queued again while its worker
keeps a row. Two reapers never both reclaim a task: the rows are locked.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import DateTimeField, ExpressionWrapper, F
from django.db.models.functions import Now
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
    max_attempts: int = MAX_ATTEMPTS,
) -> list[Reclaimed]:
    """Forget the heartbeats of dead workers and queue again or fail their RUNNING tasks
    (``stale_seconds`` serves only for tasks whose worker left no row). Returns what was
    reclaimed."""
    tasks = DBTaskResult.objects.running().filter(backend_name=backend_name)
    orphan_cutoff = ExpressionWrapper(
        Now() - timedelta(seconds=stale_seconds), output_field=DateTimeField()
    )
    dead = WorkerHeartbeat.objects.alias(
        expires=ExpressionWrapper(F("beat_at") + F("stale_after"), output_field=DateTimeField())
    ).filter(expires__lt=Now())
    # A cheap read first, so that a healthy pool takes no write lock.
    if not dead.exists() and not tasks.filter(started_at__lt=orphan_cutoff).exists():
        return []
    reclaimed: list[Reclaimed] = []
    with exclusive_transaction(tasks.db):
        deleted = set(dead.select_for_update(skip_locked=True).values_list("worker_id", flat=True))
        WorkerHeartbeat.objects.filter(worker_id__in=deleted).delete()
        with_row = set(WorkerHeartbeat.objects.values_list("worker_id", flat=True))
        # Claimed long ago by a worker with no row: (pk, worker, started) as read now, so that
        # a task queued again and claimed anew meanwhile is left alone.
        orphans = {
            (task.pk, _last_worker(task), task.started_at)
            for task in tasks.filter(started_at__lt=orphan_cutoff).only("worker_ids", "started_at")
            if _last_worker(task) not in with_row
        }
        for task in tasks.select_for_update(skip_locked=True):
            worker_id = _last_worker(task)
            if worker_id in deleted or (task.pk, worker_id, task.started_at) in orphans:
                reclaimed.append(_reclaim(task, worker_id, max_attempts=max_attempts))
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


def _last_worker(task: DBTaskResult) -> str:
    return task.worker_ids[-1] if task.worker_ids else ""


def _reclaim(task: DBTaskResult, worker_id: str, *, max_attempts: int) -> Reclaimed:
    attempts = len(task.worker_ids)
    if attempts < max_attempts:
        task.status = TaskResultStatus.READY
        task.save(update_fields=["status"])
    else:
        task.status = TaskResultStatus.FAILED
        task.finished_at = Now()
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
