"""Background loops: work that must go on all the time, beside the tasks, in every worker.

A periodic job runs at most once a period and waits behind whatever task is running; a loop
runs in a thread of its own for the worker's whole life (the audit sealer, which must keep the
seal lag within seconds however long a task takes). An app declares its loop in its
``tasks.py``::

    background_loop(name="audit.seal", run=seal_forever_in_worker)

``run(should_stop, wait)`` must return soon after ``should_stop()`` turns true, call
``wait(seconds)`` instead of sleeping (so that a stop wakes it), and survive database errors.
A loop that dies all the same is logged and started again after a pause (``RESTART_AFTER``), as
often as it takes, until the worker stops: a worker never runs on without its sealer.
Several workers may run the same loop at once: it must be safe to (the sealer is, as its
batches queue on the chain head's lock).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection

from samverkan.lib.redact import exception_summary

logger = logging.getLogger("samverkan.jobs")

Run = Callable[[Callable[[], bool], Callable[[float], object]], None]

RESTART_AFTER = 5.0  # seconds between a loop's death and its next start


@dataclass(frozen=True)
class Loop:
    name: str
    run: Run


_loops: dict[str, Loop] = {}


def background_loop(*, name: str, run: Run) -> Loop:
    loop = Loop(name, run)
    _loops[name] = loop
    return loop


def loops() -> list[Loop]:
    return list(_loops.values())


class LoopThreads:
    """The worker's loops, each in a daemon thread, stopped together."""

    def __init__(
        self, selected: list[Loop] | None = None, *, restart_after: float = RESTART_AFTER
    ) -> None:
        self._loops = loops() if selected is None else selected
        self.restart_after = restart_after
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        self._stop.clear()
        for loop in self._loops:
            thread = threading.Thread(
                target=self._run, args=(loop,), name=f"loop-{loop.name}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def _run(self, loop: Loop) -> None:
        while not self._stop.is_set():
            try:
                loop.run(self._stop.is_set, self._stop.wait)
            except Exception as exc:
                logger.error(
                    "background loop %s stopped: %s; starting it again in %gs",
                    loop.name,
                    exception_summary(exc),
                    self.restart_after,
                )
                self._stop.wait(self.restart_after)
            else:
                if not self._stop.is_set():
                    logger.error(
                        "background loop %s returned before the worker stopped; starting it "
                        "again in %gs",
                        loop.name,
                        self.restart_after,
                    )
                    self._stop.wait(self.restart_after)
            finally:
                connection.close()  # this thread's own connection, possibly broken

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()
