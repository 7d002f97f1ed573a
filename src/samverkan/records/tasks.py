"""Scheduled records-management jobs, run by ``samverkan worker``."""

from __future__ import annotations

import logging
from datetime import time

from django_tasks import task

from samverkan.jobs.registry import Every, periodic_job

logger = logging.getLogger("samverkan.records")


@task()
def log_review_reminder() -> None:
    """Remind the auditors when no recorded log review covers last month (DESIGN rule 9)."""
    from samverkan.records.services import log_review_remind

    told = log_review_remind()
    logger.info("log review reminders sent: %s", told)


periodic_job(
    name="records.log_review_reminder", every=Every.MONTH, at=time(7, 0), task=log_review_reminder
)


# --- Retention (gallring) --------------------------------------------------------------------


@task()
def retention_monthly() -> None:
    """Purge what retention says is due (not a dry run). A missed month is made up by the next:
    what is due is computed from the data as it is."""
    from samverkan.records.services import retention_run

    report = retention_run(dry_run=False)
    logger.info(
        "retention: %s cases purged, %s failed, %s records removed",
        len(report.purged_case_ids),
        len(report.failed_case_ids),
        sum(report.removed.values()),
    )
    if not report.ok:
        raise RuntimeError(f"retention: {len(report.failed_case_ids)} case(s) not purged")


periodic_job(name="records.retention", every=Every.MONTH, at=time(3, 0), task=retention_monthly)


# --- Dormant cases ---------------------------------------------------------------------------


@task()
def dormant_cases_daily() -> None:
    """E-mail coordinators about open cases newly quiet for ``CASE_DORMANT_DAYS`` (once per
    quiet spell: a missed day is made up by the next, from the data as it is)."""
    from samverkan.records.services import dormancy_notify

    told = dormancy_notify()
    logger.info("dormant cases told: %s", told)


periodic_job(
    name="records.dormant_cases", every=Every.DAY, at=time(7, 30), task=dormant_cases_daily
)
