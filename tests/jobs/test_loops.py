"""Background loops run beside the tasks and stop with the worker."""

from __future__ import annotations

import logging
import threading

import pytest

from samverkan.jobs.loops import Loop, LoopThreads


def test_a_loop_runs_until_stopped_and_a_failing_one_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rounds: list[int] = []
    started = threading.Event()

    def counting(should_stop, wait) -> None:
        while not should_stop():
            rounds.append(1)
            started.set()
            wait(0.01)

    def failing(should_stop, wait) -> None:
        raise RuntimeError("boom")

    threads = LoopThreads([Loop("test.count", counting), Loop("test.fail", failing)])
    with caplog.at_level(logging.ERROR, logger="samverkan.jobs"):
        threads.start()
        assert started.wait(5)
        threads.stop(timeout=5)
    done = len(rounds)
    assert done >= 1
    assert "background loop test.fail stopped: RuntimeError" in caplog.text
    threading.Event().wait(0.05)
    assert len(rounds) == done  # nothing runs after the stop


def test_a_loop_that_dies_is_started_again_until_the_worker_stops(
    caplog: pytest.LogCaptureFixture,
) -> None:
    starts: list[int] = []
    running = threading.Event()

    def flaky(should_stop, wait) -> None:
        starts.append(1)
        if len(starts) <= 2:
            raise RuntimeError("boom")  # say, a SealConflictError, not a database error
        running.set()
        while not should_stop():
            wait(0.01)

    threads = LoopThreads([Loop("test.flaky", flaky)], restart_after=0.01)
    with caplog.at_level(logging.ERROR, logger="samverkan.jobs"):
        threads.start()
        assert running.wait(5), "the loop was not started again"
        threads.stop(timeout=5)
    assert len(starts) == 3
    restarts = [r.getMessage() for r in caplog.records if "test.flaky" in r.getMessage()]
    assert len(restarts) == 2
    for message in restarts:
        assert message.startswith("background loop test.flaky stopped: RuntimeError at ")
        assert message.endswith("; starting it again in 0.01s")
