from __future__ import annotations

from datetime import time

from django_tasks import task

from samverkan.jobs.registry import Every, periodic_job
from samverkan.stats.facts import facts_refresh


@task()
def stats_refresh() -> None:
    facts_refresh()


periodic_job(name="stats.refresh", every=Every.DAY, at=time(2, 0), task=stats_refresh)
