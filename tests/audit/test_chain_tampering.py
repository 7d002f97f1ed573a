"""Tampering that the simpler tamper tests in test_audit_log.py do not reach: every stored field
is part of the hashed content, a broken link is caught even when the event's own hash was
recomputed, and a log rewritten consistently with the key is caught by a checkpoint."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from samverkan.audit.chain import GENESIS_HASH, EventRecord, compute_hash, verify_chain
from samverkan.audit.models import AuditEvent, ChainHead
from samverkan.audit.sealing import audit_seal
from samverkan.audit.selectors import Checkpoint, audit_verify
from samverkan.audit.services import audit_record
from samverkan.lib import context
from tests.audit.sealing import seal, sealed, seq

# Run again through pgbouncer in transaction mode in CI (.ci/run: -m postgresql).
pytestmark = pytest.mark.postgresql


def lift_append_only() -> None:
    """Disable the append-only triggers, as an attacker with database access could (the
    autouse fixture in tests/conftest.py puts them back for the next test)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
        else:
            cursor.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
            cursor.execute("DROP TRIGGER IF EXISTS audit_event_no_delete")


def write_case_events(world, n: int = 3) -> list[AuditEvent]:
    """Events with every field filled in, as a web request about a case writes them."""
    ctx = context.RequestContext(request_id="a1b2c3d4" * 4, source="web", ip="192.0.2.10")
    with context.bound(ctx), transaction.atomic():
        events = [
            audit_record(
                action="entry.viewed",
                agency=world.avesta_school,
                object_type="cases.entry",
                object_id=str(100 + i),
                case_id=7,
                legal_basis="consent:3",
                details={"n": i},
            )
            for i in range(n)
        ]
    return sealed(events)


# The stored value each field is changed to; each differs from what write_case_events wrote.
TAMPERED: dict[str, Any] = {
    "legal_basis": "statutory:concern_report",
    "case_id": 8,
    "agency_id": None,  # filled in with another agency's id in the test
    "object_type": "cases.case",
    "ip": "198.51.100.7",
    "request_id": "f" * 32,
}


@pytest.mark.django_db
@pytest.mark.parametrize("field", sorted(TAMPERED))
def test_tampering_with_any_stored_field_is_named(world, field):
    """Issue 19 mutation 4: legal_basis (and case_id, agency_id, object_type, ip, request_id)
    is part of the hashed content, so changing it in the database breaks verification."""
    events = write_case_events(world)
    target = seq(events[1])
    value = world.police.pk if field == "agency_id" else TAMPERED[field]
    assert getattr(events[1], field) != value
    assert audit_verify().ok
    lift_append_only()
    assert AuditEvent.objects.filter(seq=target).update(**{field: value}) == 1
    assert getattr(AuditEvent.objects.get(seq=target), field) == value
    result = audit_verify()
    assert not result.ok
    assert result.first_bad_seq == target
    assert "modified" in result.problem
    with pytest.raises(CommandError, match=f"BROKEN at event {target}:"):
        call_command("audit", "verify")


def _reseal_one(seq: int, *, prev_hash: str) -> None:
    """Give event ``seq`` another link and a hash the key reproduces for it."""
    record = replace(AuditEvent.objects.get(seq=seq).to_record(), prev_hash=prev_hash)
    AuditEvent.objects.filter(seq=seq).update(
        prev_hash=prev_hash, hash=compute_hash(record, settings.AUDIT_KEY)
    )


@pytest.mark.django_db
def test_a_broken_link_is_named_even_when_the_event_hash_was_recomputed(world):
    """Issue 19 mutation 5: the link check (prev_hash equals the previous event's hash) is
    enforced on its own, not only through the event's hash."""
    events = write_case_events(world, 4)
    target = seq(events[2])
    lift_append_only()
    # Event 3 now claims to follow event 1, as if event 2 had been cut out of the chain; its
    # own hash is recomputed with the key, so only the link can tell.
    _reseal_one(target, prev_hash=events[0].hash)
    stored = AuditEvent.objects.get(seq=target)
    assert compute_hash(stored.to_record(), settings.AUDIT_KEY) == stored.hash
    result = audit_verify()
    assert not result.ok
    assert result.first_bad_seq == target
    assert "does not link" in result.problem
    with pytest.raises(CommandError, match=f"BROKEN at event {target}:"):
        call_command("audit", "verify")


def test_a_resealed_event_with_a_foreign_link_is_named_by_the_pure_check():
    """Issue 19 mutation 5: verify_chain checks each event's link to its predecessor."""
    key = bytes(range(32))
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    chain = seal(
        [
            EventRecord(seq=0, occurred_at=t0 + timedelta(seconds=i), action="a.b", outcome="x")
            for i in range(4)
        ],
        key,
    )
    relinked = replace(chain[2], prev_hash=GENESIS_HASH, hash="")
    relinked = replace(relinked, hash=compute_hash(relinked, key))
    result = verify_chain([chain[0], chain[1], relinked, chain[3]], key)
    assert not result.ok
    assert result.first_bad_seq == 3
    assert "does not link" in result.problem


def _rewrite_whole_log(*, change_seq: int) -> None:
    """Change one event's details and re-seal every event from the genesis with the key, and
    move the head: a rewrite that the chain alone cannot tell from the original."""
    audit_seal()
    lift_append_only()
    prev = GENESIS_HASH
    last = 0
    for event in AuditEvent.objects.order_by("seq"):
        record = event.to_record()
        details = {**record.details, "rewritten": True} if seq(event) == change_seq else None
        if details is not None:
            record = replace(record, details=details)
        record = replace(record, prev_hash=prev)
        digest = compute_hash(record, settings.AUDIT_KEY)
        changes: dict[str, Any] = {"prev_hash": prev, "hash": digest}
        if details is not None:
            changes["details"] = details
        AuditEvent.objects.filter(seq=seq(event)).update(**changes)
        prev, last = digest, seq(event)
    ChainHead.objects.filter(pk=1).update(seq=last, hash=prev)


@pytest.mark.django_db
def test_a_log_rewritten_with_the_key_fails_against_the_checkpoint(world, tmp_path):
    """Issue 19 mutation 6: verify with a checkpoint compares the stored hash at the
    checkpoint's sequence number, so a consistently rewritten log is caught."""
    events = write_case_events(world, 3)
    out = tmp_path / "head.json"
    call_command("audit", "checkpoint", "--out", str(out))
    checkpoint = Checkpoint.from_file(out)
    write_case_events(world, 2)  # the log goes on after the checkpoint
    call_command("audit", "verify", "--checkpoint", str(out))

    _rewrite_whole_log(change_seq=seq(events[1]))
    assert AuditEvent.objects.get(seq=seq(events[1])).details["rewritten"] is True
    assert AuditEvent.objects.get(seq=checkpoint.seq).hash != checkpoint.hash
    # The chain and the head agree with themselves: without the checkpoint all looks well.
    assert audit_verify().ok
    call_command("audit", "verify")

    result = audit_verify(checkpoint=checkpoint)
    assert not result.ok
    assert result.first_bad_seq == checkpoint.seq
    assert "rewritten" in result.problem
    with pytest.raises(CommandError, match="rewritten"):
        call_command("audit", "verify", "--checkpoint", str(out))
