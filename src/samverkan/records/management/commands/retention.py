"""``samverkan retention run [--dry-run]``: purge what retention says is due (DESIGN §6).

The report names record types, counts and case ids only: never a name, identity number or
pseudonym, so it can go to a log or a ticket.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from samverkan.records.retention import RetentionReport
from samverkan.records.services import retention_run


def _ids(ids: list[int]) -> str:
    return ", ".join(str(pk) for pk in ids) if ids else "none"


def format_report(report: RetentionReport) -> list[str]:
    plan = report.plan
    rules = plan.rules
    verb = "would go" if report.dry_run else "went"
    lines = [
        f"retention {'dry run' if report.dry_run else 'run'} at {plan.now.isoformat()}",
        f"rules: closed cases {rules.case_years} years after closure "
        f"(closed on or before {plan.case_cutoff.date().isoformat()}); "
        f"notifications {rules.notification_days} days; "
        f"portal login codes {rules.portal_code_days} days; "
        f"e-ID orders {rules.eid_order_days} days; "
        f"audit log kept {rules.audit_years} years (pruned by: samverkan audit prune)",
        f"cases due: {_ids(plan.due_case_ids)}",
        f"cases on legal hold, kept: {_ids(plan.held_case_ids)}",
        "record types of closed cases, each after its own period: "
        + "; ".join(
            f"{kind} {years} years (closed on or before {plan.type_cutoffs[kind]:%Y-%m-%d})"
            for kind, years in (
                ("journal", rules.journal_years),
                ("consent", rules.consent_years),
                ("concern", rules.concern_years),
                ("meeting", rules.meeting_years),
            )
            if kind in plan.type_cutoffs
        ),
    ]
    for kind in ("journal", "consent", "concern", "meeting"):
        counts = plan.type_records.get(kind, {})
        cases = plan.type_case_ids.get(kind, [])
        total = sum(counts.values())
        lines.append(f"{kind} records past their period: {total} in cases {_ids(cases)}")
        lines += [f"  {label}: {n}" for label, n in sorted(counts.items())]
    if not report.dry_run:
        lines.append(f"cases purged: {_ids(report.purged_case_ids)}")
        lines.append(f"cases partly purged: {_ids(report.partially_purged_case_ids)}")
        if report.failed_case_ids:
            lines.append(f"cases NOT purged (error): {_ids(report.failed_case_ids)}")
    lines.append(f"records that {verb}:")
    if report.removed:
        lines += [f"  {label}: {n}" for label, n in sorted(report.removed.items())]
    else:
        lines.append("  none")
    return lines


class Command(BaseCommand):
    help = "Retention (gallring): purge closed cases past their period and expired records."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        run = sub.add_parser("run", help="Purge what is due; --dry-run only reports it.")
        run.add_argument(
            "--dry-run", action="store_true", help="Report what would go and change nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = retention_run(dry_run=options["dry_run"])
        except DatabaseError as exc:
            raise CommandError(f"retention failed: database error ({type(exc).__name__})") from None
        for line in format_report(report):
            self.stdout.write(line)
        if not report.ok:
            raise CommandError(
                f"retention: {len(report.failed_case_ids)} case(s) could not be purged: "
                f"{_ids(report.failed_case_ids)} (left whole; the others went)"
            )
