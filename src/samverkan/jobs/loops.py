"""Background loops: work that must go on all the time, beside the tasks, in every worker.

A periodic job runs at most once a period and waits behind whatever task is running; a loop
runs in a thread of its own for the worker's whole life (the audit sealer, which must keep the
seal lag within seconds however long a task takes). An app declares its loop in its
``tasks.py``::

    background_loop(name="audit.seal", run=seal_forever_in_worker)

``run(should_stop, wait)`` must return soon after ``should_stop()`` turns true, call
``wait(seconds)`` instead of sleeping (so that a stop wakes it), and survive database errors.
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

    def __init__(self, selected: list[Loop] | None = None) -> None:
        self._loops = loops() if selected is None else selected
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
        try:
            loop.run(self._stop.is_set, self._stop.wait)
        except Exception as exc:
            # A loop that dies is logged loudly; the worker goes on with its tasks.
            logger.error("background loop %s stopped: %s", loop.name, exception_summary(exc))
        finally:
            connection.close()  # this thread's own connection

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()
