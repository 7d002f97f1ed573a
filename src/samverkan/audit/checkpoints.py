"""Signed checkpoints of the audit chain (D28): proof that an insider cannot rewrite the log.

The HMAC chain stops anyone *without* the audit key. Whoever holds the database and the key
could recompute every hash; what stops them is a statement of the head, made earlier and kept
elsewhere, that the rewritten log no longer extends. A checkpoint is that statement: sequence
number, hash and time, signed with Ed25519 under ``SAMVERKAN_AUDIT_SIGNING_KEY`` (a key apart
from the HMAC key). The worker makes one every hour; ``samverkan audit checkpoint`` makes one
on demand; ``/audit/checkpoints/`` publishes the recent ones, with the public key, so that
anyone may keep copies. They hold no personal data: a number, a hash, a time.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from samverkan.audit.models import AuditCheckpoint, ChainHead
from samverkan.audit.services import audit_record

KIND = "samverkan.audit.checkpoint.v2"


def _private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(settings.AUDIT_SIGNING_KEY)


def public_key_bytes() -> bytes:
    return _private_key().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def public_key_b64() -> str:
    return base64.b64encode(public_key_bytes()).decode("ascii")


def key_id_of(public: bytes) -> str:
    """A short name for a public key: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(public).hexdigest()[:16]


def key_id() -> str:
    return key_id_of(public_key_bytes())


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def message(*, seq: int, digest: str, created_at: datetime) -> bytes:
    """The signed bytes: canonical JSON of what a checkpoint asserts."""
    payload = {"kind": KIND, "seq": seq, "hash": digest, "time": _when(created_at)}
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


def signature_valid(
    *, seq: int, digest: str, created_at: datetime, signature: str, public: bytes
) -> bool:
    try:
        raw = bytes.fromhex(signature)
        Ed25519PublicKey.from_public_bytes(public).verify(
            raw, message(seq=seq, digest=digest, created_at=created_at)
        )
    except (ValueError, InvalidSignature):
        return False
    return True


@dataclass(frozen=True)
class Published:
    """A checkpoint as published: what a file or the public feed carries."""

    seq: int
    hash: str
    time: datetime
    key_id: str
    signature: str

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": KIND,
            "seq": self.seq,
            "hash": self.hash,
            "time": _when(self.time),
            "key_id": self.key_id,
            "signature": self.signature,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)


def published(checkpoint: AuditCheckpoint) -> Published:
    return Published(
        checkpoint.seq,
        checkpoint.hash,
        checkpoint.created_at,
        checkpoint.key_id,
        checkpoint.signature,
    )


def checkpoint_make(*, exported: bool = False) -> AuditCheckpoint:
    """Sign the sealed head as it now stands, store the checkpoint, and record that it was
    made (or exported to a file, ``exported``), in one transaction."""
    with transaction.atomic():
        head = ChainHead.objects.filter(pk=1).first() or ChainHead(pk=1)
        now = timezone.now()
        signature = _private_key().sign(message(seq=head.seq, digest=head.hash, created_at=now))
        checkpoint = AuditCheckpoint.objects.create(
            created_at=now,
            seq=head.seq,
            hash=head.hash,
            key_id=key_id(),
            signature=signature.hex(),
        )
        audit_record(
            action="audit.checkpoint_exported" if exported else "audit.checkpoint_made",
            obj=checkpoint,
            details={"seq": head.seq},
        )
    return checkpoint


def recent(limit: int = 50) -> list[AuditCheckpoint]:
    return list(AuditCheckpoint.objects.order_by("-id")[:limit])
