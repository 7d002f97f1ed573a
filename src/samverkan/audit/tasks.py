"""Scheduled audit-log jobs, run by ``samverkan worker``."""

from __future__ import annotations

import logging
from datetime import time

from django_tasks import task

from samverkan.jobs.registry import Every, periodic_job

logger = logging.getLogger("samverkan.audit")


@task()
def audit_prune_monthly() -> None:
    """Prune and truncate what is due (DESIGN rule 19). What is due is computed from the log as
    it is, so a missed month is made up by the next."""
    from django.conf import settings

    from samverkan.audit.pruning import audit_prune

    if not settings.AUDIT_PRUNE_IN_WORKER:
        logger.info("audit prune: left to cron (SAMVERKAN_AUDIT_PRUNE_IN_WORKER is off)")
        return
    report = audit_prune(dry_run=False)
    if report.published is None:
        logger.info("audit prune: nothing older than the retention periods; no new anchor")
        return
    logger.info(
        "audit prune: %s events pruned, %s IP addresses truncated, anchor published to %s",
        report.pruned_count,
        report.ip_truncated_count,
        report.published,
    )


periodic_job(name="audit.prune", every=Every.MONTH, at=time(4, 0), task=audit_prune_monthly)
