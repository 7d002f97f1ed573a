"""Periodic jobs: what apps declare, and the periods in which each one is due.

An app declares its jobs in its ``tasks.py`` (imported when the app registry is ready)::

    from datetime import time

    from django_tasks import task

    from samverkan.jobs.registry import Every, periodic_job


    @task()
    def consent_reminders() -> None: ...


    periodic_job(name="consent.reminders", every=Every.DAY, at=time(6, 0), task=consent_reminders)

The scheduler (``samverkan worker``) enqueues the task once per period, when the local time
(``settings.TIME_ZONE``) has passed ``at`` in that period, however many workers run. A period
in which no worker ran is not made up for later, and a failed run is not repeated within its
period: a job must therefore work out from the data what is due now (for instance "consents
ending within 30 days that have had no reminder"), never "what happened since the last run".
Tasks take no arguments and must be idempotent.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks.base import Task

_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


class Every(StrEnum):
    HOUR = "hourly"
    DAY = "daily"
    WEEK = "weekly"  # weeks start on Monday (ISO 8601)
    MONTH = "monthly"


@dataclass(frozen=True)
class PeriodicJob:
    """A task enqueued once per period.

    ``at`` is the earliest local time of day in the period's first day at which the job is due
    (for ``Every.HOUR``, only its minutes count). The default, midnight, makes it due as soon as
    the period begins.
    """

    name: str
    every: Every
    task: Task[[], Any]
    at: time = time(0, 0)

    def period(self, now: datetime) -> str:
        """The key of the period that ``now`` falls in, in local time: ``2026-03-14``,
        ``2026-W11``, ``2026-03`` or ``2026-03-14T10``."""
        local = timezone.localtime(now)
        if self.every is Every.HOUR:
            return local.strftime("%Y-%m-%dT%H")
        if self.every is Every.DAY:
            return local.date().isoformat()
        if self.every is Every.WEEK:
            year, week, _ = local.isocalendar()
            return f"{year}-W{week:02d}"
        return local.strftime("%Y-%m")

    def due_from(self, now: datetime) -> datetime:
        """When the job becomes due in the period of ``now``, as a naive local wall time."""
        local = timezone.localtime(now).replace(tzinfo=None)
        if self.every is Every.HOUR:
            return local.replace(minute=self.at.minute, second=0, microsecond=0)
        day: date = local.date()
        if self.every is Every.WEEK:
            day -= timedelta(days=day.weekday())
        elif self.every is Every.MONTH:
            day = day.replace(day=1)
        return datetime.combine(day, self.at.replace(tzinfo=None))

    def is_due(self, now: datetime) -> bool:
        """Whether the job is due in the period of ``now`` (whether it ran is the scheduler's
        business). Local wall times are compared, so daylight-saving days need no care."""
        return timezone.localtime(now).replace(tzinfo=None) >= self.due_from(now)


class JobRegistry:
    """The periodic jobs of the running code. One per process, filled at import time."""

    def __init__(self) -> None:
        self._jobs: dict[str, PeriodicJob] = {}

    def register(self, job: PeriodicJob) -> PeriodicJob:
        if not _NAME.fullmatch(job.name) or len(job.name) > 100:
            raise ImproperlyConfigured(
                f"periodic job name {job.name!r} must be dotted lower-case words, like app.job"
            )
        if not isinstance(job.task, Task):
            raise ImproperlyConfigured(
                f"periodic job {job.name}: task must be a django-tasks task (use @task())"
            )
        if not isinstance(job.every, Every):
            raise ImproperlyConfigured(f"periodic job {job.name}: every must be an Every")
        existing = self._jobs.get(job.name)
        if existing is not None and existing.task.module_path != job.task.module_path:
            raise ImproperlyConfigured(f"periodic job {job.name} is registered twice")
        self._jobs[job.name] = job
        return job

    def __iter__(self) -> Iterator[PeriodicJob]:
        return iter(sorted(self._jobs.values(), key=lambda job: job.name))

    def __len__(self) -> int:
        return len(self._jobs)

    def get(self, name: str) -> PeriodicJob:
        return self._jobs[name]

    def problems(self, *, backend: str) -> list[str]:
        """What would stop a worker on ``backend`` from running these jobs, one line each."""
        found = []
        for job in self:
            if job.task.backend != backend:
                found.append(
                    f"periodic job {job.name} runs on task backend {job.task.backend!r}, "
                    f"but the worker serves {backend!r}"
                )
                continue
            try:
                imported = import_string(job.task.module_path)
            except ImportError:
                imported = None
            if not isinstance(imported, Task) or imported.func is not job.task.func:
                found.append(
                    f"periodic job {job.name}: its task cannot be imported as "
                    f"{job.task.module_path} (define it at module level with @task())"
                )
        return found


registry = JobRegistry()


def periodic_job(
    *, name: str, every: Every, task: Task[[], Any], at: time = time(0, 0)
) -> PeriodicJob:
    """Declare a periodic job in the process-wide registry (call it from an app's tasks.py)."""
    return registry.register(PeriodicJob(name=name, every=every, task=task, at=at))
