from __future__ import annotations

import base64
import stat

import pytest

from samverkan.lib.env import (
    ConfigError,
    Env,
    development_secret,
    parse_audit_key,
    parse_encryption_keys,
)


def test_bool_is_strict():
    env = Env({"A": "true", "B": "0", "C": "maybe"})
    assert env.get_bool("A", False) is True
    assert env.get_bool("B", True) is False
    assert env.get_bool("MISSING", True) is True
    with pytest.raises(ConfigError, match="C must be true or false"):
        env.get_bool("C", False)


def test_int_is_strict_and_bounded():
    env = Env({"N": "12", "BAD": "12x", "LOW": "2"})
    assert env.get_int("N", 0) == 12
    with pytest.raises(ConfigError, match="whole number"):
        env.get_int("BAD", 0)
    with pytest.raises(ConfigError, match="at least 5"):
        env.get_int("LOW", 10, minimum=5)


def test_choice_and_list():
    env = Env({"MODE": "prod", "HOSTS": "a.example, b.example", "EMPTY": "a,,b"})
    with pytest.raises(ConfigError, match="must be one of"):
        env.get_choice("MODE", ("development", "production"), "development")
    assert env.get_list("HOSTS", []) == ["a.example", "b.example"]
    with pytest.raises(ConfigError, match="empty item"):
        env.get_list("EMPTY", [])


def test_secret_from_file(tmp_path):
    path = tmp_path / "secret"
    path.write_text("s3cret\n")
    assert Env({"KEY_FILE": str(path)}).raw("KEY") == "s3cret"
    with pytest.raises(ConfigError, match="cannot read"):
        Env({"KEY_FILE": str(tmp_path / "missing")}).raw("KEY")
    with pytest.raises(ConfigError, match="both set"):
        Env({"KEY": "x", "KEY_FILE": str(path)}).raw("KEY")


def test_audit_key():
    assert len(parse_audit_key("K", "ab" * 32)) == 32
    with pytest.raises(ConfigError, match="hexadecimal"):
        parse_audit_key("K", "xyz")
    with pytest.raises(ConfigError, match="at least 32 bytes"):
        parse_audit_key("K", "ab" * 16)


def test_encryption_keys_keep_order_and_are_checked():
    k1 = base64.b64encode(b"1" * 32).decode()
    k2 = base64.b64encode(b"2" * 32).decode()
    keys = parse_encryption_keys("E", f"new:{k2},old:{k1}")
    assert list(keys) == ["new", "old"]
    assert keys["old"] == b"1" * 32
    for bad, message in (
        ("nokey", "id:base64key"),
        (f"a:{k1},a:{k2}", "appears twice"),
        ("a:!!!", "not valid base64"),
        (f"a:{base64.b64encode(b'short').decode()}", "must be 32 bytes"),
        (f"bad id:{k1}", "may hold only"),
    ):
        with pytest.raises(ConfigError, match=message):
            parse_encryption_keys("E", bad)


def test_development_secret_is_created_once_and_private(tmp_path):
    first = development_secret(tmp_path, "k", "one")
    second = development_secret(tmp_path, "k", "two")
    assert first == second == "one"
    mode = (tmp_path / "keys" / "k").stat().st_mode
    assert stat.S_IMODE(mode) == 0o600
