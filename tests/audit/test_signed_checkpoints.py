"""Signed checkpoints (D28): an insider holding the database and the audit key cannot rewrite
the log past a published checkpoint, nor forge one."""

from __future__ import annotations

import json
import secrets
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from samverkan.audit import checkpoints
from samverkan.audit.chain import GENESIS_HASH, compute_hash
from samverkan.audit.models import AuditCheckpoint, AuditEvent, ChainHead
from samverkan.audit.sealing import audit_seal
from samverkan.audit.selectors import Checkpoint, audit_verify
from samverkan.audit.services import audit_record
from samverkan.jobs.registry import Every, registry

pytestmark = pytest.mark.django_db


def write(n: int) -> None:
    with transaction.atomic():
        for i in range(n):
            audit_record(action="test.event", details={"n": i})
    audit_seal()


def export(tmp_path: Path, name: str = "checkpoint.json") -> Path:
    out = tmp_path / name
    call_command("audit", "checkpoint", "--out", str(out))
    return out


def insider_rewrite(new_key: bytes) -> None:
    """What someone holding the database and the audit key can do: change an event, recompute
    every hash under a new key, move the head, and switch the installation to that key."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
        else:
            cursor.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
    prev, last = GENESIS_HASH, 0
    for event in AuditEvent.objects.filter(seq__isnull=False).order_by("seq"):
        record = replace(event.to_record(), prev_hash=prev)
        if record.seq == 2:
            record = replace(record, details={"n": 99})
        digest = compute_hash(record, new_key)
        AuditEvent.objects.filter(pk=event.pk).update(
            details=record.details, prev_hash=prev, hash=digest
        )
        prev, last = digest, record.seq
    ChainHead.objects.filter(pk=1).update(seq=last, hash=prev)


def test_the_command_writes_a_signed_checkpoint_that_verifies(tmp_path: Path, capsys: Any) -> None:
    write(3)
    out = export(tmp_path)
    data = json.loads(out.read_text())
    assert data["kind"] == checkpoints.KIND
    assert data["key_id"] == checkpoints.key_id()
    assert (data["seq"], data["hash"]) == (3, AuditEvent.objects.get(seq=3).hash)
    stored = AuditCheckpoint.objects.get()
    assert stored.signature == data["signature"]
    assert AuditEvent.objects.filter(action="audit.checkpoint_exported").exists()
    write(2)  # the log goes on
    call_command("audit", "verify", "--checkpoint", str(out))
    assert "extends the checkpoint" in capsys.readouterr().out


def test_an_insider_rewrite_with_a_new_key_is_caught_by_the_published_checkpoint(
    tmp_path: Path, settings: Any
) -> None:
    write(4)
    out = export(tmp_path)
    new_key = secrets.token_bytes(32)
    insider_rewrite(new_key)
    settings.AUDIT_KEY = new_key
    # The rewritten log agrees with itself and with the new key ...
    assert audit_verify().ok
    # ... but not with what was published before.
    result = audit_verify(checkpoint=Checkpoint.from_file(out))
    assert not result.ok
    assert result.first_bad_seq == 4
    assert "rewritten" in result.problem
    with pytest.raises(CommandError, match="rewritten"):
        call_command("audit", "verify", "--checkpoint", str(out))


def test_a_checkpoint_forged_to_match_a_rewrite_fails_its_signature(tmp_path: Path) -> None:
    write(3)
    out = export(tmp_path)
    data = json.loads(out.read_text())
    data["hash"] = "e" * 64  # what a rewritten log's head would be
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(data))
    with pytest.raises(CommandError, match="valid signature"):
        call_command("audit", "verify", "--checkpoint", str(forged))


def test_a_checkpoint_signed_with_another_key_is_refused(tmp_path: Path, settings: Any) -> None:
    write(2)
    out = export(tmp_path)
    settings.AUDIT_SIGNING_KEY = secrets.token_bytes(32)
    result = audit_verify(checkpoint=Checkpoint.from_file(out))
    assert not result.ok
    assert "neither this installation's key" in result.problem


def test_a_checkpoint_signed_before_a_key_rotation_verifies_with_the_retired_public_key(
    tmp_path: Path, settings: Any
) -> None:
    write(2)
    out = export(tmp_path)
    retired = checkpoints.public_key_bytes()
    settings.AUDIT_SIGNING_KEY = secrets.token_bytes(32)
    settings.AUDIT_RETIRED_PUBLIC_KEYS = [retired]
    assert audit_verify(checkpoint=Checkpoint.from_file(out)).ok
    # A retired key does not make a forged file pass.
    data = json.loads(out.read_text())
    data["seq"] = 1
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(data))
    assert "valid signature" in audit_verify(checkpoint=Checkpoint.from_file(forged)).problem


def test_an_insider_who_prunes_past_a_recent_signed_checkpoint_is_caught(
    tmp_path: Path, settings: Any
) -> None:
    """Whoever holds the database and the audit key can sign an anchor at the head and delete
    every event through pruning's gate; a checkpoint signed within the retention period says
    that its event cannot have been pruned."""
    from django.utils import timezone

    from samverkan.audit.chain import anchor_signature
    from samverkan.audit.models import AuditAnchor, PruneGate

    write(4)
    out = export(tmp_path)
    audit_seal()
    head = ChainHead.objects.get(pk=1)
    now = timezone.now()
    claimed_old = datetime(2000, 1, 1, tzinfo=UTC)  # old enough to pass as pruned
    signature = anchor_signature(
        settings.AUDIT_KEY,
        pruned_through=head.seq,
        pruned_hash=head.hash,
        pruned_time=claimed_old,
        ip_truncated_through=head.seq,
        created_at=now,
    )
    with transaction.atomic():
        AuditAnchor.objects.create(
            pruned_through=head.seq,
            pruned_hash=head.hash,
            pruned_time=claimed_old,
            ip_truncated_through=head.seq,
            created_at=now,
            signature=signature,
        )
        PruneGate.objects.create(pk=1)
        AuditEvent.objects.filter(seq__lte=head.seq).delete()
        PruneGate.objects.filter(pk=1).delete()
    assert audit_verify().ok  # the chain alone cannot tell
    result = audit_verify(checkpoint=Checkpoint.from_file(out))
    assert not result.ok
    assert "pruned early or rewritten" in result.problem


def test_a_checkpoint_of_the_empty_log_must_carry_the_genesis_hash(tmp_path: Path) -> None:
    out = tmp_path / "empty.json"
    out.write_text(json.dumps({"seq": 0, "hash": "a" * 64, "time": "2026-12-01T00:00:00+00:00"}))
    result = audit_verify(checkpoint=Checkpoint.from_file(out))
    assert not result.ok
    assert "genesis" in result.problem


def test_signatures_are_ed25519_over_sequence_hash_and_time() -> None:
    write(1)
    made = checkpoints.checkpoint_make()
    public = checkpoints.public_key_bytes()

    def valid(seq: int, signature: str) -> bool:
        return checkpoints.signature_valid(
            seq=seq,
            digest=made.hash,
            created_at=made.created_at,
            signature=signature,
            public=public,
        )

    assert valid(made.seq, made.signature)
    assert not valid(made.seq + 1, made.signature)
    assert not valid(made.seq, "00" * 64)


def test_checkpoints_are_append_only() -> None:
    checkpoints.checkpoint_make()
    for sql in (
        "UPDATE audit_auditcheckpoint SET seq = 99",
        "DELETE FROM audit_auditcheckpoint",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)


def test_the_worker_makes_one_every_hour() -> None:
    (job,) = [j for j in registry if j.name == "audit.checkpoint"]
    assert job.every == Every.HOUR
    write(2)
    job.task.call()
    made = AuditCheckpoint.objects.get()
    assert made.seq == 2
    assert AuditEvent.objects.filter(action="audit.checkpoint_made").exists()


def test_an_anchor_that_claims_to_prune_young_events_is_refused(settings: Any) -> None:
    from django.utils import timezone

    from samverkan.audit.chain import anchor_signature
    from samverkan.audit.models import AuditAnchor

    write(2)
    now = timezone.now()
    fields: dict[str, Any] = {
        "pruned_through": 1,
        "pruned_hash": AuditEvent.objects.get(seq=1).hash,
        "pruned_time": now,
        "ip_truncated_through": 1,
        "created_at": now,
    }
    AuditAnchor.objects.create(**fields, signature=anchor_signature(settings.AUDIT_KEY, **fields))
    result = audit_verify()
    assert not result.ok
    assert "younger than 5 years" in result.problem
