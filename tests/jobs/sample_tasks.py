"""Tasks for the worker tests; importable by path, as the worker imports them."""

from __future__ import annotations

import os
import time
from pathlib import Path

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


# The kill -9 test's periodic job: runs until the test opens the gate (a file it creates).
GATE_VARIABLE = "JOBS_TEST_GATE"


@task()
def wait_for_gate() -> str:
    gate = Path(os.environ[GATE_VARIABLE])
    deadline = time.monotonic() + 60
    while not gate.exists():
        if time.monotonic() > deadline:
            raise TimeoutError("the gate was never opened")
        time.sleep(0.05)
    return "passed"
