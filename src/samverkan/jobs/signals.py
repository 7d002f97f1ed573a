"""Failed task results are stored without the exception's message (lib/redact.py says why)."""

from __future__ import annotations

import sys
from typing import Any

from django.dispatch import receiver
from django_tasks.base import TaskResult, TaskResultStatus
from django_tasks.signals import task_finished

from samverkan.lib.redact import redacted_traceback


@receiver(task_finished)
def withhold_failure_text(sender: object, task_result: TaskResult[Any], **kwargs: Any) -> None:
    """Replace the traceback django-tasks-db stores for a failed task with a redacted one.

    The worker sends ``task_finished`` from inside its ``except`` block, so the exception is
    still at hand here.
    """
    if task_result.status != TaskResultStatus.FAILED:
        return
    exc = sys.exc_info()[1]
    db_result = getattr(task_result, "db_result", None)
    if exc is None or db_result is None:
        return
    type(db_result).objects.filter(pk=db_result.pk).update(traceback=redacted_traceback(exc))
