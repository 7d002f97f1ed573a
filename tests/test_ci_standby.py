"""``.ci/standby.sh`` lets the standby replicate from the primary on any pg_hba.conf: its
``trust`` line goes first, since PostgreSQL takes the first line that matches."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / ".ci" / "standby.sh"
LINE = "host replication all 127.0.0.1/32 trust"
# Debian 12's pg_hba.conf as installed, comments shortened.
DEBIAN = """\
# PostgreSQL Client Authentication Configuration File
# TYPE  DATABASE        USER            ADDRESS                 METHOD
local   all             postgres                                peer
local   all             all                                     peer
host    all             all             127.0.0.1/32            scram-sha-256
host    all             all             ::1/128                 scram-sha-256
local   replication     all                                     peer
host    replication     all             127.0.0.1/32            scram-sha-256
host    replication     all             ::1/128                 scram-sha-256
"""


BASH = shutil.which("bash") or "/bin/bash"


def _allow(hba: Path) -> None:
    command = [BASH, str(SCRIPT), "--allow-replication", str(hba)]
    subprocess.run(command, check=True)  # noqa: S603 - our own script, fixed arguments


def _rules(hba: Path) -> list[str]:
    return [
        " ".join(line.split())
        for line in hba.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


def test_the_replication_line_goes_first_once(tmp_path: Path) -> None:
    hba = tmp_path / "pg_hba.conf"
    hba.write_text(DEBIAN)
    _allow(hba)
    assert _rules(hba)[0] == LINE
    assert _rules(hba)[1:] == [" ".join(line.split()) for line in DEBIAN.splitlines()[2:]]
    once = hba.read_text()
    _allow(hba)
    assert hba.read_text() == once


def test_a_line_appended_at_the_end_moves_to_the_top(tmp_path: Path) -> None:
    """What the script did before: the line at the end, where a stock file never reaches it."""
    hba = tmp_path / "pg_hba.conf"
    hba.write_text(f"{DEBIAN}{LINE}\n")
    _allow(hba)
    assert _rules(hba).count(LINE) == 1
    assert _rules(hba)[0] == LINE
    assert hba.read_text().count(LINE) == 1
