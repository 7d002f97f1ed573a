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
