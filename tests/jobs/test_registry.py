"""Periods and due times of periodic jobs, and what the registry refuses."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ImproperlyConfigured

from samverkan.jobs.registry import Every, JobRegistry, PeriodicJob, registry
from tests.jobs import sample_tasks

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def local(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=STOCKHOLM)


def job(every: Every, at: time = time(0, 0), name: str = "test.job") -> PeriodicJob:
    return PeriodicJob(name=name, every=every, task=sample_tasks.nothing, at=at)


@pytest.mark.parametrize(
    ("every", "moment", "period"),
    [
        (Every.HOUR, local(2026, 3, 14, 10, 59), "2026-03-14T10"),
        (Every.DAY, local(2026, 3, 14, 23, 59), "2026-03-14"),
        (Every.WEEK, local(2026, 3, 14, 12, 0), "2026-W11"),
        (Every.WEEK, local(2027, 1, 1, 12, 0), "2026-W53"),  # ISO week-numbering year
        (Every.MONTH, local(2026, 3, 31, 23, 59), "2026-03"),
    ],
)
def test_periods_are_local(every, moment, period):
    assert job(every).period(moment) == period


def test_a_day_is_a_local_day_not_a_utc_day():
    # 23:30 UTC on 14 March is 00:30 on 15 March in Stockholm.
    assert job(Every.DAY).period(datetime(2026, 3, 14, 23, 30, tzinfo=UTC)) == "2026-03-15"


def test_due_only_after_the_time_of_day_in_the_period():
    daily = job(Every.DAY, at=time(6, 0))
    assert not daily.is_due(local(2026, 3, 14, 5, 59))
    assert daily.is_due(local(2026, 3, 14, 6, 0))
    assert daily.is_due(local(2026, 3, 14, 23, 0))
    monthly = job(Every.MONTH, at=time(2, 0))
    assert not monthly.is_due(local(2026, 4, 1, 1, 0))
    assert monthly.is_due(local(2026, 4, 1, 2, 0))
    assert monthly.is_due(local(2026, 4, 17, 0, 0))  # later in the month: still due
    weekly = job(Every.WEEK, at=time(7, 0))
    assert not weekly.is_due(local(2026, 3, 9, 6, 0))  # Monday before seven
    assert weekly.is_due(local(2026, 3, 9, 7, 0))
    hourly = job(Every.HOUR, at=time(0, 15))
    assert not hourly.is_due(local(2026, 3, 14, 10, 14))
    assert hourly.is_due(local(2026, 3, 14, 10, 15))


def test_daylight_saving_days_have_one_period_each():
    daily = job(Every.DAY, at=time(2, 30))
    # 29 March 2026: clocks go from 02:00 to 03:00, so 02:30 never happens; due from 03:00.
    assert daily.is_due(local(2026, 3, 29, 3, 0))
    # 25 October 2026: 02:30 happens twice; both fall in the same period.
    first = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 summer time
    second = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 winter time
    assert daily.period(first) == daily.period(second) == "2026-10-25"


def test_names_must_be_dotted_words():
    jobs = JobRegistry()
    with pytest.raises(ImproperlyConfigured):
        jobs.register(job(Every.DAY, name="Reminders"))
    with pytest.raises(ImproperlyConfigured):
        jobs.register(job(Every.DAY, name="reminders"))
    jobs.register(job(Every.DAY, name="consent.reminders"))
    assert [j.name for j in jobs] == ["consent.reminders"]


def test_the_task_must_be_a_task():
    with pytest.raises(ImproperlyConfigured):
        JobRegistry().register(
            PeriodicJob(name="a.b", every=Every.DAY, task=sample_tasks.plain_function)  # type: ignore[arg-type]
        )


def test_one_name_one_task():
    jobs = JobRegistry()
    jobs.register(job(Every.DAY, name="a.b"))
    jobs.register(job(Every.DAY, name="a.b"))  # the same again: harmless
    with pytest.raises(ImproperlyConfigured, match="registered twice"):
        jobs.register(PeriodicJob(name="a.b", every=Every.DAY, task=sample_tasks.context_source))


def test_problems_name_tasks_a_worker_could_not_run():
    jobs = JobRegistry()
    jobs.register(job(Every.DAY, name="a.fine"))
    jobs.register(PeriodicJob(name="a.lost", every=Every.DAY, task=sample_tasks.unreachable))
    problems = jobs.problems(backend="default")
    assert len(problems) == 1
    assert "a.lost" in problems[0]
    assert "cannot be imported" in problems[0]
    assert "serves 'other'" in jobs.problems(backend="other")[0]


def test_apps_declare_jobs_in_their_tasks_module():
    assert "jobs.prune" in {j.name for j in registry}
    assert registry.problems(backend="default") == []
