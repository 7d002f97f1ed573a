"""The log review settings are checked when the settings load."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def load(tmp_path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("SAMVERKAN_LOG_REVIEW")}
    base.update({"SAMVERKAN_DATA_DIR": str(tmp_path), **env})
    code = "from samverkan import settings as s;print(s.LOG_REVIEW_HOURS, s.LOG_REVIEW_DAILY_CASES)"
    return subprocess.run(  # noqa: S603 - our own settings module, fixed arguments
        [sys.executable, "-c", code], env=base, capture_output=True, text=True, check=False
    )


def test_defaults(tmp_path):
    result = load(tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "(7, 19) 20"


def test_values_from_the_environment(tmp_path):
    result = load(tmp_path, SAMVERKAN_LOG_REVIEW_HOURS="8-17", SAMVERKAN_LOG_REVIEW_DAILY_CASES="5")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "(8, 17) 5"


@pytest.mark.parametrize("hours", ["19-07", "7", "seven-19", "07-25", "07-19-21"])
def test_bad_hours_stop_the_start(tmp_path, hours):
    result = load(tmp_path, SAMVERKAN_LOG_REVIEW_HOURS=hours)
    assert result.returncode != 0
    assert "SAMVERKAN_LOG_REVIEW_HOURS" in result.stderr
