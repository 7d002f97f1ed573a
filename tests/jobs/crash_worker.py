"""``samverkan worker`` with one more periodic job, ``test.gate`` (hourly, so always due), whose
task runs until the test opens its gate: the kill -9 test (test_crash.py) kills the worker in
the middle of it. Run as ``python tests/jobs/crash_worker.py worker [options]``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the checkout: tests.jobs…
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "samverkan.settings")

import django

django.setup()

from samverkan.cli import main  # noqa: E402
from samverkan.jobs.registry import Every, periodic_job  # noqa: E402
from tests.jobs.sample_tasks import wait_for_gate  # noqa: E402

periodic_job(name="test.gate", every=Every.HOUR, task=wait_for_gate)
main(sys.argv[1:])
