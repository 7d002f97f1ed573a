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
