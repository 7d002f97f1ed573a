"""AES-256-GCM under the key ring of ``SAMVERKAN_ENCRYPTION_KEYS``.

A ciphertext names the key that made it, so old values stay readable after a new key is put
first in the ring; re-encryption moves them to the current key. Callers pass associated data
that binds the value to its place (table, column, row), so a value copied elsewhere fails to
decrypt instead of silently moving between records.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

_PREFIX = "v1"


class DecryptionError(Exception):
    """The value is corrupt, was moved from another row, or its key is not in the ring."""


def _ring() -> dict[str, bytes]:
    keys: dict[str, bytes] = settings.ENCRYPTION_KEYS
    return keys


def current_key_id() -> str:
    return next(iter(_ring()))


def encrypt(plaintext: str, *, aad: str) -> str:
    key_id = current_key_id()
    nonce = os.urandom(12)
    sealed = AESGCM(_ring()[key_id]).encrypt(nonce, plaintext.encode("utf-8"), aad.encode("utf-8"))
    return f"{_PREFIX}:{key_id}:{base64.b64encode(nonce + sealed).decode('ascii')}"


def decrypt(token: str, *, aad: str) -> str:
    try:
        prefix, key_id, encoded = token.split(":", 2)
    except ValueError:
        raise DecryptionError("not an encrypted value") from None
    if prefix != _PREFIX:
        raise DecryptionError("unknown encryption format")
    key = _ring().get(key_id)
    if key is None:
        raise DecryptionError(f"key {key_id!r} is not in SAMVERKAN_ENCRYPTION_KEYS")
    try:
        raw = base64.b64decode(encoded, validate=True)
        plain = AESGCM(key).decrypt(raw[:12], raw[12:], aad.encode("utf-8"))
    except (InvalidTag, ValueError):
        raise DecryptionError("the value does not decrypt here") from None
    return plain.decode("utf-8")


def key_id_of(token: str) -> str:
    return token.split(":", 2)[1]
