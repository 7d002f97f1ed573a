"""The audit log ends (DESIGN rule 19, issue 19 legal gap 4): pruning up to a signed anchor,
IP truncation, and verification that still catches tampering afterwards."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from samverkan.audit.chain import anchor_signature, compute_hash, ip_commitment, truncate_ip
from samverkan.audit.models import AuditAnchor, AuditEvent, ChainHead, PruneGate
from samverkan.audit.pruning import audit_prune
from samverkan.audit.selectors import Checkpoint, audit_verify
from samverkan.audit.services import audit_record
from samverkan.audit.tasks import audit_prune_monthly
from samverkan.jobs.registry import registry
from samverkan.lib import context
from tests.audit.sealing import sealed, seq

# Run again through pgbouncer in transaction mode in CI (.ci/run: -m postgresql).
pytestmark = pytest.mark.postgresql

OLD_IP = "192.0.2.10"  # an event past the whole period: pruned
MIDDLE_IP = "198.51.100.77"  # past the IP period only: truncated to 198.51.100.0
MIDDLE_IP6 = "2001:db8:abcd:12::5"  # to 2001:db8:abcd::
YOUNG_IP = "203.0.113.9"  # within both periods: kept whole


def write(n: int, *, ip: str | None, action: str = "test.event") -> list[AuditEvent]:
    ctx = context.RequestContext(request_id="ab" * 16, source="web", ip=ip)
    with context.bound(ctx), transaction.atomic():
        events = [audit_record(action=action, details={"n": i}) for i in range(n)]
    return sealed(events)


def write_at(when: Any, n: int, *, ip: str | None) -> list[AuditEvent]:
    with time_machine.travel(when, tick=False):
        return write(n, ip=ip)


class Log:
    """A log with three generations: eleven years old, one year old, and from today."""

    def __init__(self) -> None:
        now = timezone.now()
        self.old = write_at(now - timedelta(days=11 * 366), 3, ip=OLD_IP)
        self.middle = write_at(now - timedelta(days=366), 2, ip=MIDDLE_IP)
        self.middle6 = write_at(now - timedelta(days=365), 1, ip=MIDDLE_IP6)
        self.young = write(2, ip=YOUNG_IP)
        self.first_kept = self.middle[0].seq


@pytest.fixture
def log(db: None, settings: Any, tmp_path: Path) -> Log:
    settings.RETENTION_AUDIT_YEARS = 10
    settings.RETENTION_AUDIT_IP_DAYS = 180
    settings.AUDIT_CHECKPOINT_DIR = tmp_path / "published"
    return Log()


def snapshot() -> list[tuple[Any, ...]]:
    events = AuditEvent.objects.order_by("seq").values_list("seq", "ip", "ip_salt", "hash")
    anchors = AuditAnchor.objects.values_list("pk", "pruned_through")
    return [*events, *anchors, ("gates", PruneGate.objects.count())]


def lift(table: str = "audit_auditevent") -> None:
    """Lift the append-only triggers, as an attacker with database access could (the autouse
    fixture in tests/conftest.py puts them back for the next test)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        else:
            kind = "event" if table == "audit_auditevent" else "anchor"
            cursor.execute(f"DROP TRIGGER IF EXISTS audit_{kind}_no_update")
            cursor.execute(f"DROP TRIGGER IF EXISTS audit_{kind}_no_delete")


def broken(match: str) -> int | None:
    result = audit_verify()
    assert not result.ok
    assert match in result.problem
    with pytest.raises(CommandError, match="BROKEN"):
        call_command("audit", "verify")
    return result.first_bad_seq


# --- Dry run, and what a run removes ------------------------------------------------------


def test_a_dry_run_reports_and_changes_nothing(log: Log, capsys: Any) -> None:
    before = snapshot()
    report = audit_prune(dry_run=True)
    assert report.dry_run
    assert (report.pruned_from, report.pruned_through) == (log.old[0].seq, log.old[-1].seq)
    assert report.pruned_count == 3
    assert report.ip_truncated_count == 3
    assert report.anchor is None
    call_command("audit", "prune", "--dry-run")
    out = capsys.readouterr().out
    assert f"would prune 3 events older than {report.cutoff.date()}" in out
    assert "would truncate the IP address of 3 events" in out
    assert snapshot() == before
    assert not AuditEvent.objects.filter(action="audit.pruned").exists()
    assert not Path(django_settings.AUDIT_CHECKPOINT_DIR).exists()


def test_prune_removes_only_events_past_the_period_and_the_log_still_verifies(log: Log) -> None:
    """Issue 19 mutation 4j: after pruning, verification starts from the anchor."""
    report = audit_prune(dry_run=False)
    assert report.pruned_count == 3
    assert not AuditEvent.objects.filter(seq__in=[e.seq for e in log.old]).exists()
    kept = [*log.middle, *log.middle6, *log.young]
    assert AuditEvent.objects.filter(seq__in=[e.seq for e in kept]).count() == len(kept)
    anchor = AuditAnchor.objects.get()
    assert (anchor.pruned_through, anchor.pruned_hash) == (log.old[-1].seq, log.old[-1].hash)
    result = audit_verify()
    assert result.ok, result.problem
    # The run's own event may wait for the sealer (PostgreSQL); it is counted, not verified.
    assert result.count + result.unsealed == AuditEvent.objects.count()
    call_command("audit", "verify")
    # A second run finds nothing more to do, and leaves no second anchor.
    again = audit_prune(dry_run=False)
    assert (again.pruned_count, again.ip_truncated_count, again.anchor) == (0, 0, None)
    assert AuditAnchor.objects.count() == 1


def test_an_event_within_the_period_is_kept_though_older_ones_follow_it(log: Log) -> None:
    """Sequence and time need not agree (a clock stepped back, back-dated synthetic events):
    pruning removes only the prefix of the chain that is all past the period, and never a
    recent event that an older one follows."""
    late_old = write_at(timezone.now() - timedelta(days=11 * 366), 1, ip=OLD_IP)
    report = audit_prune(dry_run=False)
    assert report.pruned_count == 3
    kept = [*log.middle, *log.middle6, *log.young, *late_old]
    assert AuditEvent.objects.filter(seq__in=[e.seq for e in kept]).count() == len(kept)
    assert AuditAnchor.objects.get().pruned_through == log.old[-1].seq
    assert audit_verify().ok


def test_the_run_is_audited_in_its_own_log(log: Log) -> None:
    report = audit_prune(dry_run=False)
    assert report.anchor is not None
    event = AuditEvent.objects.get(action="audit.pruned")
    assert event.seq == AuditEvent.objects.order_by("-seq").values_list("seq", flat=True)[0]
    assert (event.object_type, event.object_id) == ("audit.auditanchor", str(report.anchor.pk))
    assert event.details["pruned_from"] == log.old[0].seq
    assert event.details["pruned_through"] == log.old[-1].seq
    assert event.details["pruned_count"] == 3
    assert event.details["ip_truncated_count"] == 3
    assert event.details["ip_truncated_through"] == log.middle6[0].seq


def test_the_anchor_is_published_and_checks_out_as_a_checkpoint(log: Log, capsys: Any) -> None:
    call_command("audit", "prune")
    anchor = AuditAnchor.objects.get()
    published = sorted(Path(django_settings.AUDIT_CHECKPOINT_DIR).glob("anchor-*.json"))
    assert len(published) == 1
    assert f"published to {published[0]}" in capsys.readouterr().out
    data = json.loads(published[0].read_text())
    assert (data["seq"], data["hash"], data["signature"]) == (
        anchor.pruned_through,
        anchor.pruned_hash,
        anchor.signature,
    )
    assert published[0].stat().st_mode & 0o077 == 0
    call_command("audit", "verify", "--checkpoint", str(published[0]))
    # The database's anchor no longer matching what was published is a rewrite.
    forged = dict(data, hash="e" * 64)
    published[0].write_text(json.dumps(forged))
    with pytest.raises(CommandError, match="rewritten"):
        call_command("audit", "verify", "--checkpoint", str(published[0]))


def test_a_head_checkpoint_taken_before_pruning_is_reported_as_unverifiable(
    log: Log, tmp_path: Path, capsys: Any
) -> None:
    head = Checkpoint(seq=seq(log.old[1]), hash=log.old[1].hash, time=timezone.now())
    path = tmp_path / "head.json"
    path.write_text(head.to_json())
    audit_prune(dry_run=False)
    result = audit_verify(checkpoint=head)
    assert result.ok
    assert "has been pruned" in result.note
    call_command("audit", "verify", "--checkpoint", str(path))
    assert "has been pruned" in capsys.readouterr().out


# --- Tampering after pruning ---------------------------------------------------------------


def test_modifying_a_remaining_event_is_detected(log: Log) -> None:
    audit_prune(dry_run=False)
    lift()
    AuditEvent.objects.filter(seq=log.young[0].seq).update(action="x.y")
    assert broken("modified") == log.young[0].seq


def test_deleting_a_remaining_event_is_detected(log: Log) -> None:
    audit_prune(dry_run=False)
    lift()
    AuditEvent.objects.filter(seq=log.middle6[0].seq).delete()
    assert broken("missing") == log.middle6[0].seq


def test_reordering_remaining_events_is_detected(log: Log) -> None:
    audit_prune(dry_run=False)
    a, b = log.young[0].seq, log.young[1].seq
    lift()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET seq = 999999999 WHERE seq = %s", [a])
        cursor.execute("UPDATE audit_auditevent SET seq = %s WHERE seq = %s", [a, b])
        cursor.execute("UPDATE audit_auditevent SET seq = %s WHERE seq = 999999999", [b])
    assert broken("does not link") == a


def test_cutting_events_beyond_the_anchor_is_detected(log: Log) -> None:
    """Deleting the oldest events that were not due, as if they had been pruned too."""
    audit_prune(dry_run=False)
    lift()
    AuditEvent.objects.filter(seq__lte=log.middle[-1].seq).delete()
    assert broken("missing") == log.first_kept


def test_deleting_the_anchor_is_detected(log: Log) -> None:
    audit_prune(dry_run=False)
    lift("audit_auditanchor")
    AuditAnchor.objects.all().delete()
    assert broken("event 1 is missing") == 1


def test_an_anchor_forged_without_the_key_is_detected(log: Log) -> None:
    """Issue 19 mutation 4i: an attacker without the key writes an anchor further on and cuts
    the events up to it; the anchor's signature gives it away."""
    audit_prune(dry_run=False)
    target = log.middle[-1]
    created = timezone.now()
    fields: dict[str, Any] = {
        "pruned_through": target.seq,
        "pruned_hash": target.hash,
        "pruned_time": target.occurred_at,
        "ip_truncated_through": target.seq,
    }
    AuditAnchor.objects.create(
        created_at=created,
        signature=anchor_signature(b"not the audit key" * 2, created_at=created, **fields),
        **fields,
    )
    lift()
    AuditEvent.objects.filter(seq__lte=target.seq).delete()
    assert broken("not signed with the audit key") == target.seq


def test_altering_the_anchor_is_detected(log: Log) -> None:
    """Issue 19 mutation 4i: an anchor's fields are covered by its signature."""
    audit_prune(dry_run=False)
    lift("audit_auditanchor")
    AuditAnchor.objects.update(ip_truncated_through=log.young[-1].seq)
    assert broken("not signed with the audit key") == log.old[-1].seq


# --- The database itself ---------------------------------------------------------------------


class _UndoError(Exception):
    pass


def refused(sql: str, params: list[Any], *, gate: bool = False) -> bool:
    """Whether the database refuses the statement; with ``gate``, as if inside a pruning.
    Either way nothing stays: an accepted statement is rolled back."""
    try:
        with transaction.atomic():
            if gate:
                PruneGate.objects.create(pk=1)
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
            raise _UndoError
    except DatabaseError:
        return True
    except _UndoError:
        return False
    raise AssertionError("unreachable")


def test_ordinary_delete_and_update_are_still_refused_by_the_database(log: Log) -> None:
    audit_prune(dry_run=False)
    young = log.young[0].seq
    assert refused("DELETE FROM audit_auditevent", [])
    assert refused("DELETE FROM audit_auditevent WHERE seq = %s", [young])
    assert refused("UPDATE audit_auditevent SET ip = NULL WHERE seq = %s", [young])
    assert refused("DELETE FROM audit_auditanchor", [])
    assert refused("UPDATE audit_auditanchor SET pruned_through = pruned_through + 1", [])
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.all().delete()
    assert audit_verify().ok


def test_the_gate_opens_only_what_pruning_needs(log: Log) -> None:
    """Even with the gate row present, the triggers refuse deleting an event above the anchor
    and changing anything but the IP address and its salt; and the gate never outlives the
    pruning's transaction."""
    audit_prune(dry_run=False)
    young, middle = log.young[0].seq, log.middle[0].seq
    update = "UPDATE audit_auditevent SET "
    assert refused("DELETE FROM audit_auditevent WHERE seq = %s", [young], gate=True)
    assert refused(update + "ip = NULL, ip_salt = '' WHERE seq = %s", [young], gate=True)
    assert refused(update + "action = 'x.y', ip_salt = '' WHERE seq = %s", [middle], gate=True)
    assert refused(update + "ip = '192.0.2.1', ip_salt = 'ab' WHERE seq = %s", [middle], gate=True)
    # What the gate is for passes (rolled back here): the truncation of a covered address.
    assert not refused(update + "ip = '198.51.100.1' WHERE seq = %s", [middle], gate=True)
    assert not PruneGate.objects.exists()
    assert audit_verify().ok


# --- IP truncation -----------------------------------------------------------------------------


def test_ip_addresses_past_their_period_are_truncated_and_the_log_verifies(log: Log) -> None:
    audit_prune(dry_run=False)
    for event in log.middle:
        stored = AuditEvent.objects.get(seq=event.seq)
        assert (stored.ip, stored.ip_salt) == ("198.51.100.0", "")
        assert stored.hash == event.hash
    stored6 = AuditEvent.objects.get(seq=log.middle6[0].seq)
    assert (stored6.ip, stored6.ip_salt) == ("2001:db8:abcd::", "")
    for event in log.young:
        stored = AuditEvent.objects.get(seq=event.seq)
        assert stored.ip == YOUNG_IP
        assert stored.ip_commitment == ip_commitment(stored.ip_salt, YOUNG_IP)
    assert AuditAnchor.objects.get().ip_truncated_through == log.middle6[0].seq
    assert audit_verify().ok


def test_truncate_ip_keeps_the_network_only() -> None:
    assert truncate_ip("192.0.2.255") == "192.0.2.0"
    assert truncate_ip("2001:db8:abcd:ffff::1") == "2001:db8:abcd::"
    assert truncate_ip("192.0.2.0") == "192.0.2.0"  # idempotent: a truncated address stays


def test_only_ip_truncation_is_due_and_gets_an_anchor_of_its_own(
    db: None, settings: Any, tmp_path: Path
) -> None:
    settings.AUDIT_CHECKPOINT_DIR = tmp_path
    settings.RETENTION_AUDIT_IP_DAYS = 30
    events = write_at(timezone.now() - timedelta(days=40), 2, ip=OLD_IP)
    report = audit_prune(dry_run=False)
    assert (report.pruned_count, report.ip_truncated_count) == (0, 2)
    anchor = AuditAnchor.objects.get()
    assert (anchor.pruned_through, anchor.ip_truncated_through) == (0, events[-1].seq)
    assert audit_verify().ok


def test_an_address_changed_within_its_network_is_caught_by_its_commitment(log: Log) -> None:
    """Issue 19 mutation 4h: verification compares a whole address with its commitment."""
    lift()
    AuditEvent.objects.filter(seq=log.young[0].seq).update(ip="203.0.113.200")
    assert broken("does not match its commitment") == log.young[0].seq


def test_a_commitment_recomputed_for_another_address_is_caught_by_the_hash(log: Log) -> None:
    """Issue 19 mutation 4g: the commitment is part of the hashed content, so an attacker
    who knows the salt cannot swap in another address and a matching commitment."""
    event = AuditEvent.objects.get(seq=log.young[0].seq)
    lift()
    other = "203.0.113.200"
    AuditEvent.objects.filter(seq=event.seq).update(
        ip=other, ip_commitment=ip_commitment(event.ip_salt, other)
    )
    assert broken("its hash does not match") == event.seq


def test_a_truncated_address_changed_is_caught_by_the_hash(log: Log) -> None:
    """Issue 19 mutation 4e: the (truncated) address is part of the hashed content, which is
    all that protects it once its salt is gone."""
    audit_prune(dry_run=False)
    lift()
    AuditEvent.objects.filter(seq=log.middle[0].seq).update(ip="203.0.113.0")
    assert broken("its hash does not match") == log.middle[0].seq


def test_an_address_truncated_without_an_anchor_is_detected(log: Log) -> None:
    """Truncating (and so hiding) a recent address needs a signed anchor covering it."""
    audit_prune(dry_run=False)
    lift()
    AuditEvent.objects.filter(seq=log.young[0].seq).update(ip="203.0.113.0", ip_salt="")
    assert broken("no signed anchor covers it") == log.young[0].seq


def test_events_from_before_commitments_still_verify(db: None) -> None:
    """An event hashed with its full address (written before this version) keeps verifying."""
    event = write(1, ip=YOUNG_IP)[0]
    record = replace(event.to_record(), ip_salt="", ip_commitment="")
    lift()
    AuditEvent.objects.filter(seq=event.seq).update(
        ip_salt="", ip_commitment="", hash=compute_hash(record, django_settings.AUDIT_KEY)
    )
    ChainHead.objects.filter(pk=1).update(hash=compute_hash(record, django_settings.AUDIT_KEY))
    assert audit_verify().ok
    AuditEvent.objects.filter(seq=event.seq).update(ip="203.0.113.10")
    assert broken("its hash does not match") == event.seq


# --- Settings and schedule ---------------------------------------------------------------------


def _start(**env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "samverkan", "audit", "prune", "--dry-run"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SAMVERKAN_RETENTION_AUDIT_IP_DAYS": "0"}, "must be at least 1"),
        (
            {"SAMVERKAN_RETENTION_AUDIT_YEARS": "5", "SAMVERKAN_RETENTION_AUDIT_IP_DAYS": "1826"},
            "must not be longer than SAMVERKAN_RETENTION_AUDIT_YEARS",
        ),
        ({"SAMVERKAN_RETENTION_AUDIT_YEARS": "4"}, "must be at least 5"),
    ],
)
def test_the_periods_are_validated_at_start_up(env: dict[str, str], message: str) -> None:
    done = _start(**env)
    assert done.returncode != 0
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_the_defaults() -> None:
    assert django_settings.RETENTION_AUDIT_YEARS == 10
    assert django_settings.RETENTION_AUDIT_IP_DAYS == 180


def test_pruning_is_a_monthly_job(log: Log, settings: Any) -> None:
    job = next(j for j in registry if j.name == "audit.prune")
    assert job.every == "monthly"
    assert registry.problems(backend=job.task.backend) == []
    # Left to cron where the worker's role may not delete audit events.
    settings.AUDIT_PRUNE_IN_WORKER = False
    audit_prune_monthly.call()
    assert not AuditAnchor.objects.exists()
    settings.AUDIT_PRUNE_IN_WORKER = True
    audit_prune_monthly.call()
    assert AuditAnchor.objects.get().pruned_through == log.old[-1].seq
    assert audit_verify().ok


def test_an_address_is_committed_to_as_the_column_stores_it(db: None) -> None:
    """An IPv6 address written in capitals is stored compressed and lower case; its commitment
    must be to the stored form, or the event would fail verification when read back."""
    event = write(1, ip="2001:DB8:0:0::1")[0]
    stored = AuditEvent.objects.get(seq=event.seq)
    assert stored.ip == "2001:db8::1"
    assert stored.ip_commitment == ip_commitment(stored.ip_salt, "2001:db8::1")
    assert audit_verify().ok
