"""Scheduled audit-log jobs, run by ``samverkan worker``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import time

from django_tasks import task

from samverkan.jobs.loops import background_loop
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


@task()
def audit_checkpoint_hourly() -> None:
    """Seal what has been written, then sign the head (D28). Missing an hour loses nothing: the
    next checkpoint covers everything before it."""
    from samverkan.audit.checkpoints import checkpoint_make
    from samverkan.audit.sealing import audit_seal

    audit_seal()
    made = checkpoint_make()
    logger.info("audit checkpoint: event %s signed with key %s", made.seq, made.key_id)


periodic_job(name="audit.checkpoint", every=Every.HOUR, task=audit_checkpoint_hourly)


def seal_in_worker(should_stop: Callable[[], bool], wait: Callable[[float], object]) -> None:
    """The worker's sealing loop (D28): keeps the seal lag within seconds, beside the tasks."""
    from django.conf import settings

    from samverkan.audit.sealing import seal_forever

    seal_forever(
        interval=settings.AUDIT_SEAL_INTERVAL_MS / 1000, should_stop=should_stop, wait=wait
    )


background_loop(name="audit.seal", run=seal_in_worker)
