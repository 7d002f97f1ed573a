"""Reads of the audit log. Verification streams the table; it never loads it whole."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from samverkan.audit.chain import EventRecord, VerifyResult, verify_chain
from samverkan.audit.models import AuditEvent, ChainHead


def _stream() -> Iterator[EventRecord]:
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=2000):
        yield event.to_record()


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    time: datetime

    def to_json(self) -> str:
        return json.dumps(
            {"seq": self.seq, "hash": self.hash, "time": self.time.isoformat()}, indent=2
        )

    @classmethod
    def from_file(cls, path: Path) -> Checkpoint:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            seq, digest, time = int(data["seq"]), str(data["hash"]), str(data["time"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path} is not a Samverkan audit checkpoint: {exc}") from None
        if seq < 0 or len(digest) != 64:
            raise ValueError(f"{path} is not a Samverkan audit checkpoint")
        return cls(seq=seq, hash=digest, time=datetime.fromisoformat(time))


def _head() -> ChainHead:
    return ChainHead.objects.filter(pk=1).first() or ChainHead(pk=1)


def audit_head() -> Checkpoint:
    head = _head()
    return Checkpoint(seq=head.seq, hash=head.hash, time=timezone.now())


def audit_verify(*, checkpoint: Checkpoint | None = None) -> VerifyResult:
    """Verify the whole chain, its agreement with the head row and, if given, a checkpoint."""
    result = verify_chain(_stream(), settings.AUDIT_KEY)
    if not result.ok:
        return result
    head = _head()
    if head.seq != result.head_seq or head.hash != result.head_hash:
        return VerifyResult(
            False,
            result.count,
            result.head_seq,
            result.head_hash,
            result.head_seq + 1 if head.seq > result.head_seq else head.seq,
            f"the chain head names event {head.seq} but the log ends at event "
            f"{result.head_seq} (events removed from the tail, or the head altered)",
        )
    if checkpoint is not None:
        if checkpoint.seq > result.head_seq:
            return VerifyResult(
                False,
                result.count,
                result.head_seq,
                result.head_hash,
                result.head_seq + 1,
                f"the checkpoint of {checkpoint.time.isoformat()} names event {checkpoint.seq}, "
                f"but the log ends at event {result.head_seq}: the tail was truncated",
            )
        if checkpoint.seq > 0:
            stored = AuditEvent.objects.filter(seq=checkpoint.seq).values_list("hash", flat=True)
            if list(stored) != [checkpoint.hash]:
                return VerifyResult(
                    False,
                    result.count,
                    result.head_seq,
                    result.head_hash,
                    checkpoint.seq,
                    f"event {checkpoint.seq} differs from the checkpoint of "
                    f"{checkpoint.time.isoformat()}: the log was rewritten",
                )
    return result
