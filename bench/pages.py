"""Signed-in pages under load: requests/s, CPU per request and queries (issue 18).

    .venv/bin/python bench/pages.py [--rounds 3] [--duration 10] [--workers 2] [--json FILE]
        [--database-url postgres://postgres@127.0.0.1:5432/samverkan_bench_pages]

Setup (every run): drops and recreates the database (its name must contain ``bench``),
``samverkan demo --no-serve`` (migrations and the demo data, keys in ``--data-dir``), a read
token for the demo practitioner ``--user`` (``samverkan token create``), and a signed-in session
for them and for the demo coordinator ``--coordinator``: made in this process the way a login
leaves it (``Client.force_login``, allauth's record of the password and the TOTP step, the
session clocks of ``SessionTimeoutMiddleware``). The account has a TOTP factor, which is what
``MfaRequiredMiddleware`` asks for. The practitioner's open case with the most journal entries
is found through the API.

Pages, each answered by gunicorn (``samverkan.wsgi``, ``--workers`` sync workers,
``DJANGO_SETTINGS_MODULE=pages_settings``, ``--pythonpath bench``) on the same database:

- ``bare``: ``/bench/bare/`` (``bench/pages_urls.py``), a few bytes of text behind the login:
  the middleware, the session and the login check, nothing else;
- ``layout``: ``/bench/layout/``, ``base.html`` with empty blocks;
- ``case``: ``/cases/<pk>/``; ``consents``: ``/consents/case/<pk>/``;
- ``group index``: ``/cases/groups/<pk>/``, as the coordinator if the practitioner is not one;
- ``api entries``: ``GET /api/v1/cases/<pk>/entries`` with the bearer token.

Every page must answer 200 (and ``bare``/``layout`` must send an anonymous visitor away) before
anything is measured. Queries: each page once through Django's test ``Client`` in this process
after one warm-up request, counted with ``CaptureQueriesContext``. Load: ``wrk -c 4 -t 2`` (a
Lua hook counts every answer that is not 200, 3xx included) or, without wrk, a Python client
with as many keep-alive threads. Each round runs every page once in turn, ``--warmup`` seconds
unmeasured then ``--duration`` seconds measured; any answer but 200 ends the run. CPU per
request: gunicorn's master and workers plus their PostgreSQL backends (told apart from the
sealer's by ``PGAPPNAME``), from /proc. ``samverkan audit seal --loop`` runs throughout, as in
production, so that the audit events of the page views do not pile up unsealed; its CPU and its
backend's are reported apart. Figures are medians over rounds; the ratio to ``bare`` is the
median of the per-round ratios (``bare`` measured in the same round).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import audit_scale as base
import psycopg

ROOT = base.ROOT
BENCH = base.BENCH
BIN = base.BIN
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/samverkan_bench_pages"
SETTINGS = "pages_settings"
SERVER_APP = "bench-pages-gunicorn"  # PGAPPNAME of gunicorn's database connections
SEALER_APP = "bench-pages-sealer"
WRK = shutil.which("wrk")

# wrk's own "Non-2xx or 3xx responses" lets a 302 to the login page pass; this counts every
# answer that is not 200, over all threads.
WRK_LUA = """\
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) not200 = 0 end
function response(status, headers, body)
  if status ~= 200 then not200 = not200 + 1 end
end
function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("not200") end
  io.write(string.format("bench-not-200: %d\\n", total))
end
"""


@dataclass(frozen=True)
class Page:
    name: str
    path: str
    who: str  # "practitioner", "coordinator" or "token"
    headers: dict[str, str] = field(compare=False)


@dataclass
class PageRun:
    round: int
    page: str
    seconds: float
    requests: int
    not_200: int
    socket_errors: int
    requests_per_s: float
    cpu_ms_per_request: dict[str, float | None]
    machine_busy_pct: float
    load_before: float


# --- Setup -----------------------------------------------------------------------------------


def env_for(args: argparse.Namespace, app: str = "", **extra: str) -> dict[str, str]:
    """The environment of audit_scale's processes, with the project's own settings unless
    ``extra`` says otherwise, and ``app`` as the PostgreSQL application name."""
    env = base.server_env(args, **{"DJANGO_SETTINGS_MODULE": "samverkan.settings", **extra})
    if app:
        env["PGAPPNAME"] = app
    return env


def setup_database(args: argparse.Namespace) -> str:
    """Recreates the database with the demo data; returns a read token for ``--user``."""
    args.data_dir.mkdir(parents=True, exist_ok=True)
    print(f"setup: recreating {urlsplit(args.database_url).path.lstrip('/')}", flush=True)
    base.recreate_database(args.database_url)
    started = time.monotonic()
    base.samverkan(args, "demo", "--no-serve")
    print(f"setup: demo data loaded in {time.monotonic() - started:.0f}s", flush=True)
    token = base.samverkan(
        args, "token", "create", "--user", args.user, "--days", "1", "--scope", "read",
        "--name", "bench pages",
    ).strip()  # fmt: skip
    base.samverkan(args, "audit", "seal")
    return token


def django_setup(args: argparse.Namespace) -> None:
    """Django in this process, on the bench's database and keys, with the bench's URLs."""
    os.environ.update(env_for(args, "bench-pages-client", DJANGO_SETTINGS_MODULE=SETTINGS))
    sys.path.insert(0, str(BENCH))
    import django

    django.setup()


def in_process_client(cookie: str | None = None, token: str | None = None) -> Any:
    from django.conf import settings
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    if token:
        client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    if cookie:
        client.cookies[settings.SESSION_COOKIE_NAME] = cookie
    return client


def signed_in_session(username: str) -> str:
    """The session key of a fresh session of ``username``, as a password and TOTP login
    leaves it: Django's login, allauth's record of both steps, the session clocks."""
    from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
    from allauth.mfa.models import Authenticator
    from django.conf import settings
    from django.contrib.auth import get_backends, get_user_model
    from django.test import Client

    from samverkan.web.middleware import _AUTH_AT, _LAST_SEEN

    user = get_user_model().objects.get(username=username)
    totp = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    if totp is None:
        raise SystemExit(f"{username} has no TOTP factor: the middleware would ask to enrol one")
    # The backend a password login records in the session: allauth's, or the first subclass
    # of it in AUTHENTICATION_BACKENDS (what allauth's adapter picks).
    backend = next(
        (
            f"{type(b).__module__}.{type(b).__qualname__}"
            for b in get_backends()
            if isinstance(b, AllauthBackend)
        ),
        None,
    )
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user, backend=backend)
    session = client.session
    now = time.time()
    session["account_authentication_methods"] = [
        {"method": "password", "at": now, "username": username},
        {"method": "mfa", "at": now, "id": totp.pk, "type": "totp"},
    ]
    session[_AUTH_AT] = now
    session[_LAST_SEEN] = now
    session.save()
    key: str = client.cookies[settings.SESSION_COOKIE_NAME].value
    return key


def api(client: Any, path: str) -> Any:
    response = client.get(path)
    if response.status_code != 200:
        raise SystemExit(f"GET {path}: {response.status_code}")
    return response.json()


def pick_case(token: str) -> tuple[int, int, int]:
    """(case id, group id, entries) of the open case of the token's account with the most
    journal entries it may see, among those it sits on the team of."""
    client = in_process_client(token=token)
    me = api(client, "/api/v1/me")
    best: tuple[int, int, int] | None = None
    for case in api(client, "/api/v1/cases"):
        if case["status"] == "closed":
            continue
        team = api(client, f"/api/v1/cases/{case['id']}/team")
        if not any(m["user_id"] == me["id"] for m in team["members"]):
            continue
        entries = api(client, f"/api/v1/cases/{case['id']}/entries")
        count = len(entries["entries"])  # those the account sees, withheld ones apart
        if best is None or count > best[2]:
            best = (case["id"], case["group"]["id"], count)
    if best is None:
        raise SystemExit(f"{me['username']} sits on the team of no open case")
    return best


def build_pages(args: argparse.Namespace, token: str) -> tuple[list[Page], dict[str, Any]]:
    from django.conf import settings

    case_id, group_id, entries = pick_case(token)
    cookies = {who: signed_in_session(name) for who, name in
               (("practitioner", args.user), ("coordinator", args.coordinator))}  # fmt: skip

    def cookie(who: str) -> dict[str, str]:
        return {"Cookie": f"{settings.SESSION_COOKIE_NAME}={cookies[who]}"}

    index = f"/cases/groups/{group_id}/"
    index_who = "practitioner"
    if in_process_client(cookies["practitioner"]).get(index).status_code != 200:
        index_who = "coordinator"
    pages = [
        Page("bare", "/bench/bare/", "practitioner", cookie("practitioner")),
        Page("layout", "/bench/layout/", "practitioner", cookie("practitioner")),
        Page("case", f"/cases/{case_id}/", "practitioner", cookie("practitioner")),
        Page("consents", f"/consents/case/{case_id}/", "practitioner", cookie("practitioner")),
        Page("group index", index, index_who, cookie(index_who)),
        Page(
            "api entries",
            f"/api/v1/cases/{case_id}/entries",
            "token",
            {"Authorization": f"Bearer {token}"},
        ),
    ]
    facts = {"case_id": case_id, "group_id": group_id, "case_entries": entries}
    print(
        f"setup: case {case_id} ({entries} entries), group {group_id}; "
        f"group index as the {index_who}",
        flush=True,
    )
    return pages, facts


def count_queries(pages: list[Page]) -> dict[str, int]:
    """Queries of one request to each page, in this process, after one warm-up request."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts: dict[str, int] = {}
    for page in pages:
        client = in_process_client()
        extra = {f"HTTP_{k.upper()}": v for k, v in page.headers.items()}
        client.get(page.path, **extra)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(page.path, **extra)
        if response.status_code != 200:
            raise SystemExit(f"{page.name}: {page.path} answered {response.status_code} in-process")
        counts[page.name] = len(captured.captured_queries)
    connection.close()
    return counts


# --- Processes -------------------------------------------------------------------------------


def http_get(port: int, path: str, headers: dict[str, str]) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status, response.getheader("Location") or ""
    finally:
        conn.close()


def start_server(args: argparse.Namespace) -> tuple[subprocess.Popen[bytes], int]:
    port = base.free_port()
    log = (args.data_dir / "gunicorn.log").open("ab")
    command = [
        str(BIN / "gunicorn"), "samverkan.wsgi:application", "--pythonpath", str(BENCH),
        "--workers", str(args.workers), "--worker-class", "sync",
        "--bind", f"127.0.0.1:{port}", "--timeout", "60", "--log-level", "warning",
    ]  # fmt: skip
    server = subprocess.Popen(  # noqa: S603  fixed arguments
        command,
        env=env_for(args, SERVER_APP, DJANGO_SETTINGS_MODULE=SETTINGS),
        stdout=log,
        stderr=log,
    )
    log.close()
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited; see {args.data_dir / 'gunicorn.log'}")
        try:
            ready = http_get(port, "/api/v1/openapi.json", {})[0] == 200
        except OSError:
            ready = False
        if ready:
            time.sleep(1.0)  # let every worker finish booting
            return server, port
        time.sleep(0.2)
    base.stop(server)
    raise SystemExit("gunicorn did not answer within 90 s")


def start_sealer(args: argparse.Namespace) -> subprocess.Popen[bytes]:
    log = (args.data_dir / "sealer.log").open("ab")
    sealer = subprocess.Popen(  # noqa: S603  fixed arguments
        [str(BIN / "samverkan"), "audit", "seal", "--loop"],
        env=env_for(args, SEALER_APP),
        stdout=log,
        stderr=log,
    )
    log.close()
    return sealer


def check_pages(port: int, pages: list[Page]) -> None:
    """Every page answers 200 through gunicorn; the bench pages refuse an anonymous visitor."""
    for page in pages:
        status, _ = http_get(port, page.path, page.headers)
        if status != 200:
            raise SystemExit(f"{page.name}: GET {page.path} answered {status}, not 200")
    for page in pages[:2]:
        status, location = http_get(port, page.path, {})
        if status != 302 or "/login" not in location:
            raise SystemExit(f"{page.name}: anonymous GET {page.path} answered {status}")


# --- Load ------------------------------------------------------------------------------------


class Getter(base.KeepAliveClient):
    """One client connection of the Python load generator: GETs back to back until
    ``stop_at``, keeping the connection while the server keeps it."""

    def __init__(self, port: int, page: Page, stop_at: float) -> None:
        super().__init__(port, stop_at, "GET", page.path, dict(page.headers))
        self.page = page


@dataclass(frozen=True)
class Load:
    requests: int
    seconds: float
    not_200: int
    socket_errors: int


def run_wrk(args: argparse.Namespace, port: int, page: Page, seconds: int) -> Load:
    assert WRK is not None  # noqa: S101  chosen only when found
    lua = args.data_dir / "pages.lua"
    lua.write_text(WRK_LUA)
    command = [WRK, "-c", str(args.connections), "-t", str(args.threads), "-d", f"{seconds}s",
               "-s", str(lua)]  # fmt: skip
    for name, value in page.headers.items():
        command += ["-H", f"{name}: {value}"]
    command.append(f"http://127.0.0.1:{port}{page.path}")
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    out = done.stdout
    total = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)\b", out)
    not_200 = re.search(r"bench-not-200: (\d+)", out)
    if done.returncode != 0 or total is None or not_200 is None:
        raise SystemExit(f"wrk failed on {page.name}:\n{out}\n{done.stderr}")
    scale = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[total.group(3)]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return Load(
        requests=int(total.group(1)),
        seconds=float(total.group(2)) * scale,
        not_200=max(int(not_200.group(1)), int(non_2xx.group(1)) if non_2xx else 0),
        socket_errors=sum(int(n) for n in errors.groups()) if errors else 0,
    )


def run_python(args: argparse.Namespace, port: int, page: Page, seconds: int) -> Load:
    started = time.monotonic()
    getters = [Getter(port, page, started + seconds) for _ in range(args.connections)]
    for getter in getters:
        getter.start()
    for getter in getters:
        getter.join()
    statuses = Counter(status for g in getters for _, status in g.answers)
    requests = sum(statuses.values())
    return Load(
        requests=requests,
        seconds=time.monotonic() - started,
        not_200=requests - statuses.get(200, 0),
        socket_errors=sum(g.errors for g in getters),
    )


def cpu_sample(
    conn: psycopg.Connection[Any],
    server: subprocess.Popen[bytes],
    sealer: subprocess.Popen[bytes],
) -> dict[str, dict[int, float]]:
    """CPU seconds so far of gunicorn's processes, their backends, the sealer and its."""
    rows = conn.execute(
        "SELECT pid, application_name FROM pg_stat_activity WHERE datname = current_database()"
    ).fetchall()
    backends = {
        app: [int(pid) for pid, name in rows if name == app] for app in (SERVER_APP, SEALER_APP)
    }
    return {
        "server": {pid: base._cpu_s(pid) for pid in base._tree(server.pid)},
        "database": {pid: base._cpu_s(pid) for pid in backends[SERVER_APP]},
        "sealer": {sealer.pid: base._cpu_s(sealer.pid)},
        "sealer_database": {pid: base._cpu_s(pid) for pid in backends[SEALER_APP]},
    }


def cpu_ms(
    first: dict[str, dict[int, float]], last: dict[str, dict[int, float]], requests: int
) -> dict[str, float | None]:
    """CPU ms per request, per part, and ``total`` = gunicorn + its backends. A process new in
    the window counts from 0."""
    result: dict[str, float | None] = {}
    for part, now in last.items():
        before = first.get(part, {})
        used = sum(max(0.0, s - before.get(pid, 0.0)) for pid, s in now.items())
        result[part] = round(used * 1000 / requests, 3) if requests else None
    server, database = result["server"], result["database"]
    result["total"] = (
        round(server + database, 3) if server is not None and database is not None else None
    )
    return result


def measure(
    args: argparse.Namespace,
    conn: psycopg.Connection[Any],
    processes: tuple[subprocess.Popen[bytes], subprocess.Popen[bytes], int],
    page: Page,
    rnd: int,
) -> PageRun:
    server, sealer, port = processes
    load = run_wrk if args.loader == "wrk" else run_python
    if args.warmup:
        warm = load(args, port, page, args.warmup)
        if warm.not_200:
            raise SystemExit(f"{page.name}: {warm.not_200} answers not 200 while warming up")
    load_before = os.getloadavg()[0]
    busy_first = base._machine_busy()
    first = cpu_sample(conn, server, sealer)
    done = load(args, port, page, args.duration)
    last = cpu_sample(conn, server, sealer)
    busy_last = base._machine_busy()
    if done.not_200:
        raise SystemExit(
            f"{page.name}: {done.not_200} of {done.requests} answers were not 200 "
            f"(GET {page.path}); see {args.data_dir / 'gunicorn.log'}"
        )
    busy = (busy_last[0] - busy_first[0]) / max(1, busy_last[1] - busy_first[1])
    return PageRun(
        round=rnd,
        page=page.name,
        seconds=round(done.seconds, 3),
        requests=done.requests,
        not_200=done.not_200,
        socket_errors=done.socket_errors,
        requests_per_s=round(done.requests / done.seconds, 2) if done.seconds else 0.0,
        cpu_ms_per_request=cpu_ms(first, last, done.requests),
        machine_busy_pct=round(100 * busy, 1),
        load_before=load_before,
    )


# --- Report ----------------------------------------------------------------------------------


def med(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def summarise(runs: list[PageRun], pages: list[Page], queries: dict[str, int]) -> dict[str, Any]:
    bare = {r.round: r.requests_per_s for r in runs if r.page == "bare"}
    summary: dict[str, Any] = {}
    for page in pages:
        mine = [r for r in runs if r.page == page.name]
        parts = sorted({p for r in mine for p in r.cpu_ms_per_request})
        ratios: list[float | None] = [
            r.requests_per_s / bare[r.round] if bare.get(r.round) else None for r in mine
        ]
        summary[page.name] = {
            "path": page.path,
            "as": page.who,
            "queries": queries[page.name],
            "requests_per_s": med([r.requests_per_s for r in mine]),
            "cpu_ms_per_request": {
                p: med([r.cpu_ms_per_request.get(p) for r in mine]) for p in parts
            },
            "ratio_to_bare": round(ratio, 3) if (ratio := med(ratios)) is not None else None,
            "machine_busy_pct": med([r.machine_busy_pct for r in mine]),
            "socket_errors": sum(r.socket_errors for r in mine),
        }
    return summary


def print_table(summary: dict[str, Any], args: argparse.Namespace) -> None:
    fmt = base.fmt
    print(
        f"\nMedians over {args.rounds} round(s) of {args.duration} s per page; {args.loader} "
        f"with {args.connections} connections against gunicorn with {args.workers} sync "
        "workers. CPU ms/req = gunicorn (master and workers) + their PostgreSQL backends; "
        "the sealer apart.\n"
    )
    print("| page | queries | req/s | CPU ms/req | ratio to bare | sealer CPU ms/req | busy % |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, row in summary.items():
        cpu = row["cpu_ms_per_request"]
        sealer = None
        if cpu.get("sealer") is not None and cpu.get("sealer_database") is not None:
            sealer = cpu["sealer"] + cpu["sealer_database"]
        print(
            f"| {name} | {row['queries']} | {fmt(row['requests_per_s'])} | "
            f"{fmt(cpu.get('total'), '.2f')} | {fmt(row['ratio_to_bare'], '.2f')} | "
            f"{fmt(sealer, '.2f')} | {fmt(row['machine_busy_pct'], '.0f')} |"
        )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--data-dir", type=Path, default=ROOT / "var" / "bench-pages")
    parser.add_argument("--user", default="socialtjanst", help="demo practitioner")
    parser.add_argument("--coordinator", default="samordnare", help="demo coordinator")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--connections", type=int, default=4, help="wrk -c")
    parser.add_argument("--threads", type=int, default=2, help="wrk -t")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="measured seconds per page")
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured seconds before")
    parser.add_argument(
        "--loader",
        choices=("wrk", "python"),
        default="wrk" if WRK else "python",
        help="load generator (default: wrk when installed)",
    )
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    if args.loader == "wrk" and WRK is None:
        parser.error("wrk is not installed; use --loader python")
    args.data_dir = args.data_dir.resolve()
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    token = setup_database(args)
    django_setup(args)
    sealer = start_sealer(args)
    server: subprocess.Popen[bytes] | None = None
    try:
        pages, facts = build_pages(args, token)
        queries = count_queries(pages)
        server, port = start_server(args)
        check_pages(port, pages)
        print(
            "setup: every page answered 200; anonymous, /bench/bare/ and /bench/layout/ "
            "sent the visitor to the login page",
            flush=True,
        )
        started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        load_start = os.getloadavg()
        runs: list[PageRun] = []
        with psycopg.connect(args.database_url, autocommit=True) as conn:
            for rnd in range(1, args.rounds + 1):
                for page in pages:
                    run = measure(args, conn, (server, sealer, port), page, rnd)
                    runs.append(run)
                    print(
                        f"round {rnd} {page.name:>11}: {run.requests_per_s:7.1f} req/s "
                        f"cpu_ms/req={run.cpu_ms_per_request} errors={run.socket_errors} "
                        f"load={run.load_before:.2f} busy={run.machine_busy_pct:.0f}%",
                        flush=True,
                    )
            drained = base.drain(conn)
    finally:
        if server is not None:
            base.stop(server)
        base.stop(sealer)
    summary = summarise(runs, pages, queries)
    print_table(summary, args)
    info = base.machine(args.database_url)
    print(
        f"\nsealed every event {base.fmt(drained, '.2f')} s after the load stopped; "
        f"case {facts['case_id']} has {facts['case_entries']} entries"
    )
    print(f"machine: {info}; load average at start {load_start}, at end {os.getloadavg()}")
    if args.json:
        result = {
            "started_utc": started,
            "machine": info,
            "load_average_start": load_start,
            "load_average_end": os.getloadavg(),
            "config": {
                "loader": args.loader,
                "connections": args.connections,
                "threads": args.threads,
                "workers": args.workers,
                "rounds": args.rounds,
                "duration_s": args.duration,
                "warmup_s": args.warmup,
                "user": args.user,
                "coordinator": args.coordinator,
                **facts,
            },
            "pages": [{"name": p.name, "path": p.path, "as": p.who} for p in pages],
            "queries": queries,
            "runs": [asdict(r) for r in runs],
            "drain_s": drained,
            "summary": summary,
        }
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
