"""Strict parsing of configuration from the environment.

A value that is present but malformed is an error, never a silent default: a typo in
production configuration must stop start-up rather than weaken security. Every secret can
also be given as ``NAME_FILE`` pointing at a file (Docker/Kubernetes secrets, systemd
credentials), so secrets need not sit in the process environment.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


class ConfigError(Exception):
    """A configuration value is missing or malformed. The message is one line for the operator."""


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}

# Values that must never be accepted as production secrets (examples from our own docs).
KNOWN_DEFAULT_SECRETS = frozenset(
    {
        "",
        "changeme",
        "change-me",
        "secret",
        "insecure",
        "development",
        "django-insecure",
    }
)


@dataclass(frozen=True)
class Env:
    environ: Mapping[str, str]

    def raw(self, name: str) -> str | None:
        """The value of ``name``, or the content of the file named by ``NAME_FILE``."""
        direct = self.environ.get(name)
        file_name = self.environ.get(f"{name}_FILE")
        if direct is not None and file_name is not None:
            raise ConfigError(f"{name} and {name}_FILE are both set; set only one")
        if file_name is not None:
            try:
                return Path(file_name).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(f"{name}_FILE: cannot read {file_name}: {exc.strerror}") from exc
        return direct

    def get_str(self, name: str, default: str) -> str:
        value = self.raw(name)
        return default if value is None else value.strip()

    def get_choice(self, name: str, choices: tuple[str, ...], default: str) -> str:
        value = self.get_str(name, default)
        if value not in choices:
            raise ConfigError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
        return value

    def get_bool(self, name: str, default: bool) -> bool:
        value = self.raw(name)
        if value is None:
            return default
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ConfigError(f"{name} must be true or false; got {value!r}")

    def get_int(
        self, name: str, default: int, *, minimum: int = 0, maximum: int | None = None
    ) -> int:
        value = self.raw(name)
        if value is None:
            return default
        try:
            number = int(value.strip(), 10)
        except ValueError:
            raise ConfigError(f"{name} must be a whole number; got {value!r}") from None
        if number < minimum or (maximum is not None and number > maximum):
            upper = "" if maximum is None else f" and at most {maximum}"
            raise ConfigError(f"{name} must be at least {minimum}{upper}; got {number}")
        return number

    def get_list(self, name: str, default: list[str]) -> list[str]:
        value = self.raw(name)
        if value is None:
            return default
        items = [item.strip() for item in value.split(",")]
        if any(not item for item in items):
            raise ConfigError(f"{name} has an empty item; got {value!r}")
        return items


def parse_audit_key(name: str, value: str) -> bytes:
    """An HMAC key (audit chain, search hash): hex, at least 32 bytes."""
    try:
        key = bytes.fromhex(value.strip())
    except ValueError:
        raise ConfigError(f"{name} must be hexadecimal") from None
    if len(key) < 32:
        raise ConfigError(f"{name} must be at least 32 bytes (64 hex digits); got {len(key)}")
    return key


def parse_public_keys(name: str, values: list[str]) -> list[bytes]:
    """Ed25519 public keys, each 32 bytes in base64."""
    keys: list[bytes] = []
    for value in values:
        try:
            key = base64.b64decode(value, validate=True)
        except ValueError:
            raise ConfigError(f"{name}: {value!r} is not base64") from None
        if len(key) != 32:
            raise ConfigError(f"{name}: each key must be 32 bytes; got {len(key)}")
        keys.append(key)
    return keys


def parse_encryption_keys(name: str, value: str) -> dict[str, bytes]:
    """``id:base64key,id:base64key``; the first is the current key. Order is preserved."""
    keys: dict[str, bytes] = {}
    for item in value.split(","):
        key_id, sep, encoded = item.strip().partition(":")
        if not sep or not key_id or not encoded:
            raise ConfigError(f"{name}: each key must be written id:base64key")
        if not key_id.isascii() or not key_id.replace("-", "").replace("_", "").isalnum():
            raise ConfigError(f"{name}: key id {key_id!r} may hold only letters, digits, - and _")
        if len(key_id) > 16:
            raise ConfigError(f"{name}: key id {key_id!r} is longer than 16 characters")
        try:
            key = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise ConfigError(f"{name}: key {key_id!r} is not valid base64") from None
        if len(key) != 32:
            raise ConfigError(f"{name}: key {key_id!r} must be 32 bytes; got {len(key)}")
        if key_id in keys:
            raise ConfigError(f"{name}: key id {key_id!r} appears twice")
        keys[key_id] = key
    return keys


def development_secret(data_dir: Path, filename: str, generate: str) -> str:
    """Read a development secret from the data folder, creating it once if absent.

    Only ever used when ``SAMVERKAN_ENV=development``. The file is created with mode 0600 and
    ``O_EXCL`` so two processes starting together cannot end up with different keys.
    """
    keys_dir = data_dir / "keys"
    keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = keys_dir / filename
    if not path.exists():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(generate)
    return path.read_text(encoding="utf-8").strip()


def new_secret_key() -> str:
    return secrets.token_urlsafe(50)


def new_audit_key() -> str:
    return secrets.token_hex(32)


def new_encryption_keys() -> str:
    return "k1:" + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


@dataclass(frozen=True)
class Rate:
    amount: int
    seconds: int

    def __post_init__(self) -> None:
        if self.amount < 1 or self.seconds < 1:
            raise ValueError("a rate needs a positive amount and period")


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(text: str) -> Rate:
    """``"20/15m"``: at most 20 in any 15 minutes (``lib/limits.py``)."""
    amount, _, period = text.strip().partition("/")
    if not period or period[-1] not in _UNITS:
        raise ValueError(f"a rate looks like 20/15m (s, m, h or d); got {text!r}")
    count = period[:-1] or "1"
    if not (amount.isdigit() and count.isdigit()):
        raise ValueError(f"a rate looks like 20/15m (s, m, h or d); got {text!r}")
    return Rate(int(amount), int(count) * _UNITS[period[-1]])
