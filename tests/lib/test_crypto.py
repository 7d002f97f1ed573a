from __future__ import annotations

import base64

import pytest

from samverkan.lib import crypto

OLD = base64.b64encode(b"o" * 32).decode()
NEW = b"n" * 32


def test_round_trip_and_key_id(settings):
    token = crypto.encrypt("Kalle Anka", aad="youth.name:1")
    assert "Kalle" not in token
    assert crypto.key_id_of(token) == crypto.current_key_id()
    assert crypto.decrypt(token, aad="youth.name:1") == "Kalle Anka"


def test_value_moved_to_another_row_does_not_decrypt():
    token = crypto.encrypt("Kalle Anka", aad="youth.name:1")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token, aad="youth.name:2")


def test_old_keys_still_decrypt_after_rotation(settings):
    settings.ENCRYPTION_KEYS = {"old": b"o" * 32}
    token = crypto.encrypt("hemligt", aad="x")
    settings.ENCRYPTION_KEYS = {"new": NEW, "old": b"o" * 32}
    assert crypto.current_key_id() == "new"
    assert crypto.decrypt(token, aad="x") == "hemligt"
    settings.ENCRYPTION_KEYS = {"new": NEW}
    with pytest.raises(crypto.DecryptionError, match="not in SAMVERKAN_ENCRYPTION_KEYS"):
        crypto.decrypt(token, aad="x")


def test_tampered_ciphertext_is_refused():
    token = crypto.encrypt("hemligt", aad="x")
    prefix, key_id, body = token.split(":", 2)
    raw = bytearray(base64.b64decode(body))
    raw[-1] ^= 1
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(f"{prefix}:{key_id}:{base64.b64encode(bytes(raw)).decode()}", aad="x")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt("garbage", aad="x")


def test_totp_secrets_are_stored_encrypted(personas):
    from allauth.mfa.models import Authenticator

    stored = Authenticator.objects.get(user=personas.practitioner, type="totp").data["secret"]
    assert stored.startswith("v1:")
    assert personas.practitioner.totp_secret not in stored
