"""Jobs survive a crash: the heartbeat, the reaper, ``worker --status``, and a real kill -9."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from samverkan.jobs.heartbeat import Heartbeat
from samverkan.jobs.models import JobRun, WorkerHeartbeat
from samverkan.jobs.reaper import MAX_ATTEMPTS, reap_lost_tasks
from samverkan.jobs.registry import Every, JobRegistry, PeriodicJob
from samverkan.jobs.worker import Worker
from tests.jobs import sample_tasks
from tests.jobs.processes import CRASH_WORKER, start_worker, stop, wait_for

pytestmark = pytest.mark.usefixtures("db_backend")

STALE = 60


def beat(worker_id: str, seconds_ago: float, stale: float = STALE) -> WorkerHeartbeat:
    at = timezone.now() - timedelta(seconds=seconds_ago)
    return WorkerHeartbeat.objects.create(
        worker_id=worker_id,
        host="host",
        pid=1,
        started_at=at,
        beat_at=at,
        stale_after=timedelta(seconds=stale),
    )


def running(task=sample_tasks.echo, *args, workers=("w1",), seconds_ago: float = 120):
    """A task claimed by ``workers`` in turn, the last claim ``seconds_ago``."""
    result = task.enqueue(*args)
    row = DBTaskResult.objects.get(pk=result.id)
    for worker_id in workers:
        row.claim(worker_id)
    DBTaskResult.objects.filter(pk=row.pk).update(
        started_at=timezone.now() - timedelta(seconds=seconds_ago)
    )
    return row


def fetch(row: DBTaskResult) -> DBTaskResult:
    return DBTaskResult.objects.get(pk=row.pk)


def test_a_task_of_a_dead_worker_is_queued_again_and_runs(db, caplog):
    beat("w1", seconds_ago=STALE + 5)
    task = running(sample_tasks.echo, "again")
    with caplog.at_level(logging.WARNING, logger="samverkan.jobs"):
        (item,) = reap_lost_tasks(stale_seconds=STALE)
    assert (item.worker_id, item.attempts, item.status) == ("w1", 1, TaskResultStatus.READY)
    assert fetch(task).status == TaskResultStatus.READY
    assert not WorkerHeartbeat.objects.exists()  # the dead worker is forgotten
    assert "stopped answering; attempt 1 of 3; queued again" in caplog.text
    Worker(jobs=JobRegistry(), worker_id="w2").run_once()
    done = fetch(task)
    assert done.status == TaskResultStatus.SUCCESSFUL
    assert done.return_value == "again"
    assert done.worker_ids == ["w1", "w2"]  # the attempts, on the task itself


def test_a_long_task_of_a_live_worker_is_left_alone(db):
    beat("w1", seconds_ago=1)
    task = running(seconds_ago=3600)
    assert reap_lost_tasks(stale_seconds=STALE) == []
    assert fetch(task).status == TaskResultStatus.RUNNING
    assert WorkerHeartbeat.objects.exists()


def test_a_task_claimed_within_the_stale_limit_is_left_alone(db):
    task = running(seconds_ago=1)  # no heartbeat row at all, but only just claimed
    assert reap_lost_tasks(stale_seconds=STALE) == []
    assert fetch(task).status == TaskResultStatus.RUNNING


def test_a_task_whose_worker_left_no_heartbeat_is_reclaimed(db):
    # For instance a worker of the version before heartbeats, killed mid-task.
    task = running(seconds_ago=STALE + 1)
    (item,) = reap_lost_tasks(stale_seconds=STALE)
    assert item.status == TaskResultStatus.READY
    assert fetch(task).status == TaskResultStatus.READY


def test_after_the_last_attempt_the_task_is_failed(db, caplog):
    workers = tuple(f"w{n}" for n in range(1, MAX_ATTEMPTS + 1))
    task = running(sample_tasks.fail_with_personal_data, workers=workers)
    with caplog.at_level(logging.WARNING, logger="samverkan.jobs"):
        (item,) = reap_lost_tasks(stale_seconds=STALE)
    assert (item.attempts, item.status) == (MAX_ATTEMPTS, TaskResultStatus.FAILED)
    failed = fetch(task)
    assert failed.status == TaskResultStatus.FAILED
    assert failed.finished_at is not None
    assert failed.exception_class_path == "samverkan.jobs.reaper.WorkerLostError"
    assert "stopped answering, 3 times" in failed.traceback
    assert "marked failed" in caplog.text
    assert "Anna" not in caplog.text
    Worker(jobs=JobRegistry()).run_once()
    assert fetch(task).status == TaskResultStatus.FAILED  # not run again


def test_a_reaped_periodic_job_runs_again_in_its_period(db):
    jobs = JobRegistry()
    job = jobs.register(PeriodicJob(name="test.echo", every=Every.DAY, task=sample_tasks.nothing))
    worker = Worker(jobs=jobs, worker_id="w1")
    worker.enqueue_due_jobs()
    run = JobRun.objects.get(job_name=job.name)
    row = DBTaskResult.objects.get(pk=run.task_result_id)
    row.claim("w1")  # … and w1 is killed while it runs
    DBTaskResult.objects.filter(pk=row.pk).update(
        started_at=timezone.now() - timedelta(seconds=STALE + 1)
    )
    summary = Worker(jobs=jobs, worker_id="w2", stale_seconds=STALE).run_once()
    assert summary.enqueued == 0  # the same period, the same JobRun …
    assert summary.ran == 1  # … and its task ran again
    assert fetch(row).status == TaskResultStatus.SUCCESSFUL
    assert JobRun.objects.filter(job_name=job.name).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_reapers_never_both_reclaim_a_task(db_backend):
    tasks = [running(sample_tasks.echo, str(n)) for n in range(5)]
    reapers = 4
    barrier = threading.Barrier(reapers)
    reclaimed: list[str] = []
    errors: list[BaseException] = []

    def reap() -> None:
        try:
            barrier.wait()
            reclaimed.extend(item.task_id for item in reap_lost_tasks(stale_seconds=STALE))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=reap) for _ in range(reapers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(reclaimed) == sorted(str(task.pk) for task in tasks)  # each once
    assert all(fetch(task).worker_ids == ["w1"] for task in tasks)
    assert DBTaskResult.objects.ready().count() == len(tasks)


class Lost:
    def __init__(self) -> None:
        self.reasons: list[str] = []

    def __call__(self, reason: str) -> None:
        self.reasons.append(reason)


def test_a_beat_moves_the_heartbeat(db):
    lost = Lost()
    heartbeat = Heartbeat(worker_id="w1", every=10, stale=STALE, on_lost=lost)
    beat("w1", seconds_ago=30)
    assert heartbeat.beat()
    row = WorkerHeartbeat.objects.get()
    assert timezone.now() - row.beat_at < timedelta(seconds=5)
    assert lost.reasons == []


def test_a_worker_taken_for_dead_stops(db):
    lost = Lost()
    heartbeat = Heartbeat(worker_id="w1", every=10, stale=STALE, on_lost=lost)
    assert not heartbeat.beat()  # its row was deleted by a reaper
    assert lost.reasons == ["its heartbeat was removed: another worker took it for dead"]


def test_a_worker_that_could_not_beat_for_too_long_stops_before_it_is_reaped(db):
    lost = Lost()
    heartbeat = Heartbeat(worker_id="w1", every=10, stale=STALE, on_lost=lost)
    beat("w1", seconds_ago=0)
    heartbeat._last_ok = time.monotonic() - (STALE - 10) - 1  # the database was away
    assert not heartbeat.beat()
    assert len(lost.reasons) == 1
    assert lost.reasons[0].startswith("no heartbeat written for")


def test_the_worker_removes_its_heartbeat_when_it_stops(db):
    sample_tasks.echo.enqueue("x")
    Worker(jobs=JobRegistry(), worker_id="w1").run_once()
    assert not WorkerHeartbeat.objects.exists()


def test_status_shows_the_workers_and_the_queue(db, capsys):
    beat("alive-1", seconds_ago=2)
    beat("dead-1", seconds_ago=STALE + 5)
    running(workers=("alive-1",))
    sample_tasks.echo.enqueue("waiting")
    call_command("worker", "--status")
    out = capsys.readouterr().out
    assert "worker alive-1: alive, host host, pid 1, last heartbeat 2s ago" in out
    assert "running 1" in out
    assert "worker dead-1: silent" in out
    assert "background loops in each worker (not in worker --once): audit.seal\n" in out
    assert out.strip().endswith("workers alive: 1; tasks ready: 1; running: 1")


def test_status_fails_when_no_worker_is_alive(db):
    beat("dead-1", seconds_ago=STALE + 5)
    with pytest.raises(CommandError, match="no worker has written a heartbeat"):
        call_command("worker", "--status")


@pytest.mark.django_db(transaction=True)
def test_kill_9_during_a_periodic_job_then_it_runs_again(db_backend, tmp_path):
    """A real `samverkan worker` is killed with SIGKILL in the middle of a periodic job's task;
    a second worker reclaims the task after the stale limit and runs it to the end."""
    gate = tmp_path / "gate"
    env = {
        sample_tasks.GATE_VARIABLE: str(gate),
        "SAMVERKAN_WORKER_HEARTBEAT_SECONDS": "1",
        "SAMVERKAN_WORKER_STALE_SECONDS": "3",
    }

    def gate_task() -> DBTaskResult | None:
        run = JobRun.objects.filter(job_name="test.gate").first()
        return DBTaskResult.objects.get(pk=run.task_result_id) if run else None

    first = start_worker(env=env, script=CRASH_WORKER)
    second = None
    try:
        assert wait_for(lambda: (t := gate_task()) is not None and t.status == "RUNNING"), (
            "the first worker did not start the periodic job"
        )
        assert WorkerHeartbeat.objects.filter(pid=first.pid).exists()
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        crashed = gate_task()
        assert crashed is not None
        assert fetch(crashed).status == TaskResultStatus.RUNNING  # left by the dead worker
        gate.touch()
        second = start_worker(env=env, script=CRASH_WORKER)
        assert wait_for(lambda: fetch(crashed).status == TaskResultStatus.SUCCESSFUL, 30), (
            "the second worker did not run the reclaimed task"
        )
        assert not WorkerHeartbeat.objects.filter(pid=first.pid).exists()
        assert WorkerHeartbeat.objects.filter(pid=second.pid).exists()
        second.send_signal(signal.SIGINT)
        output, _ = second.communicate(timeout=30)
    finally:
        stop(first)
        if second is not None:
            stop(second)
    done = fetch(crashed)
    assert len(done.worker_ids) == 2  # the killed attempt and the one that finished
    assert done.worker_ids[0] != done.worker_ids[1]
    assert done.return_value == "passed"
    run = JobRun.objects.get(task_result_id=str(done.pk))  # the period's one run …
    assert JobRun.objects.filter(job_name="test.gate", period=run.period).count() == 1
    assert f"task {done.pk} (tests.jobs.sample_tasks.wait_for_gate): worker" in output
    assert "stopped answering; attempt 1 of 3; queued again" in output
    assert second.returncode == 0, output
    assert not WorkerHeartbeat.objects.exists()  # the second one stopped cleanly
