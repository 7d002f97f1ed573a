"""Reads of the audit log. Verification streams the table; it never loads it whole."""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from samverkan.audit import checkpoints
from samverkan.audit.chain import (
    GENESIS_HASH,
    MIN_RETENTION_YEARS,
    RECORD_FIELDS,
    EventRecord,
    VerifyResult,
    anchor_signature,
    verify_chain,
    years_before,
)
from samverkan.audit.models import AuditAnchor, AuditEvent, ChainHead

PAGE = 5000


def sealed_records(
    *, after: int = 0, through: int | None = None, page: int = PAGE
) -> Iterator[EventRecord]:
    """Sealed events in chain order, a page at a time by keyset (``seq > last``), up to
    ``through``.

    No server-side cursor and no transaction held across pages: it works behind pgbouncer in
    transaction mode, and a verification of millions of events holds back nothing. The upper
    bound is applied here, not in the query: ``seq > last ORDER BY seq LIMIT n`` walks the
    unique index whatever the planner's statistics say, where a range it misjudges can make
    every page read the whole rest of the table.
    """
    last = after
    while True:
        rows = AuditEvent.objects.filter(seq__gt=last).order_by("seq")
        batch = list(rows.values_list(*RECORD_FIELDS)[:page])
        for row in batch:
            if through is not None and row[0] > through:
                return
            yield EventRecord(*row)
        if len(batch) < page:
            return
        last = batch[-1][0]


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    time: datetime
    signature: str = ""  # a pruning anchor's HMAC, or a signed checkpoint's Ed25519 signature
    kind: str = ""  # checkpoints.KIND for a signed checkpoint
    key_id: str = ""

    def to_json(self) -> str:
        return json.dumps(
            {"seq": self.seq, "hash": self.hash, "time": self.time.isoformat()}, indent=2
        )

    @property
    def ed25519(self) -> bool:
        return self.kind == checkpoints.KIND

    @classmethod
    def from_file(cls, path: Path) -> Checkpoint:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            seq, digest, time = int(data["seq"]), str(data["hash"]), str(data["time"])
            signature = str(data.get("signature") or "")
            kind, key_id = str(data.get("kind") or ""), str(data.get("key_id") or "")
            moment = datetime.fromisoformat(time.replace("Z", "+00:00"))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"{path} is not a Samverkan audit checkpoint: {exc}") from None
        if seq < 0 or len(digest) != 64 or moment.tzinfo is None:
            raise ValueError(f"{path} is not a Samverkan audit checkpoint")
        return cls(seq, digest, moment, signature, kind, key_id)


def _signature_problem(checkpoint: Checkpoint) -> str:
    """Why a signed checkpoint's signature does not hold, or ``""``."""
    known = [checkpoints.public_key_bytes(), *settings.AUDIT_RETIRED_PUBLIC_KEYS]
    by_id = {checkpoints.key_id_of(key): key for key in known}
    public = by_id.get(checkpoint.key_id)
    if public is None:
        return (
            f"the checkpoint of {checkpoint.time.isoformat()} is signed by key "
            f"{checkpoint.key_id or '(none)'}, neither this installation's key "
            f"{checkpoints.key_id_of(known[0])} nor one in SAMVERKAN_AUDIT_RETIRED_PUBLIC_KEYS"
        )
    valid = checkpoints.signature_valid(
        seq=checkpoint.seq,
        digest=checkpoint.hash,
        created_at=checkpoint.time,
        signature=checkpoint.signature,
        public=public,
    )
    if not valid:
        return (
            f"the checkpoint of {checkpoint.time.isoformat()} does not carry a valid signature "
            "(forged, or altered after it was signed)"
        )
    return ""


def _head() -> ChainHead:
    return ChainHead.objects.filter(pk=1).first() or ChainHead(pk=1)


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
        elif anchor.pruned_time is not None and anchor.pruned_time > years_before(
            anchor.created_at, MIN_RETENTION_YEARS
        ):
            problem = (
                f"the pruning anchor at event {anchor.pruned_through} prunes events younger "
                f"than {MIN_RETENTION_YEARS} years, which no pruning does"
            )
        if problem:
            return None, VerifyResult(False, 0, 0, GENESIS_HASH, anchor.pruned_through, problem)
        previous = anchor
    return previous, None


def audit_verify(
    *,
    checkpoint: Checkpoint | None = None,
    progress: Callable[[int], object] | None = None,
) -> VerifyResult:
    """Verify the sealed chain from its anchor up to the head row as it stood when verification
    began, its agreement with that head and, if given, a checkpoint; count the events not yet
    sealed (an unsealed tail is not a failure). Before the first pruning the anchor is the
    genesis. ``progress`` is called with the number of events verified, every page."""
    head = _head()
    anchor, broken = audit_anchor()
    if broken is not None:
        return broken
    start_seq = anchor.pruned_through if anchor else 0
    events: Iterable[EventRecord] = sealed_records(after=start_seq, through=head.seq)
    if progress is not None:
        events = _reporting(events, progress)
    result = verify_chain(
        events,
        settings.AUDIT_KEY,
        start_seq=start_seq,
        start_hash=anchor.pruned_hash if anchor else GENESIS_HASH,
        ip_truncated_through=anchor.ip_truncated_through if anchor else 0,
    )
    if not result.ok:
        return result
    result = replace(result, unsealed=AuditEvent.objects.filter(seq__isnull=True).count())
    problem = _outside_the_chain(result, head, start_seq=start_seq)
    if problem is not None:
        return problem
    if checkpoint is not None:
        return _against_checkpoint(result, checkpoint, start_seq=start_seq)
    return result


def _outside_the_chain(
    result: VerifyResult, head: ChainHead, *, start_seq: int
) -> VerifyResult | None:
    """Sealed events the walk from the start to the head did not meet, or a head it did not
    end at: a failed result, else None."""
    # Numbered at or below the start: pruned events are deleted with their anchor, so such an
    # event was put outside the chain.
    below = AuditEvent.objects.filter(seq__lte=start_seq).order_by("seq").values_list("seq").first()
    if below is not None:
        return VerifyResult(
            False,
            result.count,
            result.head_seq,
            result.head_hash,
            below[0],
            f"event {below[0]} is numbered at or below where the chain starts (event "
            f"{start_seq}): it was put outside the chain",
        )
    # Sealed events past the head that was read are the sealer's since; past the head as it is
    # now (read after them, and the sealer moves both in one transaction), they are forged.
    last_sealed = AuditEvent.objects.aggregate(last=Max("seq"))["last"] or 0
    now_head = _head()
    if last_sealed > now_head.seq:
        return VerifyResult(
            False,
            result.count,
            result.head_seq,
            result.head_hash,
            now_head.seq + 1,
            f"events up to {last_sealed} are numbered past the chain head at event "
            f"{now_head.seq} (added without the sealer, or the head altered)",
        )
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
    return None


def _against_checkpoint(
    result: VerifyResult, checkpoint: Checkpoint, *, start_seq: int
) -> VerifyResult:
    """A verified chain held against a checkpoint published earlier: its signature (when it is
    a signed one), then whether the log still holds the event it names, as it named it."""
    if checkpoint.ed25519:
        problem = _signature_problem(checkpoint)
        if problem:
            return replace(result, ok=False, first_bad_seq=checkpoint.seq, problem=problem)
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


def _reporting(
    events: Iterable[EventRecord], progress: Callable[[int], object]
) -> Iterator[EventRecord]:
    count = 0
    for count, event in enumerate(events, start=1):
        if count % PAGE == 0:
            progress(count)
        yield event
    progress(count)


def _pruned_checkpoint(result: VerifyResult, checkpoint: Checkpoint) -> VerifyResult:
    """A checkpoint at or before the anchor: its event is gone, so compare it with the anchors.

    A published anchor must be in the database as it was published; a plain head checkpoint
    that fell among the pruned events can no longer be checked, which is said, not hidden.
    """
    if checkpoint.seq == 0:
        if checkpoint.hash == GENESIS_HASH:
            return result
        return replace(
            result,
            ok=False,
            first_bad_seq=0,
            problem="the checkpoint names event 0 with a hash other than the genesis hash",
        )
    if checkpoint.ed25519 and checkpoint.time > years_before(timezone.now(), MIN_RETENTION_YEARS):
        # Signed less than five years ago: the event it names is younger still, and no
        # pruning removes that. Whoever holds the audit key could forge an anchor and delete
        # through it; the signed checkpoint, which they cannot forge, says so.
        return replace(
            result,
            ok=False,
            first_bad_seq=checkpoint.seq,
            problem=f"the checkpoint signed on {checkpoint.time.isoformat()} names event "
            f"{checkpoint.seq}, which is gone, though no pruning removes events younger than "
            f"{MIN_RETENTION_YEARS} years: the log was pruned early or rewritten",
        )
    kept = list(
        AuditAnchor.objects.filter(pruned_through=checkpoint.seq).values_list(
            "pruned_hash", "signature"
        )
    )
    if kept:
        matches = any(digest == checkpoint.hash for digest, _ in kept)
        if checkpoint.signature and not checkpoint.ed25519:
            matches = (checkpoint.hash, checkpoint.signature) in kept
        if matches:
            return result
    elif not checkpoint.signature or checkpoint.ed25519:
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
