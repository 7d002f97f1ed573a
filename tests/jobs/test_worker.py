"""``samverkan worker``: runs tasks from the database, enqueues periodic jobs, refuses to start
when misconfigured, and stops cleanly on a signal."""

from __future__ import annotations

import logging
import signal
import time
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from samverkan.jobs.models import JobRun
from samverkan.jobs.registry import Every, JobRegistry, PeriodicJob
from samverkan.jobs.tasks import prune_job_history
from samverkan.jobs.worker import Worker, check_configuration
from samverkan.lib.env import ConfigError
from tests.jobs import sample_tasks
from tests.jobs.processes import start_worker as _start_worker
from tests.jobs.processes import wait_for as _wait_for
from tests.web.test_production_config import run_cli


def test_once_runs_pending_tasks(db, db_backend, capsys):
    result = sample_tasks.echo.enqueue("hej")
    assert DBTaskResult.objects.get().status == TaskResultStatus.READY
    call_command("worker", "--once")
    stored = DBTaskResult.objects.get(pk=result.id)
    assert stored.status == TaskResultStatus.SUCCESSFUL
    assert stored.return_value == "hej"
    assert "failed: 0" in capsys.readouterr().out


# The hourly checkpoint is due at any time of day (jobs.prune waits for 03:00 local time, so a
# test of it failed between midnight and three).
ALWAYS_DUE = "audit.checkpoint"


def test_once_enqueues_due_periodic_jobs_and_runs_them(db, db_backend):
    call_command("worker", "--once")
    run = JobRun.objects.get(job_name=ALWAYS_DUE)
    assert DBTaskResult.objects.get(pk=run.task_result_id).status == TaskResultStatus.SUCCESSFUL
    call_command("worker", "--once")  # same period: not again
    assert JobRun.objects.filter(job_name=ALWAYS_DUE).count() == 1


def test_tasks_run_in_a_worker_context_for_the_audit_log(db, db_backend):
    result = sample_tasks.context_source.enqueue()
    Worker(jobs=JobRegistry()).run_once()
    assert DBTaskResult.objects.get(pk=result.id).return_value == "worker"


def test_a_failing_task_is_logged_and_stored_without_its_message(db, db_backend, caplog):
    result = sample_tasks.fail_with_personal_data.enqueue()
    with (
        caplog.at_level(logging.INFO),
        pytest.raises(CommandError, match=r"1 of \d+ tasks failed"),
    ):
        call_command("worker", "--once")
    stored = DBTaskResult.objects.get(pk=result.id)
    assert stored.status == TaskResultStatus.FAILED
    assert "ValueError (message withheld)" in stored.traceback
    assert "fail_with_personal_data" in stored.traceback  # the stack stays for debugging
    assert "Anna" not in stored.traceback
    assert "120315" not in stored.traceback
    failure_logs = [r for r in caplog.records if r.name == "django_tasks" and "FAILED" in r.msg]
    assert failure_logs
    for record in caplog.records:
        text = record.getMessage() + (record.exc_text or "")
        assert record.exc_info is None
        assert "Anna" not in text
        assert "120315" not in text
    assert "ValueError at" in failure_logs[0].getMessage()


def test_a_failed_periodic_job_runs_again_next_period(db, db_backend):
    jobs = JobRegistry()
    jobs.register(
        PeriodicJob(name="test.fails", every=Every.DAY, task=sample_tasks.fail_with_personal_data)
    )
    worker = Worker(jobs=jobs)
    assert worker.run_once().failed == 1
    assert worker.run_once().enqueued == 0  # not within the same period
    from samverkan.jobs.scheduler import run_due_jobs

    assert len(run_due_jobs(now=timezone.now() + timedelta(days=1), jobs=jobs)) == 1


def test_prune_keeps_recent_results(db, db_backend):
    old = sample_tasks.echo.enqueue("old")
    new = sample_tasks.echo.enqueue("new")
    Worker(jobs=JobRegistry()).run_once()
    now = timezone.now()
    DBTaskResult.objects.filter(pk=old.id).update(finished_at=now - timedelta(days=31))
    JobRun.objects.create(job_name="a.b", period="2025-01", enqueued_at=now - timedelta(days=401))
    JobRun.objects.create(job_name="a.b", period="2026-01", enqueued_at=now)
    assert prune_job_history.call() == {"task_results": 1, "job_runs": 1}
    assert [str(pk) for pk in DBTaskResult.objects.values_list("pk", flat=True)] == [new.id]
    assert JobRun.objects.get().period == "2026-01"


def test_the_immediate_backend_is_a_configuration_error(db):
    with pytest.raises(ConfigError, match="needs the database task backend"):
        check_configuration(backend_name="default")


def test_an_unknown_backend_is_a_configuration_error(db, db_backend):
    with pytest.raises(ConfigError, match="no task backend named 'nope'"):
        check_configuration(backend_name="nope")


def test_a_job_the_worker_cannot_run_is_a_configuration_error(db, db_backend):
    jobs = JobRegistry()
    jobs.register(PeriodicJob(name="a.lost", every=Every.DAY, task=sample_tasks.unreachable))
    with pytest.raises(ConfigError, match=r"a\.lost"):
        check_configuration(backend_name="default", jobs=jobs)


def test_an_unmigrated_database_stops_the_command_with_one_line(tmp_path):
    result = run_cli("worker", "--once", env={}, tmp_path=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "samverkan: configuration error: the database is not up to date; "
        "run `samverkan migrate` first"
    ]


def test_bad_arguments_are_refused(tmp_path):
    result = run_cli("worker", "--interval", "0", env={}, tmp_path=tmp_path)
    assert result.returncode == 2
    assert "positive number of seconds" in result.stderr


def _status(result) -> str:
    return DBTaskResult.objects.get(pk=result.id).status


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_process_runs_tasks_and_jobs_and_stops_on_ctrl_c(db_backend):
    waiting = sample_tasks.echo.enqueue("from the test")
    process = _start_worker()
    try:
        assert _wait_for(
            lambda: (
                _status(waiting) == TaskResultStatus.SUCCESSFUL
                and JobRun.objects.filter(job_name=ALWAYS_DUE).exists()
                and not DBTaskResult.objects.ready().exists()
            )
        ), "the worker did not run the task and the periodic job in time"
        later = sample_tasks.echo.enqueue("later")  # the running loop picks up new tasks
        assert _wait_for(lambda: _status(later) == TaskResultStatus.SUCCESSFUL, 30)
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, output
    assert "SIGINT received" in output
    assert "stopped" in output


@pytest.mark.django_db(transaction=True)
def test_the_first_signal_lets_the_running_task_finish(db_backend):
    short = sample_tasks.sleep.enqueue(1.5)
    process = _start_worker()
    try:
        assert _wait_for(lambda: _status(short) == TaskResultStatus.RUNNING)
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, output
    assert _status(short) == TaskResultStatus.SUCCESSFUL


@pytest.mark.django_db(transaction=True)
def test_a_second_signal_stops_at_once(db_backend):
    long = sample_tasks.sleep.enqueue(60)
    process = _start_worker()
    try:
        assert _wait_for(lambda: _status(long) == TaskResultStatus.RUNNING)
        process.send_signal(signal.SIGINT)
        time.sleep(0.5)
        assert process.poll() is None  # still finishing the task
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 1, output
    assert "stopped at once" in output
    assert _status(long) == TaskResultStatus.FAILED
