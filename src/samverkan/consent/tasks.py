"""Scheduled consent reminders (DESIGN rule 3): a daily job run by ``samverkan worker``."""

from __future__ import annotations

import logging
from datetime import time

from django_tasks import task

from samverkan.jobs.registry import Every, periodic_job

logger = logging.getLogger("samverkan.consent")


@task()
def consent_reminders() -> None:
    from samverkan.consent.notices import send_due_reminders

    sent = send_due_reminders()
    logger.info("consent reminders sent: %s", sent)


periodic_job(name="consent.reminders", every=Every.DAY, at=time(6, 0), task=consent_reminders)
