"""The scheduler enqueues each due job once per period, however many workers race for it."""

from __future__ import annotations

import logging
import threading
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from samverkan.jobs.models import JobRun
from samverkan.jobs.registry import Every, PeriodicJob
from samverkan.jobs.scheduler import run_due_jobs
from tests.jobs import sample_tasks

pytestmark = pytest.mark.usefixtures("db_backend")


def daily(at: time = time(0, 0)) -> PeriodicJob:
    return PeriodicJob(name="test.daily", every=Every.DAY, task=sample_tasks.nothing, at=at)


def test_a_due_job_is_enqueued_once_per_period(db):
    job = daily()
    # Mid-morning, local time: five minutes later is the same day (a real clock at 23:57 was not).
    now = datetime(2026, 3, 14, 10, 0, tzinfo=ZoneInfo("Europe/Stockholm"))
    runs = run_due_jobs(now=now, jobs=[job])
    assert [(r.job_name, r.period) for r in runs] == [("test.daily", job.period(now))]
    task = DBTaskResult.objects.get()
    assert str(task.id) == runs[0].task_result_id
    assert task.task_path == "tests.jobs.sample_tasks.nothing"
    assert run_due_jobs(now=now + timedelta(minutes=5), jobs=[job]) == []
    assert DBTaskResult.objects.count() == 1
    tomorrow = run_due_jobs(now=now + timedelta(days=1), jobs=[job])
    assert len(tomorrow) == 1
    assert DBTaskResult.objects.count() == 2


def test_not_before_its_time_of_day(db):
    job = daily(at=time(6, 0))
    early = datetime(2026, 3, 14, 5, 0, tzinfo=ZoneInfo("Europe/Stockholm"))
    assert run_due_jobs(now=early, jobs=[job]) == []
    assert not JobRun.objects.exists()
    assert len(run_due_jobs(now=early + timedelta(hours=1), jobs=[job])) == 1


def test_a_period_claimed_elsewhere_is_not_enqueued_again(db):
    job = daily()
    now = timezone.now()
    JobRun.objects.create(job_name=job.name, period=job.period(now), enqueued_at=now)
    assert run_due_jobs(now=now, jobs=[job]) == []
    assert not DBTaskResult.objects.exists()


def test_an_enqueue_that_fails_is_logged_without_its_message_and_tried_again(
    db, monkeypatch, caplog
):
    job = daily()
    backend = job.task.get_backend()

    def broken(*args, **kwargs):
        raise RuntimeError("Anna Andersson 120315-1236")

    monkeypatch.setattr(type(backend), "enqueue", broken)
    with caplog.at_level(logging.ERROR, logger="samverkan.jobs"):
        assert run_due_jobs(jobs=[job]) == []
    assert not JobRun.objects.exists()  # the claim rolled back with the enqueue
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "test.daily" in text
    assert "RuntimeError" in text
    assert "Anna" not in text
    assert "120315" not in text
    monkeypatch.undo()
    assert len(run_due_jobs(jobs=[job])) == 1


@pytest.mark.django_db(transaction=True)
def test_workers_racing_for_one_period_enqueue_it_once(db_backend):
    """Several workers (threads here, each with its own database connection) look at the same
    moment; the unique (job, period) pair lets exactly one of them enqueue."""
    job = daily()
    now = timezone.now()
    racers = 4
    barrier = threading.Barrier(racers)
    results: list[int] = []
    errors: list[BaseException] = []

    def look() -> None:
        try:
            barrier.wait()
            results.append(len(run_due_jobs(now=now, jobs=[job])))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=look) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(results) == [0] * (racers - 1) + [1]
    assert JobRun.objects.count() == 1
    assert DBTaskResult.objects.count() == 1
