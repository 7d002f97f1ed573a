"""``samverkan demo`` starts the worker next to the web server and stops it afterwards."""

from __future__ import annotations

import subprocess

import pytest
from django.core.management import call_command

from samverkan import demo
from samverkan.web.management.commands import demo as demo_command
from samverkan.web.management.commands import serve as serve_command


class FakeProcess:
    def __init__(self, args, **kwargs):
        self.args = args
        self.kwargs = kwargs
        self.terminated = False
        self.returncode: int | None = None

    def poll(self):
        return self.returncode

    def terminate(self):
        self.terminated = True

    def wait(self, timeout=None):
        self.returncode = 0
        return 0


@pytest.fixture
def started(monkeypatch):
    processes: list[FakeProcess] = []

    def popen(args, **kwargs):
        processes.append(FakeProcess(args, **kwargs))
        return processes[-1]

    def ctrl_c(**kwargs):
        raise SystemExit(0)  # what gunicorn's master does on Ctrl-C

    monkeypatch.setattr(demo_command.subprocess, "Popen", popen)
    monkeypatch.setattr(serve_command, "serve", ctrl_c)
    monkeypatch.setattr(demo, "is_loaded", lambda: True)
    monkeypatch.setattr(demo_command.Command, "_print_logins", lambda self, host, port: None)
    return processes


def test_demo_runs_the_worker_and_stops_it_with_the_server(db, started):
    with pytest.raises(SystemExit):
        call_command("demo", "--port", "8765")
    (worker,) = started
    assert worker.args[-1] == "worker"
    assert worker.kwargs["start_new_session"] is True  # Ctrl-C reaches gunicorn; we stop it
    assert worker.terminated


def test_demo_without_the_worker(db, started):
    with pytest.raises(SystemExit):
        call_command("demo", "--port", "8765", "--no-worker")
    assert started == []


def test_a_worker_that_will_not_stop_is_killed():
    class Stubborn(FakeProcess):
        killed = False

        def wait(self, timeout=None):
            if timeout is not None and not self.killed:
                raise subprocess.TimeoutExpired("worker", timeout)
            return 0

        def kill(self):
            self.killed = True

    process = Stubborn(["worker"])
    demo_command._stop_worker(process)  # type: ignore[arg-type]
    assert process.terminated
    assert process.killed
