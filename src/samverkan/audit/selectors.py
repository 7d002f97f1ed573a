"""Reads of the audit log. Verification streams the table; it never loads it whole."""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from samverkan.audit.chain import (
    GENESIS_HASH,
    EventRecord,
    VerifyResult,
    anchor_signature,
    verify_chain,
)
from samverkan.audit.models import AuditAnchor, AuditEvent, ChainHead


def _stream() -> Iterator[EventRecord]:
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=2000):
        yield event.to_record()


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    time: datetime
    signature: str = ""  # set when the file is a published pruning anchor

    def to_json(self) -> str:
        return json.dumps(
            {"seq": self.seq, "hash": self.hash, "time": self.time.isoformat()}, indent=2
        )

    @classmethod
    def from_file(cls, path: Path) -> Checkpoint:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            seq, digest, time = int(data["seq"]), str(data["hash"]), str(data["time"])
            signature = str(data.get("signature") or "")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path} is not a Samverkan audit checkpoint: {exc}") from None
        if seq < 0 or len(digest) != 64:
            raise ValueError(f"{path} is not a Samverkan audit checkpoint")
        return cls(seq=seq, hash=digest, time=datetime.fromisoformat(time), signature=signature)


def _head() -> ChainHead:
    return ChainHead.objects.filter(pk=1).first() or ChainHead(pk=1)


def audit_head() -> Checkpoint:
    head = _head()
    return Checkpoint(seq=head.seq, hash=head.hash, time=timezone.now())


def _anchor_is_signed(anchor: AuditAnchor) -> bool:
    expected = anchor_signature(
        settings.AUDIT_KEY,
        pruned_through=anchor.pruned_through,
        pruned_hash=anchor.pruned_hash,
        pruned_time=anchor.pruned_time,
        ip_truncated_through=anchor.ip_truncated_through,
        created_at=anchor.created_at,
    )
    return hmac.compare_digest(expected, anchor.signature)


def audit_anchor() -> tuple[AuditAnchor | None, VerifyResult | None]:
    """The newest pruning anchor, once every anchor's signature and order is checked.

    Returns the anchor (None before the first pruning) and, when an anchor is forged, altered
    or out of order, a failed result naming it.
    """
    previous: AuditAnchor | None = None
    for anchor in AuditAnchor.objects.order_by("id"):
        problem = ""
        if not _anchor_is_signed(anchor):
            problem = (
                f"the pruning anchor at event {anchor.pruned_through} is not signed with the "
                "audit key (forged or altered)"
            )
        elif previous is not None and (
            anchor.pruned_through < previous.pruned_through
            or anchor.ip_truncated_through < previous.ip_truncated_through
        ):
            problem = f"the pruning anchor at event {anchor.pruned_through} goes backwards"
        if problem:
            return None, VerifyResult(False, 0, 0, GENESIS_HASH, anchor.pruned_through, problem)
        previous = anchor
    return previous, None


def audit_verify(*, checkpoint: Checkpoint | None = None) -> VerifyResult:
    """Verify the chain from its anchor, its agreement with the head row and, if given, a
    checkpoint. Before the first pruning the anchor is the genesis."""
    anchor, broken = audit_anchor()
    if broken is not None:
        return broken
    start_seq = anchor.pruned_through if anchor else 0
    result = verify_chain(
        _stream(),
        settings.AUDIT_KEY,
        start_seq=start_seq,
        start_hash=anchor.pruned_hash if anchor else GENESIS_HASH,
        ip_truncated_through=anchor.ip_truncated_through if anchor else 0,
    )
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
        if checkpoint.seq <= start_seq:
            return _pruned_checkpoint(result, checkpoint)
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


def _pruned_checkpoint(result: VerifyResult, checkpoint: Checkpoint) -> VerifyResult:
    """A checkpoint at or before the anchor: its event is gone, so compare it with the anchors.

    A published anchor must be in the database as it was published; a plain head checkpoint
    that fell among the pruned events can no longer be checked, which is said, not hidden.
    """
    if checkpoint.seq == 0:
        return result
    kept = list(
        AuditAnchor.objects.filter(pruned_through=checkpoint.seq).values_list(
            "pruned_hash", "signature"
        )
    )
    if kept:
        matches = any(digest == checkpoint.hash for digest, _ in kept)
        if checkpoint.signature:
            matches = (checkpoint.hash, checkpoint.signature) in kept
        if matches:
            return result
    elif not checkpoint.signature:
        return replace(
            result,
            note=f"the checkpoint names event {checkpoint.seq}, which has been pruned; check the "
            "log against the pruning anchor published since",
        )
    return VerifyResult(
        False,
        result.count,
        result.head_seq,
        result.head_hash,
        checkpoint.seq,
        f"the pruning anchor at event {checkpoint.seq} differs from the one published on "
        f"{checkpoint.time.isoformat()}: the log was rewritten",
    )
