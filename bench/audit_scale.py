"""Audited journal entries through the API, 1 to 8 concurrent writers (issue 12, D28).

    .venv/bin/python bench/audit_scale.py [--rounds 3] [--duration 10] [--with-inline]
        [--json FILE] [--database-url postgres://postgres@127.0.0.1:5432/samverkan_bench_audit]

Setup (every run): drops and recreates the database (its name must contain ``bench``),
``samverkan demo --no-serve`` (migrations and the demo data), and ``samverkan token create``
(the real token service) for one write token per writer for the demo practitioner ``--user``.
It then asks the API itself (``/me``, ``/cases``, ``/cases/{id}/team``) which open cases that
practitioner sits on the team of, and for which agency, and checks that one entry is accepted.

Measurement: for each round, for each N in ``--writers``, for each mode, interleaved so that
noise on the machine falls on every mode alike:

- ``audited``: gunicorn (``samverkan.wsgi``, N sync workers) with the default deferred sealing
  (writers append unsealed events, no lock), plus ``samverkan audit seal --loop`` as its own
  process (what the worker's ``audit.seal`` loop does);
- ``unaudited``: the same gunicorn serving ``bench/wsgi_noaudit.py``, the same application with
  ``audit_record_many`` replaced by a function that checks its arguments and writes nothing
  (no audit insert, no chain head lock, no sealer). Bench-only: the application has no such
  switch. The script checks that no event was written;
- ``inline`` (``--with-inline``): ``SAMVERKAN_AUDIT_SEALING=inline``, every writer seals its
  own events under the chain head's row lock (the behaviour before D28), no sealer.

N client threads (one token and one case each, cycling over the cases) then POST
``/api/v1/cases/{id}/entries`` back to back with ``http.client`` for ``--warmup`` + ``--duration``
seconds; the connection is kept while the server keeps it (gunicorn's sync workers close it
after each answer, so in practice each request opens a new loopback connection). Counted in the
measured window only: 201 answers (requests/s) and audit events written (``max(id)`` of
``audit_auditevent`` at the window's start and end: events/s). Every 0.25 s a monitor reads the
age of the oldest unsealed event (the seal lag); after an audited window the script waits
until nothing is unsealed and reports how long that took. Figures are medians over rounds.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
BIN = Path(sys.executable).parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/samverkan_bench_audit"
TEXT = "Samtal om skolnärvaro i dag. Uppföljning nästa vecka."
MONITOR_EVERY = 0.25
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

# What the unaudited mode switched off, said the same way in the output and the JSON.
SWITCHED_OFF = (
    "unaudited = the same application served from bench/wsgi_noaudit.py, where "
    "samverkan.audit.services.audit_record_many (and every module's imported name for it) "
    "checks its arguments and writes nothing: no audit_auditevent insert, no chain head lock, "
    "no sealer running"
)


@dataclass(frozen=True)
class Target:
    token: str
    case_id: int
    agency_id: int


@dataclass
class Run:
    round: int
    mode: str
    writers: int
    seconds: float
    created: int
    other_statuses: dict[str, int]
    errors: int
    events: int
    requests_per_s: float
    events_per_s: float
    events_per_request: float | None
    max_seal_lag_s: float | None
    drain_s: float | None
    cpu_ms_per_request: dict[str, float | None]
    machine_busy_pct: float
    load_before: float
    load_after: float


class KeepAliveClient(threading.Thread):
    """One client connection: sends the same request back to back until ``stop_at``, keeping
    the connection while the server keeps it, and notes each answer's time and status."""

    def __init__(
        self,
        port: int,
        stop_at: float,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes | None = None,
    ) -> None:
        super().__init__(daemon=True)
        self.port, self.stop_at = port, stop_at
        self.method, self.path, self.body = method, path, body
        self.headers = {**headers, "Connection": "keep-alive"}
        self.answers: list[tuple[float, int]] = []
        self.errors = 0

    def run(self) -> None:
        conn: http.client.HTTPConnection | None = None
        while time.monotonic() < self.stop_at:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                conn.request(self.method, self.path, self.body, self.headers)
                response = conn.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = None
                self.errors += 1
                continue
            self.answers.append((time.monotonic(), response.status))
            if response.will_close:
                conn.close()
                conn = None
        if conn is not None:
            conn.close()


class Writer(KeepAliveClient):
    """One client: POSTs entries back to back until ``stop_at``, noting each answer's time."""

    def __init__(self, port: int, target: Target, stop_at: float) -> None:
        body = json.dumps(
            {"agency_id": target.agency_id, "category": "general", "text": TEXT}
        ).encode()
        headers = {
            "Authorization": f"Bearer {target.token}",
            "Content-Type": "application/json",
        }
        path = f"/api/v1/cases/{target.case_id}/entries"
        super().__init__(port, stop_at, "POST", path, headers, body)
        self.target = target


# --- Setup -----------------------------------------------------------------------------------


def server_env(args: argparse.Namespace, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=args.database_url,
        SAMVERKAN_DATA_DIR=str(args.data_dir),
        SAMVERKAN_ENV="development",
        PYTHONUNBUFFERED="1",
    )
    env.pop("SAMVERKAN_AUDIT_SEALING", None)
    env.update(extra)
    return env


def samverkan(args: argparse.Namespace, *argv: str) -> str:
    done = subprocess.run(  # noqa: S603  fixed arguments, our own command
        [str(BIN / "samverkan"), *argv],
        env=server_env(args),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"samverkan {' '.join(argv[:2])} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def recreate_database(url: str) -> None:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if "bench" not in name:
        raise SystemExit(f"refusing to drop {name!r}: the database name must contain 'bench'")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def api_get(port: int, token: str, path: str) -> Any:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    if response.status != 200:
        raise SystemExit(f"GET {path}: {response.status}")
    return json.loads(body)


def pick_targets(port: int, tokens: list[str]) -> list[Target]:
    """Open cases the token's account sits on the team of, and its agency on each."""
    me = api_get(port, tokens[0], "/api/v1/me")
    places: list[tuple[int, int]] = []
    for case in api_get(port, tokens[0], "/api/v1/cases"):
        if case["status"] == "closed":
            continue
        team = api_get(port, tokens[0], f"/api/v1/cases/{case['id']}/team")
        agencies = [m["agency"]["id"] for m in team["members"] if m["user_id"] == me["id"]]
        if agencies:
            places.append((case["id"], agencies[0]))
    if not places:
        raise SystemExit(f"{me['username']} sits on the team of no open case")
    return [Target(token, *places[i % len(places)]) for i, token in enumerate(tokens)]


def setup(args: argparse.Namespace) -> list[Target]:
    args.data_dir.mkdir(parents=True, exist_ok=True)
    print(f"setup: recreating {urlsplit(args.database_url).path.lstrip('/')}", flush=True)
    recreate_database(args.database_url)
    started = time.monotonic()
    samverkan(args, "demo", "--no-serve")
    print(f"setup: demo data loaded in {time.monotonic() - started:.0f}s", flush=True)
    tokens = [
        samverkan(
            args,
            "token",
            "create",
            "--user",
            args.user,
            "--days",
            "1",
            "--scope",
            "write",
            "--name",
            f"bench writer {i + 1}",
        ).strip()
        for i in range(max(args.writers))
    ]
    server, port = start_server(args, "audited", 1)
    try:
        targets = pick_targets(port, tokens)
        writer = Writer(port, targets[0], time.monotonic() + 0.5)
        writer.run()
        statuses = Counter(status for _, status in writer.answers)
        if set(statuses) != {201}:
            raise SystemExit(f"a test entry was not accepted: {dict(statuses)}")
    finally:
        stop(server)
    # The demo data and the test entry were appended unsealed: seal them, so that the first
    # audited window does not start with a backlog.
    samverkan(args, "audit", "seal")
    cases = sorted({t.case_id for t in targets})
    print(f"setup: {len(tokens)} tokens for {args.user}, cases {cases}", flush=True)
    return targets


# --- Processes -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_server(
    args: argparse.Namespace, mode: str, workers: int
) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    app = "wsgi_noaudit:application" if mode == "unaudited" else "samverkan.wsgi:application"
    extra = {"SAMVERKAN_AUDIT_SEALING": "inline"} if mode == "inline" else {}
    log = (args.data_dir / f"gunicorn-{mode}-{workers}.log").open("ab")
    command = [
        str(BIN / "gunicorn"), app, "--pythonpath", str(BENCH), "--workers", str(workers),
        "--worker-class", "sync", "--bind", f"127.0.0.1:{port}", "--timeout", "60",
        "--log-level", "warning",
    ]  # fmt: skip
    server = subprocess.Popen(  # noqa: S603  fixed arguments
        command, env=server_env(args, **extra), stdout=log, stderr=log
    )
    log.close()
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn ({mode}) exited; see {args.data_dir}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/api/v1/openapi.json")
            ready = conn.getresponse().status == 200
            conn.close()
        except OSError:
            ready = False
        if ready:
            time.sleep(1.0)  # let every worker finish booting
            return server, port
        time.sleep(0.2)
    stop(server)
    raise SystemExit(f"gunicorn ({mode}) did not answer within 90 s")


def start_sealer(args: argparse.Namespace) -> subprocess.Popen[bytes]:
    log = (args.data_dir / "sealer.log").open("ab")
    sealer = subprocess.Popen(  # noqa: S603  fixed arguments
        [str(BIN / "samverkan"), "audit", "seal", "--loop"],
        env=server_env(args),
        stdout=log,
        stderr=log,
    )
    log.close()
    return sealer


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- Measuring -------------------------------------------------------------------------------


class Monitor(threading.Thread):
    """Samples the age of the oldest unsealed event until stopped."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.lags: list[float] = []
        self.done = threading.Event()

    def run(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self.done.wait(MONITOR_EVERY):
                row = conn.execute(
                    "SELECT extract(epoch FROM clock_timestamp() - occurred_at)::float8"
                    " FROM audit_auditevent WHERE seq IS NULL ORDER BY id LIMIT 1"
                ).fetchone()
                self.lags.append(row[0] if row else 0.0)


def _proc_stat(pid: int | str) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state first), or None."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()


def _cpu_s(pid: int) -> float:
    fields = _proc_stat(pid)
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS if fields else 0.0


def _tree(root: int) -> list[int]:
    """``root`` and every process below it (gunicorn's master and its workers)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _proc_stat(entry.name)) is not None:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _machine_busy() -> tuple[int, int]:
    """Busy and total jiffies of all CPUs (every process on the machine, not only ours)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle and iowait
    return sum(values) - idle, sum(values)


@dataclass(frozen=True)
class Sample:
    """What a window's edge saw: the newest audit event, and CPU seconds used so far."""

    at: float
    max_id: int
    cpu: dict[str, dict[int, float]]
    busy: tuple[int, int]


def sample(
    conn: psycopg.Connection[Any],
    server: subprocess.Popen[bytes],
    sealer: subprocess.Popen[bytes] | None,
) -> Sample:
    backends = conn.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
    ).fetchall()
    cpu = {
        "server": {pid: _cpu_s(pid) for pid in _tree(server.pid)},
        "sealer": {sealer.pid: _cpu_s(sealer.pid)} if sealer is not None else {},
        "database": {int(row[0]): _cpu_s(int(row[0])) for row in backends},
        "client": {os.getpid(): sum(os.times()[:2])},
    }
    return Sample(time.monotonic(), max_event_id(conn), cpu, _machine_busy())


def cpu_ms_per_request(first: Sample, last: Sample, created: int) -> dict[str, float | None]:
    """CPU milliseconds per accepted request, per part; a process new in the window counts
    from 0 (PostgreSQL backends opened during the window are counted in full)."""
    result: dict[str, float | None] = {}
    for part, now in last.cpu.items():
        before = first.cpu.get(part, {})
        used = sum(max(0.0, s - before.get(pid, 0.0)) for pid, s in now.items())
        result[part] = round(used * 1000 / created, 2) if created else None
    return result


def max_event_id(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT coalesce(max(id), 0) FROM audit_auditevent").fetchone()
    return int(row[0]) if row else 0


def drain(conn: psycopg.Connection[Any], timeout: float = 120.0) -> float | None:
    """Seconds until no event is unsealed, or None if the sealer did not get there."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        row = conn.execute("SELECT count(*) FROM audit_auditevent WHERE seq IS NULL").fetchone()
        if row and row[0] == 0:
            return time.monotonic() - started
        time.sleep(0.1)
    return None


def measure(args: argparse.Namespace, targets: list[Target], rnd: int, mode: str, n: int) -> Run:
    load_before = os.getloadavg()[0]
    # The sealer boots while gunicorn does, so neither boot falls into the measured window.
    sealer = start_sealer(args) if mode == "audited" else None
    try:
        server, port = start_server(args, mode, n)
    except BaseException:
        if sealer is not None:
            stop(sealer)
        raise
    monitor = Monitor(args.database_url)
    try:
        with psycopg.connect(args.database_url, autocommit=True) as conn:
            t_start = time.monotonic()
            t0, t1 = t_start + args.warmup, t_start + args.warmup + args.duration
            writers = [Writer(port, targets[i], t1) for i in range(n)]
            for writer in writers:
                writer.start()
            time.sleep(max(0.0, t0 - time.monotonic()))
            first = sample(conn, server, sealer)
            monitor.start()
            time.sleep(max(0.0, t1 - time.monotonic()))
            last = sample(conn, server, sealer)
            monitor.done.set()
            for writer in writers:
                writer.join()
            monitor.join()
            drained = drain(conn) if mode == "audited" else None
    finally:
        if sealer is not None:
            stop(sealer)
        stop(server)
    window = [s for w in writers for when, s in w.answers if first.at <= when <= last.at]
    statuses = Counter(window)
    seconds = last.at - first.at
    created = statuses.pop(201, 0)
    events = last.max_id - first.max_id
    busy = (last.busy[0] - first.busy[0]) / max(1, last.busy[1] - first.busy[1])
    return Run(
        round=rnd,
        mode=mode,
        writers=n,
        seconds=round(seconds, 3),
        created=created,
        other_statuses={str(k): v for k, v in sorted(statuses.items())},
        errors=sum(w.errors for w in writers),
        events=events,
        requests_per_s=round(created / seconds, 2),
        events_per_s=round(events / seconds, 2),
        events_per_request=round(events / created, 2) if created else None,
        max_seal_lag_s=round(max(monitor.lags), 3) if mode == "audited" and monitor.lags else None,
        drain_s=round(drained, 3) if drained is not None else None,
        cpu_ms_per_request=cpu_ms_per_request(first, last, created),
        machine_busy_pct=round(100 * busy, 1),
        load_before=load_before,
        load_after=os.getloadavg()[0],
    )


# --- Report ----------------------------------------------------------------------------------


def median(runs: list[Run], mode: str, n: int, key: str) -> float | None:
    values = [getattr(r, key) for r in runs if r.mode == mode and r.writers == n]
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def cpu_medians(runs: list[Run], mode: str, n: int) -> dict[str, float | None]:
    chosen = [r for r in runs if r.mode == mode and r.writers == n]
    parts = {part for r in chosen for part in r.cpu_ms_per_request}
    result: dict[str, float | None] = {}
    for part in sorted(parts):
        values = [v for r in chosen if (v := r.cpu_ms_per_request.get(part)) is not None]
        result[part] = statistics.median(values) if values else None
    return result


def summarise(runs: list[Run], args: argparse.Namespace) -> dict[str, Any]:
    per_n: dict[str, dict[str, Any]] = {}
    for n in args.writers:
        row: dict[str, Any] = {}
        for mode in args.modes:
            row[mode] = {
                key: median(runs, mode, n, key)
                for key in (
                    "requests_per_s",
                    "events_per_s",
                    "events_per_request",
                    "max_seal_lag_s",
                    "drain_s",
                    "machine_busy_pct",
                )
            }
            row[mode]["cpu_ms_per_request"] = cpu_medians(runs, mode, n)
        audited, unaudited = row["audited"]["requests_per_s"], row["unaudited"]["requests_per_s"]
        row["ratio_audited_unaudited"] = round(audited / unaudited, 3) if unaudited else None
        if "inline" in args.modes:
            inline = row["inline"]["requests_per_s"]
            row["ratio_inline_unaudited"] = round(inline / unaudited, 3) if unaudited else None
        per_n[str(n)] = row
    summary: dict[str, Any] = {"per_writers": per_n}
    events = {n: median(runs, "audited", n, "events_per_s") for n in args.writers}
    if events.get(1) and events.get(4) is not None:
        summary["scaling_audited_events_4_vs_1"] = round(events[4] / events[1], 3)  # type: ignore[operator]
    if 8 in args.writers:
        ratio8 = per_n["8"]["ratio_audited_unaudited"]
        summary["target_ratio_at_8_met"] = ratio8 is not None and ratio8 >= 0.5
    if "scaling_audited_events_4_vs_1" in summary:
        summary["target_scaling_4_vs_1_met"] = summary["scaling_audited_events_4_vs_1"] >= 1.5
    lags = [r.max_seal_lag_s for r in runs if r.max_seal_lag_s is not None]
    summary["max_seal_lag_s"] = max(lags) if lags else None
    summary["unaudited_events_written"] = sum(r.events for r in runs if r.mode == "unaudited")
    return summary


def fmt(value: float | None, spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)


def print_table(summary: dict[str, Any], args: argparse.Namespace) -> None:
    print(f"\n{SWITCHED_OFF}.\nMedians over {args.rounds} round(s) of {args.duration:g} s.\n")
    print(
        "| mode | N | requests/s | audit events/s | events/request "
        "| requests/s vs unaudited | max seal lag s | drain s |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for n, row in summary["per_writers"].items():
        for mode in args.modes:
            m = row[mode]
            ratio = {"audited": row["ratio_audited_unaudited"]}.get(mode)
            if mode == "inline":
                ratio = row.get("ratio_inline_unaudited")
            print(
                f"| {mode} | {n} | {fmt(m['requests_per_s'])} | {fmt(m['events_per_s'])} | "
                f"{fmt(m['events_per_request'], '.2f')} | {fmt(ratio, '.2f')} | "
                f"{fmt(m['max_seal_lag_s'], '.2f')} | {fmt(m['drain_s'], '.2f')} |"
            )
    print(
        "\nCPU ms per accepted request (medians): gunicorn master and workers, PostgreSQL "
        "backends of the database, sealer, this client; and how busy the whole machine was "
        "(every process, ours and others').\n"
    )
    print("| mode | N | gunicorn | PostgreSQL | sealer | client | machine busy % |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for n, row in summary["per_writers"].items():
        for mode in args.modes:
            cpu = row[mode]["cpu_ms_per_request"]
            print(
                f"| {mode} | {n} | {fmt(cpu.get('server'))} | {fmt(cpu.get('database'))} | "
                f"{fmt(cpu.get('sealer') if mode == 'audited' else None)} | "
                f"{fmt(cpu.get('client'))} | {fmt(row[mode]['machine_busy_pct'], '.0f')} |"
            )
    print()
    scaling = summary.get("scaling_audited_events_4_vs_1")
    print(
        f"audited events/s, 4 writers / 1 writer: {fmt(scaling, '.2f')} (target >= 1.5: "
        f"{'met' if summary.get('target_scaling_4_vs_1_met') else 'NOT met'})"
    )
    ratio8 = summary["per_writers"].get("8", {}).get("ratio_audited_unaudited")
    print(
        f"audited / unaudited requests/s at 8 writers: {fmt(ratio8, '.2f')} (target >= 0.5: "
        f"{'met' if summary.get('target_ratio_at_8_met') else 'NOT met'})"
    )
    print(
        f"largest seal lag seen: {fmt(summary['max_seal_lag_s'], '.2f')} s; audit events written "
        f"while auditing was switched off: {summary['unaudited_events_written']}"
    )


def machine(url: str) -> dict[str, Any]:
    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    with psycopg.connect(url) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "postgresql": row[0] if row else "",
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--data-dir", type=Path, default=ROOT / "var" / "bench-audit")
    parser.add_argument("--user", default="socialtjanst", help="demo practitioner who writes")
    parser.add_argument("--writers", default="1,2,4,8", help="comma-separated N")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds before measuring")
    parser.add_argument(
        "--with-inline", action="store_true", help="also SAMVERKAN_AUDIT_SEALING=inline"
    )
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    args.writers = [int(n) for n in args.writers.split(",")]
    args.modes = ["audited", "unaudited"] + (["inline"] if args.with_inline else [])
    args.data_dir = args.data_dir.resolve()
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    targets = setup(args)
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    load_start = os.getloadavg()
    runs: list[Run] = []
    for rnd in range(1, args.rounds + 1):
        for n in args.writers:
            for mode in args.modes:
                run = measure(args, targets, rnd, mode, n)
                runs.append(run)
                print(
                    f"round {rnd} {mode:>9} N={n}: {run.requests_per_s:7.1f} req/s "
                    f"{run.events_per_s:7.1f} events/s  other={run.other_statuses} "
                    f"errors={run.errors} lag={fmt(run.max_seal_lag_s, '.2f')} "
                    f"drain={fmt(run.drain_s, '.2f')} load={run.load_before:.2f} "
                    f"busy={run.machine_busy_pct:.0f}% cpu_ms/req={run.cpu_ms_per_request}",
                    flush=True,
                )
    summary = summarise(runs, args)
    print_table(summary, args)
    status = subprocess.run(  # noqa: S603  fixed arguments
        [str(BIN / "samverkan"), "audit", "status"],
        env=server_env(args), capture_output=True, text=True, check=False,
    )  # fmt: skip
    print(f"\nsamverkan audit status:\n{status.stdout.strip()}")
    info = machine(args.database_url)
    print(f"\nmachine: {info}; load average at start {load_start}, at end {os.getloadavg()}")
    if args.json:
        result = {
            "started_utc": started,
            "machine": info,
            "load_average_start": load_start,
            "load_average_end": os.getloadavg(),
            "switched_off": SWITCHED_OFF,
            "config": {
                "writers": args.writers,
                "modes": args.modes,
                "rounds": args.rounds,
                "duration_s": args.duration,
                "warmup_s": args.warmup,
                "user": args.user,
                "cases": sorted({t.case_id for t in targets}),
            },
            "runs": [asdict(r) for r in runs],
            "summary": summary,
        }
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
