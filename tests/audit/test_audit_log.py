"""The audit log in the database: chaining, append-only triggers, tamper detection, commands."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from samverkan.audit.models import AuditEvent, ChainHead
from samverkan.audit.sealing import audit_seal
from samverkan.audit.selectors import Checkpoint, audit_verify
from samverkan.audit.services import AuditDetailError, audit_record
from tests.audit.sealing import sealed, seq

# Run again through pgbouncer in transaction mode in CI (.ci/run: -m postgresql).
pytestmark = pytest.mark.postgresql


def write_events(n: int) -> list[AuditEvent]:
    """Events written and sealed (on PostgreSQL the sealer's work; SQLite seals inline)."""
    with transaction.atomic():
        ids = [audit_record(action="test.event", details={"n": i}).pk for i in range(n)]
    audit_seal()
    return list(AuditEvent.objects.filter(pk__in=ids).order_by("seq"))


def raw(sql: str, params: list[Any] | None = None) -> None:
    """Tamper with the table as an attacker with database access would."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
        else:
            cursor.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
            cursor.execute("DROP TRIGGER IF EXISTS audit_event_no_delete")
        cursor.execute(sql, params or [])


def last_seq() -> int:
    return AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


@pytest.mark.django_db
class TestChain:
    def test_events_are_numbered_and_linked(self):
        events = write_events(3)
        seqs = [seq(e) for e in events]
        assert seqs == list(range(seqs[0], seqs[0] + 3))
        assert events[1].prev_hash == events[0].hash
        assert events[2].prev_hash == events[1].hash
        head = ChainHead.objects.get(pk=1)
        assert (head.seq, head.hash) == (seq(events[2]), events[2].hash)

    def test_intact_log_verifies(self):
        write_events(5)
        result = audit_verify()
        assert result.ok
        assert result.count == last_seq()

    def test_event_rolls_back_with_the_action(self):
        before = last_seq()

        def failing_action() -> None:
            with transaction.atomic():
                audit_record(action="test.event")
                raise RuntimeError("the action failed")

        with pytest.raises(RuntimeError):
            failing_action()
        assert last_seq() == before
        assert audit_verify().ok

    def test_identity_numbers_never_enter_details(self):
        with pytest.raises(AuditDetailError), transaction.atomic():
            audit_record(action="test.event", details={"note": "190101-0101"})
        with pytest.raises(AuditDetailError), transaction.atomic():
            audit_record(action="test.event", details={"note": "200012241234"})
        with pytest.raises(AuditDetailError), transaction.atomic():
            audit_record(action="test.event", details={"Free Text": "x"})

    def test_many_events_in_one_call_chain_in_order(self):
        from samverkan.audit.services import Subject, audit_record_many

        before = last_seq()
        with transaction.atomic():
            events = audit_record_many(
                action="test.bulk",
                subjects=[Subject("cases.entry", str(i), 7) for i in range(30)],
            )
        events = sealed(events)
        assert [e.seq for e in events] == list(range(before + 1, before + 31))
        assert all(e.case_id == 7 for e in events)
        assert audit_verify().ok
        with transaction.atomic():
            assert audit_record_many(action="test.bulk", subjects=[]) == []

    def test_action_names_are_checked(self):
        with pytest.raises(ValueError, match=r"noun\.verb"), transaction.atomic():
            audit_record(action="Logged in!")


@pytest.mark.django_db
class TestAppendOnly:
    def test_update_is_refused(self):
        write_events(1)
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE audit_auditevent SET action = 'x.y'")

    def test_delete_is_refused(self):
        write_events(1)
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM audit_auditevent")

    def test_orm_delete_is_refused(self):
        write_events(1)
        with pytest.raises(DatabaseError), transaction.atomic():
            AuditEvent.objects.all().delete()

    @pytest.mark.skipif("connection.vendor != 'postgresql'")
    def test_truncate_is_refused_on_postgresql(self):
        write_events(1)
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("TRUNCATE audit_auditevent")


@pytest.mark.django_db
class TestTamperDetection:
    def test_modified_event_is_named(self):
        events = write_events(5)
        target = seq(events[2])
        raw("UPDATE audit_auditevent SET outcome = 'denied' WHERE seq = %s", [target])
        result = audit_verify()
        assert not result.ok
        assert result.first_bad_seq == target
        assert "modified" in result.problem

    def test_deleted_event_is_named(self):
        events = write_events(5)
        target = seq(events[1])
        raw("DELETE FROM audit_auditevent WHERE seq = %s", [target])
        result = audit_verify()
        assert not result.ok
        assert result.first_bad_seq == target

    def test_inserted_event_is_named(self):
        events = write_events(3)
        # Make room after the first event and insert a forged one there.
        first = seq(events[0])
        raw("UPDATE audit_auditevent SET seq = seq + 1000 WHERE seq > %s", [first])
        raw("UPDATE audit_auditevent SET seq = seq - 999 WHERE seq > %s", [first + 999])
        raw(
            "INSERT INTO audit_auditevent (seq, occurred_at, action, object_type, object_id, "
            "legal_basis, outcome, request_id, source, details, prev_hash, hash) "
            "VALUES (%s, %s, 'x.forged', '', '', '', 'allowed', '', '', %s, %s, %s)",
            [first + 1, events[0].occurred_at, json.dumps({}), events[0].hash, "f" * 64],
        )
        result = audit_verify()
        assert not result.ok
        assert result.first_bad_seq == first + 1

    def test_reordered_events_are_named(self):
        events = write_events(4)
        a, b = seq(events[1]), seq(events[2])
        raw("UPDATE audit_auditevent SET seq = 999999999 WHERE seq = %s", [a])
        raw("UPDATE audit_auditevent SET seq = %s WHERE seq = %s", [a, b])
        raw("UPDATE audit_auditevent SET seq = %s WHERE seq = 999999999", [b])
        result = audit_verify()
        assert not result.ok
        assert result.first_bad_seq == a

    def test_truncated_tail_is_caught_by_the_head_row(self):
        events = write_events(4)
        raw("DELETE FROM audit_auditevent WHERE seq = %s", [seq(events[-1])])
        result = audit_verify()
        assert not result.ok
        assert "chain head" in result.problem

    def test_truncated_tail_with_rewound_head_is_caught_by_a_checkpoint(self):
        events = write_events(4)
        checkpoint = Checkpoint(
            seq=seq(events[-1]), hash=events[-1].hash, time=events[-1].occurred_at
        )
        raw("DELETE FROM audit_auditevent WHERE seq >= %s", [seq(events[-2])])
        ChainHead.objects.filter(pk=1).update(seq=seq(events[-3]), hash=events[-3].hash)
        assert audit_verify().ok  # without the checkpoint the shorter log looks whole
        result = audit_verify(checkpoint=checkpoint)
        assert not result.ok
        assert "truncated" in result.problem
        assert result.first_bad_seq == seq(events[-2])


@pytest.mark.django_db
class TestCommands:
    def test_verify_reports_count_and_head(self, capsys):
        write_events(3)
        call_command("audit", "verify")
        out = capsys.readouterr().out
        head = ChainHead.objects.get(pk=1)
        assert f"{head.seq} sealed events" in out
        assert head.hash in out

    def test_verify_fails_naming_the_event(self):
        events = write_events(3)
        raw("UPDATE audit_auditevent SET action = 'x.y' WHERE seq = %s", [seq(events[1])])
        with pytest.raises(CommandError, match=f"event {seq(events[1])}"):
            call_command("audit", "verify")

    def test_checkpoint_round_trip_and_truncation(self, tmp_path):
        write_events(3)
        before = last_seq()
        out = tmp_path / "head.json"
        call_command("audit", "checkpoint", "--out", str(out))
        data = json.loads(out.read_text())
        assert data["seq"] == before  # the head it signed; its own event comes after
        assert oct(out.stat().st_mode & 0o777) == "0o600"
        call_command("audit", "verify", "--checkpoint", str(out))
        raw("DELETE FROM audit_auditevent WHERE seq >= %s", [data["seq"]])
        ChainHead.objects.filter(pk=1).update(
            seq=data["seq"] - 1, hash=AuditEvent.objects.get(seq=data["seq"] - 1).hash
        )
        with pytest.raises(CommandError, match="truncated"):
            call_command("audit", "verify", "--checkpoint", str(out))

    def test_bad_checkpoint_file_is_a_clear_error(self, tmp_path):
        bad = tmp_path / "bad.json"
        bad.write_text("not json")
        with pytest.raises(CommandError, match="not a Samverkan audit checkpoint"):
            call_command("audit", "verify", "--checkpoint", str(bad))


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_do_not_fork_the_chain():
    """Writers in parallel threads, each in its own transaction: one chain, no gaps."""
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            for _ in range(10):
                with transaction.atomic():
                    audit_record(action="test.concurrent")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    result = audit_verify()
    assert result.ok, result.problem
    assert AuditEvent.objects.filter(action="test.concurrent").count() == 40
