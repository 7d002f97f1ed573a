"""What every part of the synthetic data set shares: options, the guard, time, the builder."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from stdnum import luhn

from samverkan.accounts.models import User
from samverkan.accounts.services import user_prepare
from samverkan.cases.models import Case, Factor, Guardian, InformationCategory, Youth
from samverkan.cases.services import Pseudonyms
from samverkan.consent.services import add_months
from samverkan.disclosure.facts import STOCKHOLM
from samverkan.lib.fields import search_hash
from samverkan.organisations.models import Municipality
from samverkan.synth.audit import AuditLog

SYNTHETIC_SUFFIX = " (syntetisk)"
CODES = range(9000, 10000)
# Municipalities generated together: their rows are created, then forgotten, per chunk.
CHUNK = 8
EMAIL_DOMAIN = "synt.samverkan.invalid"


class SynthError(Exception):
    """Synthetic data cannot be generated here; the message is one line for the operator."""


@dataclass(frozen=True)
class SynthOptions:
    municipalities: int
    youths_per_municipality: int
    seed: int = 1
    start: date | None = None  # first day cases are raised; default ``months`` months ago
    months: int = 24


@dataclass
class SynthReport:
    counts: Counter[str] = field(default_factory=Counter)
    seconds: dict[str, float] = field(default_factory=dict)
    facts: int = 0


def synthetic_municipalities() -> models.QuerySet[Municipality]:
    return Municipality.objects.filter(name__endswith=SYNTHETIC_SUFFIX)


def synth_check_allowed(*, force: bool) -> None:
    """Never in production; never mixed with cases of real municipalities unless forced."""
    if settings.PRODUCTION:
        raise SynthError(
            "refused: SAMVERKAN_ENV=production; synthetic data never goes into a production "
            "database"
        )
    real_cases = Case.objects.exclude(group__municipality__name__endswith=SYNTHETIC_SUFFIX)
    if not force and real_cases.exists():
        raise SynthError(
            "refused: the database holds cases of non-synthetic municipalities; use an empty "
            "database, or --force to add synthetic data beside them"
        )


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=STOCKHOLM)


def start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=STOCKHOLM)


def day_of(moment: datetime) -> date:
    return moment.astimezone(STOCKHOLM).date()


@dataclass
class Chunk:
    """Rows of a few municipalities, handed to the services' bulk helpers together."""

    rows: dict[type[models.Model], list[models.Model]] = field(
        default_factory=lambda: defaultdict(list)
    )

    def add(self, row: models.Model) -> None:
        self.rows[type(row)].append(row)


class Builder:
    """The run's options, seeded randomness, clock and the lists it draws from."""

    def __init__(self, options: SynthOptions, report: SynthReport, progress: Callable[[str], None]):
        self.options = options
        self.report = report
        self.progress = progress
        # Seeded, for a reproducible data set: nothing here is a secret.
        self.rng = random.Random(options.seed)  # noqa: S311
        self.audit = AuditLog(random.Random(options.seed + 1))  # noqa: S311
        self.now = timezone.now()
        self.today = timezone.localdate()
        start = options.start or add_months(self.today.replace(day=1), -options.months)
        self.start = start
        self.end = min(add_months(start, options.months), self.today)
        self.org_time = local(start - timedelta(days=30), 10)
        self.max_months: int = settings.CONSENT_MAX_MONTHS
        self.youth_signs_from: int = settings.CONSENT_YOUTH_SIGNS_FROM_AGE
        self.numbers: dict[str, set[str]] = {"youth": set(), "guardian": set()}
        # Numbers already held (an earlier run, or real data beside --force): their hashes.
        self.held: dict[str, set[str]] = {
            "youth": set(Youth.objects.values_list("identity_number_hash", flat=True)),
            "guardian": {
                digest
                for digest in Guardian.objects.values_list("identity_number_hash", flat=True)
                if digest
            },
        }
        self.pseudonyms = Pseudonyms()
        self.factors: dict[str, list[int]] = defaultdict(list)
        for pk, kind in Factor.objects.filter(is_active=True).values_list("pk", "kind"):
            self.factors[kind].append(pk)
        self.categories: dict[str, list[InformationCategory]] = defaultdict(list)
        for category in InformationCategory.objects.filter(is_active=True):
            self.categories[category.sector].append(category)
        self.user_number = 0

    def count(self, counts: Counter[str]) -> None:
        self.report.counts.update(counts)

    def work_time(self, day: date) -> datetime:
        """A moment in office hours on a weekday near ``day``; now and then an evening."""
        while day.weekday() >= 5:
            day += timedelta(days=1)
        if self.rng.random() < 0.03:
            return local(day, self.rng.randint(18, 21), self.rng.randint(0, 59))
        return local(day, self.rng.randint(8, 16), self.rng.randint(0, 59))

    def after(self, moment: datetime, low: int, high: int) -> datetime:
        """A working moment ``low``–``high`` days after ``moment``, never before it."""
        candidate = self.work_time(day_of(moment) + timedelta(days=self.rng.randint(low, high)))
        return candidate if candidate > moment else moment + timedelta(minutes=5)

    def user(self, town_code: str, first: str, last: str) -> User:
        self.user_number += 1
        username = f"synt-{town_code}-{self.user_number}"
        return user_prepare(
            username=username,
            email=f"{username}@{EMAIL_DOMAIN}",
            first_name=first,
            last_name=last,
        )

    def number(self, born: date, *, girl: bool | None, kind: str) -> str:
        """A fresh number, valid in form, for someone born on ``born`` that no one holds."""
        taken = self.numbers[kind]
        while True:
            serial = self.rng.randint(0, 99) * 10
            if girl is None:
                serial += self.rng.randint(0, 9)
            else:
                serial += self.rng.choice((0, 2, 4, 6, 8) if girl else (1, 3, 5, 7, 9))
            body = f"{born:%y%m%d}{serial:03d}"
            digits = f"{born:%Y%m%d}{serial:03d}{luhn.calc_check_digit(body)}"
            if digits in taken:
                continue
            taken.add(digits)
            if search_hash(kind, digits) not in self.held[kind]:
                return digits
