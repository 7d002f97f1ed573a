"""The audit log ends (DESIGN rule 19): pruning up to a signed anchor, and IP truncation.

One run, in one transaction, with the chain head locked so no event is written meanwhile:

1. Events older than ``RETENTION_AUDIT_YEARS`` are due to go: everything up to and including
   the last of them. IP addresses of events older than ``RETENTION_AUDIT_IP_DAYS`` are due to be
   truncated (IPv4 to /24, IPv6 to /48).
2. A new anchor is written, signed with the audit key: the sequence number, hash and time of
   the last pruned event, and the last event whose address may now be truncated. Verification
   starts from the newest anchor from then on.
3. The gate row is put in place, the events are deleted and the addresses truncated (the
   triggers allow exactly that while the gate exists, and nothing else), and the gate removed.
4. The run is recorded as an ``audit.pruned`` event, in the same transaction.

After the commit the anchor is published: written as a JSON file that the operator ships off
the host (docs/operations.md). A dry run computes the same figures and changes nothing.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from samverkan.audit.chain import (
    GENESIS_HASH,
    MIN_RETENTION_YEARS,
    anchor_signature,
    truncate_ip,
    years_before,
)
from samverkan.audit.models import AuditAnchor, AuditEvent, ChainHead, PruneGate
from samverkan.audit.services import audit_record


@dataclass(frozen=True)
class PruneReport:
    dry_run: bool
    cutoff: datetime
    ip_cutoff: datetime
    pruned_from: int  # first event pruned (or to be); 0 when none
    pruned_through: int  # last event pruned (or to be); 0 when none
    pruned_count: int
    ip_truncated_count: int
    ip_truncated_through: int
    anchor: AuditAnchor | None = None
    published: Path | None = None

    @property
    def changes(self) -> bool:
        return self.pruned_count > 0 or self.ip_truncated_count > 0


def _last_prunable(base: int, cutoff: datetime) -> AuditEvent | None:
    """The last event after ``base`` that may go at ``cutoff``, or None."""
    # A prefix of the chain, and only events that are all past the cut-off: sequence and
    # time need not agree (a clock stepped back, back-dated synthetic events), so the prefix
    # ends before the first event within the period, whatever older ones follow it.
    first_young = (
        AuditEvent.objects.filter(seq__gt=base, occurred_at__gte=cutoff)
        .order_by("seq")
        .values_list("seq", flat=True)
        .first()
    )
    old = AuditEvent.objects.filter(seq__gt=base, occurred_at__lt=cutoff)
    if first_young is not None:
        old = old.filter(seq__lt=first_young)
    return old.order_by("-seq").first()


def _last_before(moment: datetime) -> int:
    """The sequence number of the last event older than ``moment``; 0 if none."""
    return (
        AuditEvent.objects.filter(occurred_at__lt=moment, seq__isnull=False)
        .order_by("-seq")
        .values_list("seq", flat=True)
        .first()
        or 0
    )


def _pruned_link(
    last_old: AuditEvent | None, latest: AuditAnchor | None
) -> tuple[str, datetime | None]:
    """The hash and time the new anchor names: of the last pruned event, else the previous
    anchor's, else the genesis."""
    if last_old is not None:
        return last_old.hash, last_old.occurred_at
    if latest is not None:
        return latest.pruned_hash, latest.pruned_time
    return GENESIS_HASH, None


def audit_prune(*, dry_run: bool, now: datetime | None = None) -> PruneReport:
    """Prune and truncate what is due (or, with ``dry_run``, only say what that is)."""
    now = now or timezone.now()
    cutoff = years_before(now, max(MIN_RETENTION_YEARS, settings.RETENTION_AUDIT_YEARS))
    ip_cutoff = now - timedelta(days=settings.RETENTION_AUDIT_IP_DAYS)
    with transaction.atomic():
        if not dry_run:
            ChainHead.objects.select_for_update().get_or_create(pk=1)
        latest = AuditAnchor.objects.order_by("-id").first()
        base = latest.pruned_through if latest else 0
        base_ip = latest.ip_truncated_through if latest else 0
        last_old = _last_prunable(base, cutoff)
        # Only sealed events are prunable (the filters compare seq); the chain stays a prefix.
        through = last_old.seq if last_old is not None and last_old.seq is not None else base
        pruned = AuditEvent.objects.filter(seq__gt=base, seq__lte=through)
        pruned_count = pruned.count()
        first = pruned.order_by("seq").values_list("seq", flat=True).first() or 0
        ip_through = max(base_ip, _last_before(ip_cutoff))
        to_truncate = AuditEvent.objects.filter(seq__gt=through, seq__lte=ip_through).exclude(
            ip_salt=""
        )
        report = PruneReport(
            dry_run=dry_run,
            cutoff=cutoff,
            ip_cutoff=ip_cutoff,
            pruned_from=first,
            pruned_through=through if pruned_count else 0,
            pruned_count=pruned_count,
            ip_truncated_count=to_truncate.count(),
            ip_truncated_through=ip_through,
        )
        if dry_run or not report.changes:
            return report
        pruned_hash, pruned_time = _pruned_link(last_old, latest)
        anchor = _new_anchor(through, pruned_hash, pruned_time, ip_through)
        PruneGate.objects.create(pk=1)
        truncated = _truncate(to_truncate)
        deleted, _ = pruned.delete()
        # Removed before the commit, so the way through never outlives this transaction.
        PruneGate.objects.filter(pk=1).delete()
        audit_record(
            action="audit.pruned",
            obj=anchor,
            details={
                "pruned_from": first,
                "pruned_through": through if deleted else 0,
                "pruned_count": deleted,
                "ip_truncated_count": truncated,
                "ip_truncated_through": ip_through,
                "cutoff": cutoff.date().isoformat(),
                "ip_cutoff": ip_cutoff.date().isoformat(),
            },
        )
    published = publish_anchor(anchor, settings.AUDIT_CHECKPOINT_DIR)
    return PruneReport(
        dry_run=False,
        cutoff=cutoff,
        ip_cutoff=ip_cutoff,
        pruned_from=first,
        pruned_through=through if deleted else 0,
        pruned_count=deleted,
        ip_truncated_count=truncated,
        ip_truncated_through=ip_through,
        anchor=anchor,
        published=published,
    )


def _new_anchor(
    through: int, pruned_hash: str, pruned_time: datetime | None, ip_through: int
) -> AuditAnchor:
    # Signed before the insert: the anchor table refuses every UPDATE.
    created = timezone.now()
    signature = anchor_signature(
        settings.AUDIT_KEY,
        pruned_through=through,
        pruned_hash=pruned_hash,
        pruned_time=pruned_time,
        ip_truncated_through=ip_through,
        created_at=created,
    )
    return AuditAnchor.objects.create(
        created_at=created,
        pruned_through=through,
        pruned_hash=pruned_hash,
        pruned_time=pruned_time,
        ip_truncated_through=ip_through,
        signature=signature,
    )


def _truncate(events: QuerySet[AuditEvent]) -> int:
    """Replace each address by its network and drop its salt; one UPDATE per network."""
    by_network: dict[str, list[int]] = {}
    for seq, ip in events.values_list("seq", "ip").iterator(chunk_size=2000):
        # A salt without an address is not written: nothing to truncate. (Every event here is
        # sealed: the filter compares its number.)
        if ip is None or seq is None:
            continue
        by_network.setdefault(truncate_ip(ip), []).append(seq)
    count = 0
    for network, seqs in by_network.items():
        for start in range(0, len(seqs), 500):
            chunk = seqs[start : start + 500]
            count += AuditEvent.objects.filter(seq__in=chunk).update(ip=network, ip_salt="")
    return count


def anchor_json(anchor: AuditAnchor) -> str:
    """The published form; ``seq``, ``hash`` and ``time`` make it a checkpoint file as well."""
    return json.dumps(
        {
            "kind": "samverkan.audit.anchor",
            "seq": anchor.pruned_through,
            "hash": anchor.pruned_hash,
            "time": anchor.created_at.isoformat(),
            "pruned_time": anchor.pruned_time.isoformat() if anchor.pruned_time else None,
            "ip_truncated_through": anchor.ip_truncated_through,
            "signature": anchor.signature,
        },
        indent=2,
    )


def publish_anchor(anchor: AuditAnchor, directory: Path) -> Path:
    """Write the anchor where the operator's shipping picks it up; readable by the owner only."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = directory / f"anchor-{anchor.pk:06d}-event-{anchor.pruned_through}.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(anchor_json(anchor) + "\n")
    return path
