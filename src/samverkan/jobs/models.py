from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class JobRun(models.Model):
    """One enqueue of a periodic job for one period.

    The unique (job, period) pair is what keeps several workers, on several machines, from
    enqueuing the same period twice: the scheduler inserts this row and enqueues the task in
    one transaction, and the second worker's insert fails (scheduler.run_due_jobs).
    """

    job_name = models.CharField(_("job"), max_length=100)
    period = models.CharField(_("period"), max_length=20)
    enqueued_at = models.DateTimeField(_("enqueued at"))
    task_result_id = models.CharField(_("task result"), max_length=64, blank=True)

    class Meta:
        ordering = ["-enqueued_at", "-pk"]
        verbose_name = _("periodic job run")
        verbose_name_plural = _("periodic job runs")
        constraints = [
            models.UniqueConstraint(
                fields=["job_name", "period"], name="jobs_jobrun_once_per_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.job_name} {self.period}"


class WorkerHeartbeat(models.Model):
    """A running worker, as it last told the database (jobs/heartbeat.py).

    A worker writes its row at start, updates ``beat_at`` every few seconds from a thread of its
    own (so a long task does not stop it) and deletes the row when it stops cleanly. Both times
    are the database's clock. A row whose beat is older than its own ``stale_after`` belongs to
    a worker that died; the reaper (jobs/reaper.py) deletes the row and, in the same
    transaction, hands that worker's running task to another worker.
    """

    worker_id = models.CharField(_("worker"), max_length=64, unique=True)
    host = models.CharField(_("host"), max_length=255)
    pid = models.PositiveIntegerField(_("process id"))
    started_at = models.DateTimeField(_("started at"))
    beat_at = models.DateTimeField(_("last heartbeat"), db_index=True)
    # The worker's own SAMVERKAN_WORKER_STALE_SECONDS: a reaper judges each worker by the limit
    # that worker fences itself by, not by its own (they differ during a rolling change).
    stale_after = models.DurationField(_("stale limit"))

    class Meta:
        ordering = ["worker_id"]
        verbose_name = _("worker heartbeat")
        verbose_name_plural = _("worker heartbeats")

    def __str__(self) -> str:
        return self.worker_id
