"""The API app's periodic job: idempotency keys go once their 24 hours have passed."""

from __future__ import annotations

import logging

from django_tasks import task

from samverkan.jobs.registry import Every, periodic_job

logger = logging.getLogger("samverkan.api")


@task()
def idempotency_prune() -> int:
    from samverkan.api.services import idempotency_prune as prune

    deleted = prune()
    logger.info("idempotency keys pruned: %s", deleted)
    return deleted


# Hourly: the stored answers may hold personal data, and should not outlive their 24 hours by
# much. (An expired key is never replayed even before this runs.)
periodic_job(name="api.idempotency_prune", every=Every.HOUR, task=idempotency_prune)
