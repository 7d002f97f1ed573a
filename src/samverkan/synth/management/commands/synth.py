"""``samverkan synth --municipalities N --youths-per-municipality M [--seed S] [--start DATE]
[--months K] [--force]``: a synthetic data set at the chosen scale (``samverkan.synth``)."""

from __future__ import annotations

import time
from argparse import ArgumentParser, ArgumentTypeError
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from samverkan.synth.base import SynthError, SynthOptions, synth_check_allowed
from samverkan.synth.generate import synth_generate


def _positive(maximum: int) -> Any:
    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise ArgumentTypeError(f"{raw!r} is not a whole number") from None
        if not 1 <= value <= maximum:
            raise ArgumentTypeError(f"must be between 1 and {maximum}")
        return value

    return parse


def _day(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ArgumentTypeError(f"{raw!r} is not a date (YYYY-MM-DD)") from None


class Command(BaseCommand):
    help = (
        "Generate fictional municipalities, staff, youths, cases, consents, meetings, plans and "
        "audit events in the configured database (never in production)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--municipalities", type=_positive(1000), required=True)
        parser.add_argument("--youths-per-municipality", type=_positive(10000), required=True)
        parser.add_argument(
            "--seed", type=int, default=1, help="Same seed and same clock, same data set."
        )
        parser.add_argument(
            "--start", type=_day, help="First day cases are raised (default: --months ago)."
        )
        parser.add_argument(
            "--months", type=_positive(120), default=24, help="Months over which cases are raised."
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Add synthetic data beside cases of real municipalities (never in production).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        start: date | None = options["start"]
        if start is not None and start > timezone.localdate():
            raise CommandError("--start lies in the future")
        try:
            synth_check_allowed(force=options["force"])
            began = time.monotonic()
            report = synth_generate(
                options=SynthOptions(
                    municipalities=options["municipalities"],
                    youths_per_municipality=options["youths_per_municipality"],
                    seed=options["seed"],
                    start=start,
                    months=options["months"],
                ),
                progress=lambda message: self.stdout.write(
                    f"[{time.monotonic() - began:7.1f}s] {message}"
                ),
            )
        except SynthError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write("Rows written:")
        for label, count in sorted(report.counts.items()):
            self.stdout.write(f"  {label:<40} {count:>10}")
        seconds = report.seconds
        self.stdout.write(
            f"Synthetic data set ready: {report.facts} case facts built; "
            f"rows {seconds['rows']:.1f}s, audit chain {seconds['audit']:.1f}s, "
            f"agreements {seconds['agreements']:.1f}s, facts {seconds['facts']:.1f}s, "
            f"total {seconds['total']:.1f}s."
        )
