"""The `samverkan` command, run as a newcomer runs it: a fresh data folder, a real process."""

from __future__ import annotations

import json

import pytest

from samverkan.lib.totp import totp_code
from tests.web.test_production_config import run_cli


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo")
    result = run_cli("demo", "--no-serve", env={}, tmp_path=path)
    assert result.returncode == 0, result.stderr
    return path, result.stdout


def test_demo_prints_one_login_per_role(demo_dir):
    _, out = demo_dir
    for username in (
        "skola",
        "socialtjanst",
        "polis",
        "fritid",
        "samordnare",
        "avtal",
        "bra",
        "dso",
        "admin",
    ):
        assert f"\n{username} " in out
    for role in (
        "practitioner",
        "coordinator",
        "agreement_editor",
        "council_member",
        "auditor",
        "administrator",
    ):
        assert role in out
    assert "Samverkan-demo-2026" in out


def test_demo_holds_back_the_mail_its_data_would_send(demo_dir):
    """The logins are what a newcomer looks for; mail to fictional people must not bury them."""
    _, out = demo_dir
    assert "e-mails to fictional addresses held back" in out
    assert "Subject:" not in out
    assert "Content-Type:" not in out


def test_demo_is_idempotent(demo_dir):
    path, _ = demo_dir
    again = run_cli("demo", "--no-serve", env={}, tmp_path=path)
    assert again.returncode == 0
    assert "already loaded" in again.stdout


def test_demo_totp_prints_the_current_code(demo_dir):
    path, out = demo_dir
    line = next(line for line in out.splitlines() if line.startswith("admin "))
    secret = line.split()[2]
    result = run_cli("demo", "totp", "admin", env={}, tmp_path=path)
    assert result.returncode == 0, result.stderr
    # The code may roll over between the two computations; accept the neighbouring window.
    import time

    now = time.time()
    assert result.stdout.strip() in {totp_code(secret, at=now), totp_code(secret, at=now - 30)}


def test_demo_totp_rejects_unknown_user(demo_dir):
    path, _ = demo_dir
    result = run_cli("demo", "totp", "nobody", env={}, tmp_path=path)
    assert result.returncode != 0
    assert "not a demo account" in result.stderr


def test_token_create_and_audit_verify(demo_dir):
    path, _ = demo_dir
    created = run_cli("token", "create", "--user", "admin", "--days", "7", env={}, tmp_path=path)
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip().startswith("svk_")
    assert "not shown again" in created.stderr

    unknown = run_cli("token", "create", "--user", "nobody", "--days", "7", env={}, tmp_path=path)
    assert unknown.returncode != 0
    assert "no account named" in unknown.stderr

    verified = run_cli("audit", "verify", env={}, tmp_path=path)
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.startswith("audit chain OK:")

    checkpoint = path / "head.json"
    written = run_cli("audit", "checkpoint", "--out", str(checkpoint), env={}, tmp_path=path)
    assert written.returncode == 0, written.stderr
    assert json.loads(checkpoint.read_text())["seq"] > 0
    again = run_cli("audit", "verify", "--checkpoint", str(checkpoint), env={}, tmp_path=path)
    assert again.returncode == 0, again.stderr


def test_demo_refuses_production(tmp_path):
    from tests.web.test_production_config import production_env

    result = run_cli("demo", "--no-serve", env=production_env(tmp_path), tmp_path=tmp_path)
    assert result.returncode != 0
    assert "not available" in result.stderr


def test_python_dash_m_and_unknown_command(tmp_path):
    result = run_cli("no-such-command", env={}, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "Unknown command" in result.stderr
