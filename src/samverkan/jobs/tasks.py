"""The jobs app's own periodic job: keep the task tables small."""

from __future__ import annotations

from datetime import time, timedelta

from django.utils import timezone
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from samverkan.jobs.models import JobRun
from samverkan.jobs.registry import Every, periodic_job

TASK_RESULT_DAYS = 30
JOB_RUN_DAYS = 400


@task()
def prune_job_history() -> dict[str, int]:
    """Delete finished task results after 30 days and period records after 400.

    Results are kept a month for looking into failures; a period record older than the
    longest period (a month) can no longer stop a duplicate, so a year is ample.
    """
    now = timezone.now()
    results, _ = (
        DBTaskResult.objects.finished()
        .filter(finished_at__lt=now - timedelta(days=TASK_RESULT_DAYS))
        .delete()
    )
    runs, _ = JobRun.objects.filter(enqueued_at__lt=now - timedelta(days=JOB_RUN_DAYS)).delete()
    return {"task_results": results, "job_runs": runs}


periodic_job(name="jobs.prune", every=Every.DAY, at=time(3, 0), task=prune_job_history)
