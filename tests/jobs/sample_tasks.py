"""Tasks for the worker tests; importable by path, as the worker imports them."""

from __future__ import annotations

import time

from django_tasks import task

from samverkan.lib import context


@task()
def echo(word: str) -> str:
    return word


# Personal data reaches an exception's message at run time, never through the source line.
YOUTH = ("Anna Andersson", "120315-1236")


@task()
def fail_with_personal_data() -> None:
    name, number = YOUTH
    raise ValueError(f"{name} {number} could not be reminded")


@task()
def context_source() -> str:
    return context.current().source


@task()
def sleep(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


@task()
def nothing() -> None:
    return None


def plain_function() -> None:
    return None


# A task whose path leads to the plain function, not to a task: a worker could not run it.
unreachable = task()(plain_function)
