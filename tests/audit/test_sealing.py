"""Append, then seal (D28): writers take no lock, the sealer numbers committed events.

On PostgreSQL events are written unsealed and sealed by ``audit_seal`` (the worker's loop, or
``samverkan audit seal``); on SQLite every writer seals inline. The append-only triggers let
exactly one update through on an unsealed event: its place, link and hash, once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from typing import Any

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import DatabaseError, close_old_connections, connection, transaction

from samverkan.audit.models import AuditEvent, ChainHead
from samverkan.audit.sealing import audit_seal, seal_batch, seal_status
from samverkan.audit.selectors import audit_verify
from samverkan.audit.services import audit_record, seals_inline
from tests.jobs.processes import database_url, wait_for


def postgresql_only(test: Any) -> Any:
    """PostgreSQL only (SQLite seals inline; nothing is left to seal); run through pgbouncer
    too in CI (marker ``postgresql``)."""
    skip = pytest.mark.skipif(
        "connection.vendor != 'postgresql'", reason="SQLite seals inline; nothing is left to seal"
    )
    return pytest.mark.postgresql(skip(test))


def write(n: int, action: str = "test.event") -> list[int]:
    with transaction.atomic():
        return [audit_record(action=action, details={"n": i}).pk for i in range(n)]


def head_seq() -> int:
    # A transactional test starts with the head row flushed away; the sealer makes it again.
    return ChainHead.objects.filter(pk=1).values_list("seq", flat=True).first() or 0


def refused(sql: str, params: list[Any]) -> bool:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    except DatabaseError:
        return True
    return False


@pytest.mark.django_db
def test_sqlite_seals_as_it_writes() -> None:
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    assert seals_inline()
    ids = write(3)
    assert list(AuditEvent.objects.filter(pk__in=ids).values_list("seq", flat=True)) == [1, 2, 3]
    assert seal_status().unsealed == 0


@postgresql_only
@pytest.mark.django_db
class TestDeferred:
    def test_writers_append_unsealed_and_the_sealer_numbers_them_in_order(self) -> None:
        ids = write(4)
        assert not AuditEvent.objects.filter(pk__in=ids, seq__isnull=False).exists()
        assert ChainHead.objects.get(pk=1).seq == 0
        status = seal_status()
        assert status.unsealed == 4
        assert status.oldest_unsealed is not None
        result = audit_verify()
        # An unsealed tail is reported, not failed.
        assert (result.ok, result.count, result.unsealed) == (True, 0, 4)

        assert audit_seal() == 4
        stored = list(AuditEvent.objects.filter(pk__in=ids).order_by("id"))
        assert [e.seq for e in stored] == [1, 2, 3, 4]
        assert stored[1].prev_hash == stored[0].hash
        head = ChainHead.objects.get(pk=1)
        assert (head.seq, head.hash) == (4, stored[-1].hash)
        result = audit_verify()
        assert (result.ok, result.count, result.unsealed) == (True, 4, 0)
        assert seal_status().lag.total_seconds() == 0
        assert audit_seal() == 0

    def test_batches_continue_where_the_last_stopped(self) -> None:
        write(7)
        assert seal_batch(limit=3) == 3
        assert seal_status().unsealed == 4
        assert audit_seal(batch=2) == 4
        assert list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True)) == list(
            range(1, 8)
        )
        assert audit_verify().ok

    def test_an_unsealed_event_is_append_only_too(self) -> None:
        (event_id,) = write(1)
        table = "audit_auditevent"
        assert refused(f"UPDATE {table} SET action = 'x.y' WHERE id = %s", [event_id])  # noqa: S608
        assert refused(f"DELETE FROM {table} WHERE id = %s", [event_id])  # noqa: S608
        # Sealing while changing the content is refused: only the three chain columns may move.
        assert refused(
            f"UPDATE {table} SET seq = 1, prev_hash = %s, hash = %s, action = 'x.y' WHERE id = %s",  # noqa: S608
            ["0" * 64, "a" * 64, event_id],
        )
        # A seal without a hash or a link is refused.
        assert refused(f"UPDATE {table} SET seq = 1 WHERE id = %s", [event_id])  # noqa: S608

    def test_a_seal_outside_the_chain_is_refused(self) -> None:
        """A number at or below the head (or below zero), or a link or hash that is not one,
        would put the event outside what verification walks; pruning's gate could then
        delete it unseen."""
        write(2)
        audit_seal()
        (event_id,) = write(1)
        good = ["0" * 64, "d" * 64, event_id]
        sql = "UPDATE audit_auditevent SET seq = %s, prev_hash = %s, hash = %s WHERE id = %s"
        assert refused(sql, [-1, *good])
        assert refused(sql, [2, *good])  # the head is at 2
        assert refused(sql, [3, "x", "d" * 64, event_id])
        assert not refused(sql, [3, *good])  # the form passes; only the key makes it valid

    def test_a_half_sealed_row_cannot_be_written(self) -> None:
        """An unsealed row with a hash would be refused by every seal and stop the sealer."""
        sql = """INSERT INTO audit_auditevent (occurred_at, action, object_type, object_id,
                     legal_basis, outcome, request_id, source, details, prev_hash, hash,
                     ip_salt, ip_commitment, seq)
                 VALUES (now(), 'x.y', '', '', '', 'allowed', '', '', '{}', %s, %s, '', '', %s)"""
        assert refused(sql, ["", "e" * 64, None])
        assert refused(sql, ["", "", 5])
        assert refused(sql, ["0" * 64, "e" * 64, 0])

    def test_a_sealed_event_cannot_be_sealed_again(self) -> None:
        (event_id,) = write(1)
        audit_seal()
        assert refused(
            "UPDATE audit_auditevent SET seq = 9, prev_hash = %s, hash = %s WHERE id = %s",
            ["0" * 64, "b" * 64, event_id],
        )
        assert audit_verify().ok

    def test_a_wrong_seal_by_hand_is_caught_by_verification(self) -> None:
        """The trigger lets a seal through; only the key makes it a valid one."""
        (event_id,) = write(1)
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE audit_auditevent SET seq = 1, prev_hash = %s, hash = %s WHERE id = %s",
                ["0" * 64, "c" * 64, event_id],
            )
        ChainHead.objects.filter(pk=1).update(seq=1, hash="c" * 64)
        result = audit_verify()
        assert not result.ok
        assert result.first_bad_seq == 1
        assert "modified" in result.problem

    def test_inline_sealing_can_be_chosen(self, settings: Any) -> None:
        settings.AUDIT_SEALING = "inline"
        ids = write(2)
        assert list(AuditEvent.objects.filter(pk__in=ids).values_list("seq", flat=True)) == [1, 2]

    def test_status_command_shows_the_lag(self, capsys: pytest.CaptureFixture[str]) -> None:
        write(2)
        call_command("audit", "status")
        out = capsys.readouterr().out
        assert "unsealed events: 2" in out
        assert "seal lag:" in out
        with pytest.raises(CommandError, match="seal lag"):
            call_command("audit", "status", "--max-lag", "0")
        call_command("audit", "seal")
        assert "sealed 2 events" in capsys.readouterr().out
        call_command("audit", "status", "--max-lag", "0")


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_many_writers_interleaved_with_the_sealer_leave_no_gap_and_no_duplicate() -> None:
    """Eight writer threads (own connections, own transactions, some rolled back) and two
    sealers running all along: every committed event is sealed exactly once, 1..N, no gap."""
    writers, rounds = 8, 25
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer(index: int) -> None:
        try:
            for n in range(rounds):
                try:
                    with transaction.atomic():
                        audit_record(action="test.event", details={"w": index, "n": n})
                        audit_record(action="test.event", details={"w": index, "n": n})
                        if n % 5 == 4:
                            raise RuntimeError("roll back")
                except RuntimeError:
                    pass
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    def sealer() -> None:
        try:
            while not stop.is_set():
                audit_seal(batch=7)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    # Two sealers, as two workers run them: they queue on the chain head, never both seal.
    sealers = [threading.Thread(target=sealer) for _ in range(2)]
    for thread in sealers:
        thread.start()
    threads = [threading.Thread(target=writer, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stop.set()
    for thread in sealers:
        thread.join()
    assert not errors, errors
    audit_seal()

    committed = writers * rounds * 2 * 4 // 5
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert len(seqs) == committed
    assert seqs == list(range(1, committed + 1))
    result = audit_verify()
    assert (result.ok, result.count, result.unsealed) == (True, committed, 0)


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_sealer_killed_mid_batch_loses_nothing_and_the_next_run_continues() -> None:
    total = 60_000
    with transaction.atomic(), connection.cursor() as cursor:
        # A backlog as many writers leave it, written in one statement for speed.
        cursor.execute(
            """INSERT INTO audit_auditevent (occurred_at, action, object_type, object_id,
                   legal_basis, outcome, request_id, source, details, prev_hash, hash,
                   ip_salt, ip_commitment)
               SELECT now(), 'test.event', '', g::text, '', 'allowed', '', 'worker',
                      jsonb_build_object('n', g), '', '', '', ''
                 FROM generate_series(1, %s) AS g""",
            [total],
        )
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SAMVERKAN_")}
    environ.update(
        SAMVERKAN_DATA_DIR=str(settings.DATA_DIR),
        DATABASE_URL=database_url(),
        SAMVERKAN_AUDIT_KEY=settings.AUDIT_KEY.hex(),
    )
    sealer = subprocess.Popen(
        [sys.executable, "-m", "samverkan", "audit", "seal"],
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # Killed once the first batch has committed and while later ones are under way.
        assert wait_for(lambda: head_seq() > 0, 60), sealer.stderr
        os.kill(sealer.pid, signal.SIGKILL)
    finally:
        sealer.wait()
    assert sealer.returncode == -signal.SIGKILL
    head = head_seq()
    assert 0 < head < total, "the kill came too late to fall mid-run"
    assert AuditEvent.objects.filter(seq__isnull=False).count() == head
    assert audit_verify().ok

    again = subprocess.run(
        [sys.executable, "-m", "samverkan", "audit", "seal"],
        env=environ,
        capture_output=True,
        text=True,
        check=True,
    )
    assert f"sealed {total - head} events" in again.stdout
    result = audit_verify()
    assert (result.ok, result.count, result.unsealed) == (True, total, 0)


def test_the_worker_runs_the_sealer_as_a_background_loop() -> None:
    from samverkan.jobs.loops import loops

    assert "audit.seal" in [loop.name for loop in loops()]


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_running_worker_seals_within_seconds() -> None:
    from tests.jobs.processes import start_worker, stop

    worker = start_worker(env={"SAMVERKAN_AUDIT_SEAL_INTERVAL_MS": "100"})
    try:
        write(5)
        assert wait_for(lambda: seal_status().unsealed == 0, 30)
        write(3)  # and goes on sealing while it runs
        assert wait_for(lambda: seal_status().unsealed == 0, 30)
    finally:
        stop(worker)
    result = audit_verify()
    assert result.ok
    assert result.count >= 8
