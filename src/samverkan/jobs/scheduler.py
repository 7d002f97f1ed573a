"""Enqueue each periodic job once per period, however many workers look at the same time."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from samverkan.jobs.models import JobRun
from samverkan.jobs.registry import PeriodicJob, registry
from samverkan.lib.redact import exception_summary

logger = logging.getLogger("samverkan.jobs")


def run_due_jobs(
    *, now: datetime | None = None, jobs: Iterable[PeriodicJob] | None = None
) -> list[JobRun]:
    """Enqueue every job that is due and not yet enqueued in its current period.

    The period's row and the task are written in one transaction (the database task backend
    stores tasks in the same database), so a period is either claimed and queued, or neither.
    A second worker that races for the same period fails on the unique (job, period) pair and
    moves on; a job that cannot be enqueued is logged, by its error's type only, and tried again
    at the next look.
    """
    now = now or timezone.now()
    runs: list[JobRun] = []
    for job in registry if jobs is None else jobs:
        if not job.is_due(now):
            continue
        period = job.period(now)
        # A cheap read first, so that idle looks take no write lock.
        if JobRun.objects.filter(job_name=job.name, period=period).exists():
            continue
        try:
            with transaction.atomic():
                run = JobRun.objects.create(job_name=job.name, period=period, enqueued_at=now)
                result = job.task.enqueue()
                run.task_result_id = str(result.id)
                run.save(update_fields=["task_result_id"])
        except IntegrityError:
            continue  # another worker claimed this period first
        except Exception as exc:
            logger.error(
                "periodic job %s: not enqueued for %s: %s", job.name, period, exception_summary(exc)
            )
            continue
        logger.info("periodic job %s enqueued for %s", job.name, period)
        runs.append(run)
    return runs
