"""No task runs twice at once: the worker's fence comes before any reaper may reclaim its task
(review M5, m5). Helpers are test_crash's."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django_tasks.base import TaskResultStatus

from samverkan.jobs.heartbeat import Heartbeat, worker_status
from samverkan.jobs.models import WorkerHeartbeat
from samverkan.jobs.reaper import reap_lost_tasks
from tests.jobs.processes import wait_for
from tests.jobs.test_crash import STALE, Lost, beat, fetch, running

pytestmark = pytest.mark.usefixtures("db_backend")

HOST_TIME = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d")


class Clock:
    """The worker's monotonic clock, moved by the test."""

    def __init__(self, *readings: float) -> None:
        self.readings = list(readings)

    def __call__(self) -> float:
        return self.readings.pop(0) if len(self.readings) > 1 else self.readings[0]

    def set(self, value: float) -> None:
        self.readings = [value]

    def add(self, seconds: float) -> None:
        self.readings = [self.readings[0] + seconds]


def test_the_fence_counts_from_before_a_beat_was_sent(db):
    # A beat whose UPDATE stalls for 15 s: the row holds the database's time of the UPDATE,
    # no earlier than when it was sent, so the worker must count its silence from the send.
    clock = Clock(1000.0)
    lost = Lost()
    heartbeat = Heartbeat(worker_id="w1", every=10, stale=STALE, on_lost=lost, clock=clock)
    beat("w1", seconds_ago=0)

    def stall(execute, sql, params, many, context):
        clock.add(15)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(stall):
        assert heartbeat.beat()
    clock.set(1000 + (STALE - 10) + 1)  # the deadline counted from the send has passed
    assert not heartbeat.beat()
    assert len(lost.reasons) == 1
    assert lost.reasons[0].startswith("no heartbeat written for 51s")


def test_the_fence_fires_by_itself_while_no_beat_comes_back(db):
    # Beats hang in the database (none returns): the watchdog still fences at the deadline.
    clock = Clock(1000.0, 1000.0, 1000.0 + STALE)  # made, started, then silent
    fired = threading.Event()

    def on_lost(reason: str) -> None:
        fired.set()

    heartbeat = Heartbeat(worker_id="w1", every=10, stale=STALE, on_lost=on_lost, clock=clock)
    heartbeat.start()
    try:
        assert fired.wait(10), "the watchdog did not fence the worker"
    finally:
        heartbeat.stop()


def _host_times_sent(run: Callable[[], Any]) -> list[object]:
    sent: list[object] = []

    def capture(execute, sql, params, many, context):
        for value in params or ():
            if isinstance(value, (datetime, date)) or (
                isinstance(value, str) and HOST_TIME.match(value)
            ):
                sent.append(value)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        run()
    return sent


def test_beats_and_limits_are_the_database_clock(db):
    """No reading of a worker's own clock goes into a beat or a reaper's judgement, so the
    hosts' clocks need not agree."""
    heartbeat = Heartbeat(worker_id="w1", every=10, stale=STALE, on_lost=Lost())

    def start_and_stop() -> None:
        heartbeat.start()
        heartbeat.stop()

    assert _host_times_sent(start_and_stop) == []
    beat("w1", seconds_ago=0)
    assert _host_times_sent(heartbeat.beat) == []
    beat("dead", seconds_ago=STALE + 5)
    task = running(workers=("dead",), seconds_ago=1)
    orphan = running(workers=("gone",), seconds_ago=STALE + 5)
    failed = running(workers=("gone", "gone", "gone"), seconds_ago=STALE + 5)
    reclaimed: list[str] = []
    sent = _host_times_sent(
        lambda: reclaimed.extend(item.task_id for item in reap_lost_tasks(stale_seconds=STALE))
    )
    assert sent == []
    assert sorted(reclaimed) == sorted(str(row.pk) for row in (task, orphan, failed))
    assert fetch(failed).finished_at is not None
    assert _host_times_sent(worker_status) == []


def test_a_late_beat_never_leaves_a_reclaimed_task_to_a_worker_that_keeps_its_row(db):
    """The worker's beat lands just after the reaper began: either the row is fresh and
    nothing is reclaimed, or the row is gone and the worker fences; never a task queued again
    while its worker still has a row (and so runs on)."""
    beat("w1", seconds_ago=STALE + 5)
    task = running(workers=("w1",))
    lost = Lost()
    heartbeat = Heartbeat(worker_id="w1", every=10, stale=STALE, on_lost=lost)
    landed: list[bool] = []

    def late_beat(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        reads_rows = sql.startswith("SELECT") and "LIMIT 1" not in sql
        if not landed and reads_rows and '"jobs_workerheartbeat"' in sql:
            # In production this beat comes from the worker's own connection; on PostgreSQL it
            # then waits for the reaper's row lock and finds the row gone, on SQLite for the
            # write lock. On the reaper's connection it lands at the very same point.
            landed.append(heartbeat.beat())
        return result

    with connection.execute_wrapper(late_beat):
        reclaimed = reap_lost_tasks(stale_seconds=STALE)
    assert landed == [True]
    row_kept = WorkerHeartbeat.objects.filter(worker_id="w1").exists()
    queued_again = fetch(task).status == TaskResultStatus.READY
    assert not (queued_again and row_kept)
    assert [item.worker_id for item in reclaimed] == ["w1"]  # the row was taken first …
    assert not heartbeat.beat()  # … so the worker's next beat fences it
    assert lost.reasons == ["its heartbeat was removed: another worker took it for dead"]


def test_each_worker_is_judged_by_its_own_stale_limit(db):
    beat("slow", seconds_ago=90, stale=120)  # beats every 30 s: alive
    beat("quick", seconds_ago=45, stale=30)  # beats every 10 s: dead
    slow = running(workers=("slow",))
    quick = running(workers=("quick",))
    status = worker_status()
    assert {(w.worker_id, w.alive) for w in status.workers} == {("slow", True), ("quick", False)}
    (item,) = reap_lost_tasks(stale_seconds=STALE)
    assert item.worker_id == "quick"
    assert fetch(quick).status == TaskResultStatus.READY
    assert fetch(slow).status == TaskResultStatus.RUNNING
    assert list(WorkerHeartbeat.objects.values_list("worker_id", flat=True)) == ["slow"]


def test_a_worker_writes_its_own_stale_limit(db):
    heartbeat = Heartbeat(worker_id="w1", every=5, stale=25, on_lost=Lost())
    heartbeat.start()
    try:
        assert WorkerHeartbeat.objects.get().stale_after == timedelta(seconds=25)
    finally:
        heartbeat.stop()


def _beat_waits_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # else fixed for the transaction
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock' AND query LIKE 'UPDATE \"jobs_workerheartbeat\"%%'"
        )
        return bool(cursor.fetchone()[0])


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_a_late_beat_from_the_workers_own_connection_waits_and_then_fences(db_backend):
    """PostgreSQL, two real connections: the worker's beat arrives just after the reaper took
    the dead rows; it waits for the reaper's lock, finds its row gone and fences."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks of two connections: PostgreSQL")
    beat("w1", seconds_ago=STALE + 5)
    task = running(workers=("w1",))
    lost = Lost()
    heartbeat = Heartbeat(worker_id="w1", every=10, stale=STALE, on_lost=lost)
    outcome: list[bool] = []

    def worker_beats() -> None:
        try:
            outcome.append(heartbeat.beat())
        finally:
            connection.close()

    beater = threading.Thread(target=worker_beats)

    def late_beat(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        takes_rows = sql.startswith("SELECT") and "LIMIT 1" not in sql
        if beater.ident is None and takes_rows and '"jobs_workerheartbeat"' in sql:
            beater.start()
            # On until the beat has either committed or waits for the reaper's lock.
            assert wait_for(lambda: not beater.is_alive() or _beat_waits_for_a_lock(), 30)
        return result

    with connection.execute_wrapper(late_beat):
        reclaimed = reap_lost_tasks(stale_seconds=STALE)
    beater.join(30)
    assert [item.worker_id for item in reclaimed] == ["w1"]
    assert fetch(task).status == TaskResultStatus.READY
    assert not WorkerHeartbeat.objects.exists()
    assert outcome == [False]
    assert lost.reasons == ["its heartbeat was removed: another worker took it for dead"]
