"""Time the council dashboard on the synthetic national-scale set (docs/performance.md).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/samverkan_bench \\
    SAMVERKAN_DATA_DIR=var/bench .venv/bin/python bench/dashboard.py [--runs 20] [--warmup 3]

For each of several municipalities it measures, as a council member of that municipality:

- ``page``: the whole ``GET /stats/`` through Django's test ``Client`` (middleware, session,
  ``dashboard_data``, the audit event the view writes, template rendering), logged in as a
  council member with a second factor, as after a real login;
- ``data``: ``selectors.dashboard_data`` alone, called in Python;
- ``sql``: the SQL that ``dashboard_data`` ran (captured with ``CaptureQueriesContext``) run
  again on a raw cursor, every statement fetched in full: what the database needs for the same
  aggregates, with no Python around it.

Each figure is the median (and 95th percentile) of ``--runs`` runs after ``--warmup`` runs;
the ratio is page median / SQL median. The database must have been built by
``bench/national.sh`` (``samverkan synth``), whose council members have no password: the
script gives the ones it uses a TOTP factor, which the middleware requires of every account.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "samverkan.settings")
os.environ.setdefault("SAMVERKAN_DATA_DIR", str(ROOT / "var" / "bench"))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/samverkan_bench")

import django  # noqa: E402

django.setup()

from allauth.mfa.models import Authenticator  # noqa: E402
from allauth.mfa.totp.internal.auth import TOTP  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

from samverkan.accounts.models import User  # noqa: E402
from samverkan.cases.models import Case  # noqa: E402
from samverkan.lib import context  # noqa: E402
from samverkan.organisations.models import Membership, Municipality, Role  # noqa: E402
from samverkan.stats import selectors  # noqa: E402
from samverkan.stats.models import CaseFact  # noqa: E402
from samverkan.synth.base import SYNTHETIC_SUFFIX  # noqa: E402


@dataclass
class Figures:
    median_ms: float
    p95_ms: float
    min_ms: float


@dataclass
class Result:
    municipality: str
    code: str
    cases_in_period: int
    statements: int
    page: Figures
    data: Figures
    sql: Figures
    ratio_page_sql: float


def figures(samples: list[float]) -> Figures:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return Figures(
        median_ms=round(statistics.median(ordered) * 1000, 1),
        p95_ms=round(p95 * 1000, 1),
        min_ms=round(ordered[0] * 1000, 1),
    )


def timed(action: Callable[[], object], runs: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        action()
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        action()
        samples.append(time.perf_counter() - began)
    return samples


def council_member(municipality: Municipality) -> User:
    membership = (
        Membership.objects.filter(role=Role.COUNCIL_MEMBER, agency__municipality=municipality)
        .select_related("user")
        .order_by("pk")
        .first()
    )
    if membership is None:
        raise SystemExit(f"no council member in {municipality.code}: was the set made by synth?")
    user = membership.user
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    return user


def pick(codes: list[str], count: int) -> list[Municipality]:
    towns = Municipality.objects.filter(name__endswith=SYNTHETIC_SUFFIX).order_by("code")
    if codes:
        return list(towns.filter(code__in=codes))
    everything = list(towns)
    if not everything:
        raise SystemExit("no synthetic municipalities: run bench/national.sh first")
    step = max(1, len(everything) // count)
    return everything[::step][:count]


def measure(town: Municipality, year: int, runs: int, warmup: int) -> Result:
    start, _end, after = selectors.year_bounds(year)
    user = council_member(town)
    client = Client(HTTP_HOST="127.0.0.1", HTTP_ACCEPT_LANGUAGE="sv")
    client.force_login(user, backend="samverkan.accounts.backends.AuthenticationBackend")
    url = reverse("stats:dashboard")
    params = {"municipality": town.code, "year": str(year)}

    def page() -> None:
        response = client.get(url, params)
        if response.status_code != 200:
            raise SystemExit(f"GET {url} answered {response.status_code} for {town.code}")

    def data() -> None:
        selectors.dashboard_data(viewer=user, municipality_id=town.pk, year=year)

    # A fresh user object per call, as per request, so no per-request cache carries over.
    def fresh_data() -> None:
        nonlocal user
        user = User.objects.get(pk=user.pk)
        data()

    with CaptureQueriesContext(connection) as captured:
        data()
    statements = [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].lstrip().upper().startswith("SELECT")
    ]

    def sql() -> None:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
                cursor.fetchall()

    cases = CaseFact.objects.filter(
        municipality=town, raised_month__gte=start, raised_month__lt=after
    ).count()
    page_samples = timed(page, runs, warmup)
    data_samples = timed(fresh_data, runs, warmup)
    sql_samples = timed(sql, runs, warmup)
    page_figures, sql_figures = figures(page_samples), figures(sql_samples)
    return Result(
        municipality=town.name,
        code=town.code,
        cases_in_period=cases,
        statements=len(statements),
        page=page_figures,
        data=figures(data_samples),
        sql=sql_figures,
        ratio_page_sql=round(page_figures.median_ms / max(sql_figures.median_ms, 0.001), 1),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--count", type=int, default=5, help="How many municipalities.")
    parser.add_argument("--code", action="append", default=[], help="A municipality code.")
    parser.add_argument(
        "--year", type=int, default=selectors.current_year(), help="The calendar year shown."
    )
    parser.add_argument("--json", type=Path, help="Also write the results here.")
    args = parser.parse_args()
    start, end, _after = selectors.year_bounds(args.year)

    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    print(
        f"data set: {Municipality.objects.count()} municipalities, {Case.objects.count()} cases, "
        f"{CaseFact.objects.count()} case facts"
    )
    print(f"period: {start:%Y-%m} .. {end:%Y-%m}; {args.runs} runs after {args.warmup} warm-up")
    header = (
        f"{'kod':>4} {'cases':>6} {'stmts':>5}  {'page med':>8} {'p95':>7}  "
        f"{'data med':>8}  {'sql med':>7} {'p95':>7}  {'page/sql':>8}"
    )
    print(header)
    results = []
    ctx = context.RequestContext(request_id=context.new_request_id(), source="cli")
    with context.bound(ctx):
        for town in pick(args.code, args.count):
            r = measure(town, args.year, args.runs, args.warmup)
            results.append(r)
            print(
                f"{r.code:>4} {r.cases_in_period:>6} {r.statements:>5}  "
                f"{r.page.median_ms:>6.1f}ms {r.page.p95_ms:>5.1f}ms  "
                f"{r.data.median_ms:>6.1f}ms  {r.sql.median_ms:>5.1f}ms {r.sql.p95_ms:>5.1f}ms  "
                f"{r.ratio_page_sql:>8.1f}"
            )
    pages = [r.page.median_ms for r in results]
    sqls = [r.sql.median_ms for r in results]
    worst_p95 = max(r.page.p95_ms for r in results)
    print(
        f"overall: page median of medians {statistics.median(pages):.1f} ms (worst p95 "
        f"{worst_p95:.1f} ms), SQL {statistics.median(sqls):.1f} ms, ratio "
        f"{statistics.median(pages) / max(statistics.median(sqls), 0.001):.1f}; goal < 1000 ms: "
        f"{'met' if worst_p95 < 1000 else 'NOT met'}"
    )
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=2) + "\n")


if __name__ == "__main__":
    main()
