"""Production mode: refuses to start without its secrets, and `check --deploy` is clean."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys

import pytest


def run_cli(*args: str, env: dict[str, str], tmp_path) -> subprocess.CompletedProcess[str]:
    base = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SAMVERKAN_", "DJANGO_", "DATABASE_URL"))
    }
    base.update(
        {"SAMVERKAN_DATA_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3"}
    )
    base.update(env)
    return subprocess.run(  # noqa: S603 - our own CLI, fixed arguments
        [sys.executable, "-m", "samverkan", *args],
        env=base,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def production_env(tmp_path) -> dict[str, str]:
    key_file = tmp_path / "audit.key"
    key_file.write_text(secrets.token_hex(32))
    return {
        "SAMVERKAN_ENV": "production",
        "SAMVERKAN_SECRET_KEY": secrets.token_urlsafe(64),
        "SAMVERKAN_AUDIT_KEY_FILE": str(key_file),
        "SAMVERKAN_ENCRYPTION_KEYS": "k1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        "SAMVERKAN_SEARCH_KEY": secrets.token_hex(32),
        "SAMVERKAN_AUDIT_SIGNING_KEY": secrets.token_hex(32),
        "SAMVERKAN_ALLOWED_HOSTS": "samverkan.example.se",
        "SAMVERKAN_BASE_URL": "https://samverkan.example.se",
    }


@pytest.mark.parametrize(
    "missing",
    [
        "SAMVERKAN_SECRET_KEY",
        "SAMVERKAN_AUDIT_KEY_FILE",
        "SAMVERKAN_ENCRYPTION_KEYS",
        "SAMVERKAN_SEARCH_KEY",
        "SAMVERKAN_AUDIT_SIGNING_KEY",
        "SAMVERKAN_ALLOWED_HOSTS",
        "SAMVERKAN_BASE_URL",
    ],
)
def test_production_refuses_to_start_without_a_secret(tmp_path, missing):
    env = production_env(tmp_path)
    del env[missing]
    result = run_cli("check", env=env, tmp_path=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("samverkan: configuration error:")
    assert missing.removesuffix("_FILE") in lines[0]
    assert not (tmp_path / "keys").exists(), "production must never generate keys"


def test_production_refuses_a_known_default_secret(tmp_path):
    env = production_env(tmp_path) | {"SAMVERKAN_SECRET_KEY": "changeme"}
    result = run_cli("check", env=env, tmp_path=tmp_path)
    assert result.returncode == 2
    assert "known default" in result.stderr


def test_malformed_value_is_a_clear_error(tmp_path):
    result = run_cli("check", env={"SAMVERKAN_SESSION_IDLE_MINUTES": "soon"}, tmp_path=tmp_path)
    assert result.returncode == 2
    assert "SAMVERKAN_SESSION_IDLE_MINUTES must be a whole number" in result.stderr


def test_check_deploy_is_clean_in_production(tmp_path):
    result = run_cli(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env=production_env(tmp_path),
        tmp_path=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_development_generates_keys_once(tmp_path):
    first = run_cli("check", env={}, tmp_path=tmp_path)
    assert first.returncode == 0, first.stderr
    keys = {p.name: p.read_text() for p in (tmp_path / "keys").iterdir()}
    assert set(keys) == {
        "secret_key",
        "audit_key",
        "audit_signing_key",
        "encryption_keys",
        "search_key",
    }
    run_cli("check", env={}, tmp_path=tmp_path)
    assert keys == {p.name: p.read_text() for p in (tmp_path / "keys").iterdir()}


def test_debug_cannot_be_on_in_production(tmp_path):
    env = production_env(tmp_path) | {"SAMVERKAN_DEBUG": "true"}
    assert run_cli("check", env=env, tmp_path=tmp_path).returncode == 2


def test_argon2_is_the_password_hasher():
    import samverkan.settings as real

    assert real.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


def test_bad_log_level_and_port_are_one_line_errors(tmp_path):
    result = run_cli("check", env={"SAMVERKAN_LOG_LEVEL": "LOUD"}, tmp_path=tmp_path)
    assert result.returncode == 2
    assert "SAMVERKAN_LOG_LEVEL must be one of" in result.stderr
    result = run_cli("demo", "--no-serve", env={"PORT": "eighty"}, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "PORT must be a whole number" in result.stderr
    assert "Traceback" not in result.stderr


def test_data_folder_is_private(tmp_path):
    data = tmp_path / "fresh"
    result = run_cli("check", env={"SAMVERKAN_DATA_DIR": str(data)}, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert oct(data.stat().st_mode & 0o777) == "0o700"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SAMVERKAN_AUDIT_SIGNING_KEY": "ab" * 33}, "exactly 32 bytes"),
        ({"SAMVERKAN_AUDIT_RETIRED_PUBLIC_KEYS": "not base64!"}, "is not base64"),
        ({"SAMVERKAN_AUDIT_RETIRED_PUBLIC_KEYS": "AAAA"}, "must be 32 bytes"),
        ({"SAMVERKAN_AUDIT_SEALING": "later"}, "SAMVERKAN_AUDIT_SEALING"),
    ],
)
def test_bad_audit_signing_settings_are_one_line_errors(tmp_path, env, message):
    result = run_cli("check", env=env, tmp_path=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_the_signing_key_must_differ_from_the_audit_key(tmp_path):
    key = secrets.token_hex(32)
    env = {"SAMVERKAN_AUDIT_KEY": key, "SAMVERKAN_AUDIT_SIGNING_KEY": key}
    result = run_cli("check", env=env, tmp_path=tmp_path)
    assert result.returncode == 2
    assert "must differ from SAMVERKAN_AUDIT_KEY" in result.stderr
