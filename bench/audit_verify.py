"""How fast ``samverkan audit verify`` reads the log, against a plain script (issue 12).

    .venv/bin/python bench/audit_verify.py [--events 300000] [--rounds 3] [--json FILE]

On a PostgreSQL database of its own (``--database-url``, default
``postgres://postgres@127.0.0.1:5432/samverkan_bench_verify``; dropped and made again when it
holds fewer than ``--events`` events) it measures, interleaved, ``--rounds`` times each:

- ``plain``: a script with nothing of Samverkan's: psycopg, a keyset read of the hashed columns
  by sequence number, 5,000 rows a page, and for each row the same canonical JSON and the same
  HMAC-SHA256 under the same key, compared with the stored hash;
- ``verify``: ``samverkan.audit.selectors.audit_verify()``, what the command runs: the same
  reads through the ORM, and the whole check (numbers, links, hashes, IP commitments, anchors,
  the head).

It prints events per second for each, and verify's share of the plain rate (the issue's target
is at least 50 %). The keys are those in ``SAMVERKAN_DATA_DIR`` (default ``var/bench-verify``).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import ipaddress
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/samverkan_bench_verify"


def _create_database(url: str) -> None:
    import psycopg

    base, _, name = url.replace("postgres://", "postgresql://").rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{name}"')


def _setup(url: str) -> None:
    _create_database(url)
    sys.path.insert(0, str(ROOT / "src"))
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "samverkan.settings")
    os.environ.setdefault("SAMVERKAN_DATA_DIR", str(ROOT / "var" / "bench-verify"))
    import django

    django.setup()


def _fill(events: int) -> int:
    """Migrate, and append events until the log holds ``events``: the count it holds."""
    from django.core.management import call_command

    from samverkan.audit.models import AuditEvent
    from samverkan.audit.services import PreparedEvent, append_bulk

    call_command("migrate", verbosity=0)
    have = AuditEvent.objects.count()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    batch = 50_000
    while have < events:
        step = min(batch, events - have)
        append_bulk(
            PreparedEvent(
                occurred_at=start + timedelta(seconds=have + i),
                action="entry.viewed",
                actor_id=1 + (have + i) % 50,
                agency_id=1 + (have + i) % 7,
                object_type="cases.entry",
                object_id=str(have + i),
                case_id=1 + (have + i) % 400,
                legal_basis="consent:1",
                request_id=f"{have + i:032x}",
                source="web",
                details={"identity_shown": False},
            )
            for i in range(step)
        )
        have += step
    # As autovacuum would after a load: the planner then knows the table's size.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE audit_auditevent")
    return have


_PLAIN_SQL = """
SELECT seq, occurred_at, action, outcome, actor_id, agency_id, object_type, object_id,
       case_id, legal_basis, request_id, source, host(ip), ip_commitment, details, prev_hash,
       hash
  FROM audit_auditevent WHERE seq > %s ORDER BY seq LIMIT 5000
"""


def plain(url: str, key: bytes) -> int:
    """Read every sealed event by keyset and check its HMAC: what a plain script does."""
    import psycopg

    count, last, mismatched = 0, 0, 0
    with psycopg.connect(url.replace("postgres://", "postgresql://")) as conn:
        while True:
            rows = conn.execute(_PLAIN_SQL, [last]).fetchall()
            for row in rows:
                (seq, at, action, outcome, actor, agency, otype, oid, case, basis) = row[:10]
                (request, source, ip, commitment, details, prev, stored) = row[10:]
                payload: dict[str, Any] = {
                    "seq": seq,
                    "occurred_at": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                    "action": action,
                    "outcome": outcome,
                    "actor_id": actor,
                    "agency_id": agency,
                    "object_type": otype,
                    "object_id": oid,
                    "case_id": case,
                    "legal_basis": basis,
                    "request_id": request,
                    "source": source,
                    "ip": ip,
                    "details": details,
                    "prev_hash": prev,
                }
                if commitment:
                    payload["ip_commitment"] = commitment
                    if ip is not None:  # hashed as its network (chain.py, D24)
                        prefix = 24 if ":" not in ip else 48
                        payload["ip"] = str(
                            ipaddress.ip_network(f"{ip}/{prefix}", strict=False).network_address
                        )
                message = json.dumps(
                    payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True
                ).encode()
                digest = hmac.new(key, message, hashlib.sha256).hexdigest()
                mismatched += not hmac.compare_digest(digest, stored)
            count += len(rows)
            if len(rows) < 5000:
                break
            last = rows[-1][0]
    if mismatched:
        raise SystemExit(f"plain: {mismatched} events did not match: the bench is wrong")
    return count


def verify() -> int:
    from samverkan.audit.selectors import audit_verify

    result = audit_verify()
    if not result.ok:
        raise SystemExit(f"verify failed: {result.problem}")
    return result.count


def _server_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return str(cursor.fetchone()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    _setup(args.database_url)
    from django.conf import settings

    started = time.perf_counter()
    total = _fill(args.events)
    print(f"log holds {total} events (ready in {time.perf_counter() - started:.1f}s)")
    rates: dict[str, list[float]] = {"plain": [], "verify": []}
    for _ in range(args.rounds):
        for name, run in (
            ("plain", lambda: plain(args.database_url, settings.AUDIT_KEY)),
            ("verify", verify),
        ):
            began = time.perf_counter()
            count = run()
            rates[name].append(count / (time.perf_counter() - began))
    median = {name: statistics.median(values) for name, values in rates.items()}
    for name, values in rates.items():
        shown = ", ".join(f"{v:,.0f}" for v in values)
        print(f"{name:7} median {median[name]:>10,.0f} events/s  (rounds: {shown})")
    share = median["verify"] / median["plain"]
    print(f"verify / plain: {share:.0%} (target: at least 50 %)")
    machine = {
        "nproc": os.cpu_count(),
        "load": os.getloadavg(),
        "postgres": _server_version(),
    }
    print(f"machine: {machine}")
    if args.json:
        args.json.write_text(
            json.dumps({"events": total, "rates": rates, "share": share, "machine": machine})
        )


if __name__ == "__main__":
    main()
