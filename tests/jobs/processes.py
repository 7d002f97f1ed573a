"""Run ``samverkan worker`` as its own process, on the test database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import connection

# `samverkan worker` with one more periodic job (tests/jobs/crash_worker.py).
CRASH_WORKER = Path(__file__).with_name("crash_worker.py")


def database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return (
        f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    )


def start_worker(
    *args: str, env: dict[str, str] | None = None, script: Path | None = None
) -> subprocess.Popen[str]:
    """``samverkan worker`` as production runs it (or ``script``, which runs it the same way)."""
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SAMVERKAN_", "DJANGO_", "DATABASE_URL"))
    }
    environ.update({"SAMVERKAN_DATA_DIR": str(settings.DATA_DIR), "DATABASE_URL": database_url()})
    environ.update(env or {})
    command = [str(script)] if script else ["-m", "samverkan"]
    return subprocess.Popen(  # noqa: S603 - our own command line
        [sys.executable, *command, "worker", "--interval", "0.2", *args],
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for(condition: Callable[[], bool], seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait()
