"""Synthetic data at national scale: fictional municipalities, staff, youths and their cases.

``synth_generate`` builds a data set that looks to every part of the application exactly as if
people had worked it through the services for months: the same rows, the same encrypted
columns bound to their rows, the same audit events with the details the services write, a
lifecycle that respects the services' rules (consents signed by every required signer before a
case moves to mapping, a goal before an active plan, nothing on a closed case's agenda) and
consent states derived from their facts. Rows are written with ``bulk_create`` in batches and
the audit events are chained in bulk at the end, in the order of their simulated times, so the
290-municipality set of the benchmark is built in minutes rather than hours.

Everything is fictional. Municipality names end in ``(syntetisk)`` and take free codes from
9000–9999, a range no Swedish municipality uses. Identity numbers are valid in form (date and
check digit) but random: they may coincide with a real person's number, which is one reason
synthetic data never goes into a production database (``synth_check_allowed``).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import random
import time as clock
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection, models, transaction
from django.utils import timezone
from stdnum import luhn

from samverkan.accounts.models import User
from samverkan.audit.chain import EventRecord, compute_hash
from samverkan.audit.models import AuditEvent, ChainHead
from samverkan.cases.models import (
    Case,
    CaseTeamMember,
    ClosureReason,
    ConcernReport,
    Entry,
    EntryVersion,
    Factor,
    FactorKind,
    Gender,
    Guardian,
    GuardianLink,
    InformationCategory,
    PseudonymCounter,
    Status,
    Youth,
)
from samverkan.cases.services import _pseudonym_prefix
from samverkan.consent.models import (
    Consent,
    ConsentSignature,
    ConsentWithdrawal,
    EvidenceFile,
    RequiredSigner,
    SignatureMethod,
    SignerKind,
    WithdrawalMethod,
)
from samverkan.consent.services import add_months
from samverkan.disclosure.facts import STOCKHOLM
from samverkan.disclosure.policy import BASIS_OWN_AGENCY
from samverkan.lib.fields import search_hash
from samverkan.meetings.models import Action, ActionStatus, AgendaItem, Attendance, Meeting
from samverkan.organisations.models import (
    Agency,
    CollaborationGroup,
    GroupMembership,
    GroupRole,
    Membership,
    Municipality,
    PoliceArea,
    Role,
    Sector,
)
from samverkan.plans.models import (
    ActionPlan,
    FollowUpDate,
    Goal,
    Intervention,
    InterventionKind,
    InterventionStatus,
)

SYNTHETIC_SUFFIX = " (syntetisk)"
CODES = range(9000, 10000)
BATCH = 2000
# Municipalities generated together: their rows are created, then forgotten, per chunk.
CHUNK = 8
EMAIL_DOMAIN = "synt.samverkan.invalid"
EVENT_SOURCE = "web"  # the simulated events stand for what staff did in the web interface


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


# --------------------------------------------------------------------------------------------
# Guard


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


# --------------------------------------------------------------------------------------------
# Fictional words

_NAME_HEADS = (
    "Alm",
    "Asp",
    "Berg",
    "Björk",
    "Bäck",
    "Dal",
    "Ek",
    "Ed",
    "Fall",
    "Fors",
    "Gran",
    "Hag",
    "Hall",
    "Ham",
    "Hed",
    "Holm",
    "Hult",
    "Kil",
    "Kvarn",
    "Lid",
    "Lind",
    "Lund",
    "Mo",
    "Myr",
    "Nor",
    "Ny",
    "Ros",
    "Sand",
    "Sjö",
    "Sol",
    "Sten",
    "Strand",
    "Sund",
    "Tall",
    "Tor",
    "Ulv",
    "Vall",
    "Vass",
    "Vik",
    "Ång",
    "Äng",
    "Ö",
)
_NAME_TAILS = (
    "by",
    "berga",
    "boda",
    "dal",
    "fors",
    "hamn",
    "holm",
    "hult",
    "köping",
    "lunda",
    "mark",
    "näs",
    "rud",
    "sjö",
    "stad",
    "torp",
    "tuna",
    "vik",
    "åker",
    "ås",
    "ö",
)
_GIRLS = (
    "Alice",
    "Alva",
    "Astrid",
    "Ebba",
    "Ella",
    "Elsa",
    "Freja",
    "Ida",
    "Ines",
    "Julia",
    "Klara",
    "Leah",
    "Lilly",
    "Maja",
    "Moa",
    "Nora",
    "Olivia",
    "Saga",
    "Selma",
    "Stella",
    "Tyra",
    "Vera",
    "Wilma",
    "Amira",
    "Hanna",
)
_BOYS = (
    "Adam",
    "Alexander",
    "Ali",
    "Anton",
    "Arvid",
    "Axel",
    "Elias",
    "Emil",
    "Filip",
    "Gustav",
    "Hugo",
    "Isak",
    "Leo",
    "Liam",
    "Lucas",
    "Melvin",
    "Noah",
    "Oliver",
    "Omar",
    "Oscar",
    "Sixten",
    "Theo",
    "Viggo",
    "William",
    "Yusuf",
)
_ADULTS = (
    "Anna",
    "Eva",
    "Maria",
    "Karin",
    "Sara",
    "Lena",
    "Emma",
    "Fatima",
    "Johanna",
    "Linda",
    "Anders",
    "Johan",
    "Per",
    "Erik",
    "Lars",
    "Mikael",
    "Ahmed",
    "Daniel",
    "Fredrik",
    "Jonas",
)
_SURNAMES = (
    "Andersson",
    "Berglund",
    "Björk",
    "Dahl",
    "Ekström",
    "Falk",
    "Forsberg",
    "Hedlund",
    "Holm",
    "Isaksson",
    "Jansson",
    "Karlsson",
    "Lindqvist",
    "Lund",
    "Magnusson",
    "Nilsson",
    "Nyberg",
    "Olsson",
    "Persson",
    "Sandberg",
    "Ström",
    "Söderberg",
    "Viklund",
    "Åberg",
    "Hassan",
    "Mohammed",
    "Novak",
    "Korhonen",
    "Yilmaz",
    "Ali",
)

_REASONS = (
    "Hög frånvaro under flera veckor och oro för nya umgängen.",
    "Har setts i miljöer där narkotika förekommer, oro för missbruk.",
    "Misstänkt för snatteri och skadegörelse vid upprepade tillfällen.",
    "Konflikter i skolan och hemma, vill själv ha stöd.",
    "Har slutat komma till fritidsgården, tecken på rekrytering till kriminella nätverk.",
    "Oro för alkohol och för äldre kamrater.",
    "Upprepade bråk på skolgården och hot mot andra elever.",
)
_ENTRIES: dict[str, tuple[str, ...]] = {
    Sector.SCHOOL: (
        "Frånvaron har ökat under månaden, mest första lektionen.",
        "Samtal med mentor om studieplan och stöd i matematik.",
        "Närvaron har förbättrats sedan förra uppföljningen.",
    ),
    Sector.SOCIAL_SERVICES: (
        "Samtal med vårdnadshavare, de vill samarbeta.",
        "Utredning inledd, första hembesök genomfört.",
        "Familjestöd pågår varannan vecka.",
    ),
    Sector.POLICE: (
        "Påträffad i centrum sent en vardagskväll tillsammans med äldre ungdomar.",
        "Orosanmälan gjord efter händelse i helgen.",
        "Inga nya händelser sedan förra mötet.",
    ),
    Sector.LEISURE: (
        "Har deltagit i fotbollsträningen tre gånger den här månaden.",
        "Har inte varit på gården sedan förra månaden.",
        "Trivs i den nya gruppen och har fått en kontaktperson.",
    ),
    Sector.OTHER: ("Allmän anteckning inför mötet.",),
}
_MINUTES = (
    "Gruppen delar bilden av ökad frånvaro. Samtycke inväntas.",
    "Skolan och socialtjänsten rapporterar att insatserna har kommit igång.",
    "Läget är stabilt; uppföljning vid nästa möte.",
    "Polisen rapporterar inga nya händelser. Fritid erbjuder plats i en grupp.",
)
_ACTIONS = (
    "Boka samtal med vårdnadshavarna om samtycke.",
    "Erbjuda plats i fritidsgårdens kvällsverksamhet.",
    "Kalla till uppföljningsmöte med familjen.",
    "Se över stödet i skolan inför nästa termin.",
)
_GOALS = (
    "Går i skolan alla dagar och har en trygg vuxen att prata med.",
    "Närvaro över 90 % under terminen.",
    "Har en meningsfull fritidsaktivitet minst en gång i veckan.",
    "Inga nya polisanmälningar under planens tid.",
)
_OTHER_INTERVENTIONS = ("Stödsamtal varannan vecka.", "Mentorsprogram med en äldre förebild.")
_OUTCOMES = (
    "Insatsen genomförd enligt plan.",
    "Målen uppnådda, ingen fortsatt insats behövs.",
    "Avslutad i förtid, familjen flyttade.",
)
_CLOSURE_OUTCOMES = {
    ClosureReason.GOALS_MET: "Målen i handlingsplanen är uppnådda.",
    ClosureReason.CONSENT_DECLINED: "Samtycke saknas; ärendet avslutas.",
    ClosureReason.MOVED: "Familjen har flyttat från kommunen.",
    ClosureReason.OTHER_SUPPORT: "Stödet ges fortsatt inom ordinarie verksamhet.",
    ClosureReason.NO_LONGER_NEEDED: "Oron har upphört.",
    ClosureReason.OTHER: "Avslutat efter beslut i gruppen.",
}
_KIND_OF_SECTOR = {
    Sector.SCHOOL: InterventionKind.SCHOOL_SUPPORT,
    Sector.SOCIAL_SERVICES: InterventionKind.FAMILY_SUPPORT,
    Sector.LEISURE: InterventionKind.LEISURE_ACTIVITY,
    Sector.POLICE: InterventionKind.CONCERN_TALK,
}
# A one-page PDF stand-in for a scanned, signed consent form.
_EVIDENCE = b"%PDF-1.4\n% Syntetisk samtyckesblankett\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"


# --------------------------------------------------------------------------------------------
# Time


def _local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=STOCKHOLM)


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=STOCKHOLM)


def _day(moment: datetime) -> date:
    return moment.astimezone(STOCKHOLM).date()


# --------------------------------------------------------------------------------------------
# Writing rows fast on PostgreSQL


def _copy_rows(model: type[models.Model], rows: Sequence[models.Model], now: datetime) -> None:
    """``bulk_create`` for PostgreSQL through COPY, several times faster at this scale.

    Keys are drawn from the table's own sequence first, so the rows get the ids an INSERT
    would have given them, and relations set to objects saved in an earlier call are
    resolved to those objects' ids, as ``bulk_create`` does.
    """
    meta = model._meta
    fields = list(meta.concrete_fields)
    pk = meta.pk
    if pk is None:
        raise TypeError(f"{meta.label} has no primary key")
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if isinstance(pk, models.AutoField | models.BigAutoField) and rows[0].pk is None:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [meta.db_table, pk.column, len(rows)],
            )
            for row, (key,) in zip(rows, cursor.fetchall(), strict=True):
                row.pk = key
        relations = [f for f in fields if f.is_relation]
        for f in relations:
            for row in rows:
                if getattr(row, f.attname) is None and f.is_cached(row):  # type: ignore[attr-defined]
                    related = f.get_cached_value(row)  # type: ignore[attr-defined]
                    if related is not None:
                        setattr(row, f.attname, related.pk)
        stamped = [f for f in fields if getattr(f, "auto_now_add", False)]
        for f in stamped:
            for row in rows:
                if getattr(row, f.attname) is None:
                    setattr(row, f.attname, now)
        attnames = [f.attname for f in fields]
        columns = ", ".join(quote(f.column or f.attname) for f in fields)
        with cursor.cursor.copy(f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN") as copy:
            for row in rows:
                values = row.__dict__
                copy.write_row([values[name] for name in attnames])


# --------------------------------------------------------------------------------------------
# The audit log, collected and chained at the end


@dataclass
class _Event:
    at: datetime
    order: int
    action: str
    actor_id: int | None
    agency_id: int | None
    obj: models.Model | None
    object_type: str
    case: Case | None
    legal_basis: str | Consent
    details: dict[str, Any]
    outcome: str = "allowed"


Resolved = tuple[
    datetime, int, str, int | None, int | None, str, str, int | None, str, str, str, dict[str, Any]
]


class _AuditLog:
    """Events recorded with the objects they name; resolved to ids once those are saved."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.pending: list[_Event] = []
        self.resolved: list[Resolved] = []
        self.order = 0

    def add(
        self,
        at: datetime,
        action: str,
        *,
        actor: int | None,
        obj: models.Model | None = None,
        agency: int | None = None,
        case: Case | None = None,
        basis: str | Consent = "",
        details: dict[str, Any] | None = None,
        object_type: str = "",
    ) -> None:
        self.order += 1
        self.pending.append(
            _Event(
                at=at,
                order=self.order,
                action=action,
                actor_id=actor,
                agency_id=agency,
                obj=obj,
                object_type=object_type or (obj._meta.label_lower if obj is not None else ""),
                case=case,
                legal_basis=basis,
                details=details or {},
            )
        )

    def resolve(self) -> None:
        for e in self.pending:
            details = {
                key: (value.pk if isinstance(value, models.Model) else value)
                for key, value in e.details.items()
            }
            basis = e.legal_basis if isinstance(e.legal_basis, str) else e.legal_basis.basis
            self.resolved.append(
                (
                    e.at,
                    e.order,
                    e.action,
                    e.actor_id,
                    e.agency_id,
                    e.object_type,
                    str(e.obj.pk) if e.obj is not None else "",
                    e.case.pk if e.case is not None else None,
                    basis,
                    e.outcome,
                    uuid.UUID(int=self.rng.getrandbits(128)).hex,
                    details,
                )
            )
        self.pending.clear()

    def _chained(self, seq: int, prev: str, key: bytes) -> Iterator[EventRecord]:
        """The resolved events in order, each numbered and hashed onto the one before."""
        for (
            at,
            _order,
            action,
            actor,
            agency,
            otype,
            oid,
            case_id,
            basis,
            outcome,
            rid,
            det,
        ) in self.resolved:
            seq += 1
            record = EventRecord(
                seq=seq,
                occurred_at=at,
                action=action,
                outcome=outcome,
                actor_id=actor,
                agency_id=agency,
                object_type=otype,
                object_id=oid,
                case_id=case_id,
                legal_basis=basis,
                request_id=rid,
                source=EVENT_SOURCE,
                ip=None,
                details=det,
                prev_hash=prev,
            )
            prev = compute_hash(record, key)
            yield dataclasses.replace(record, hash=prev)

    def _copy(self, records: Iterable[EventRecord]) -> EventRecord | None:
        """The events written with COPY, without a model instance each; returns the last."""
        from psycopg.types.json import Jsonb

        names = (
            "seq",
            "occurred_at",
            "actor_id",
            "agency_id",
            "action",
            "object_type",
            "object_id",
            "case_id",
            "legal_basis",
            "outcome",
            "request_id",
            "source",
            "ip",
            "details",
            "prev_hash",
            "hash",
        )
        meta = AuditEvent._meta
        quote = connection.ops.quote_name
        columns = ", ".join(quote(meta.get_field(n).column or n) for n in names)  # type: ignore[union-attr]
        r: EventRecord | None = None
        with connection.cursor() as cursor:
            statement = f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN"
            with cursor.cursor.copy(statement) as copy:
                for r in records:
                    copy.write_row(
                        (
                            r.seq,
                            r.occurred_at,
                            r.actor_id,
                            r.agency_id,
                            r.action,
                            r.object_type,
                            r.object_id,
                            r.case_id,
                            r.legal_basis,
                            r.outcome,
                            r.request_id,
                            r.source,
                            r.ip,
                            Jsonb(r.details),
                            r.prev_hash,
                            r.hash,
                        )
                    )
        return r

    def _insert(self, records: Iterable[EventRecord]) -> EventRecord | None:
        """The events written with ``bulk_create`` in batches; returns the last."""
        r: EventRecord | None = None
        batch: list[AuditEvent] = []
        for r in records:
            batch.append(AuditEvent(**dataclasses.asdict(r)))
            if len(batch) >= BATCH:
                AuditEvent.objects.bulk_create(batch)
                batch = []
        AuditEvent.objects.bulk_create(batch)
        return r

    def write(self) -> int:
        """Append every event to the chain in time order, after whatever it holds already."""
        self.resolved.sort(key=lambda r: (r[0], r[1]))
        key: bytes = settings.AUDIT_KEY
        count = len(self.resolved)
        with transaction.atomic():
            head, _ = ChainHead.objects.select_for_update().get_or_create(pk=1)
            write = self._copy if connection.vendor == "postgresql" else self._insert
            last = write(self._chained(head.seq, head.hash, key))
            if last is not None:
                head.seq, head.hash = last.seq, last.hash
                head.save(update_fields=["seq", "hash"])
        self.resolved = []
        return count


# --------------------------------------------------------------------------------------------
# Organisations


@dataclass
class _Town:
    municipality: Municipality
    group: CollaborationGroup
    agencies: dict[str, Agency]  # by sector; police is the police area's agency
    coordinator: User
    practitioners: dict[str, list[User]]  # by sector
    seats: list[tuple[User, Agency]]
    editor: User  # the crime-prevention coordinator: agreements and indicators


def _town_names(rng: random.Random, count: int, taken: set[str]) -> list[str]:
    names: list[str] = []
    pool = [head + tail.lower() for head in _NAME_HEADS for tail in _NAME_TAILS]
    rng.shuffle(pool)
    for word in pool:
        name = word.capitalize() + SYNTHETIC_SUFFIX
        if name not in taken:
            names.append(name)
            taken.add(name)
        if len(names) == count:
            return names
    number = 2
    while len(names) < count:  # more towns than words: number the words
        name = f"{pool[len(names) % len(pool)].capitalize()} {number}{SYNTHETIC_SUFFIX}"
        if name not in taken:
            names.append(name)
            taken.add(name)
        else:
            number += 1
    return names


class _Builder:
    def __init__(self, options: SynthOptions, report: SynthReport, progress: Callable[[str], None]):
        self.options = options
        self.report = report
        self.progress = progress
        # Seeded, for a reproducible data set: nothing here is a secret.
        self.rng = random.Random(options.seed)  # noqa: S311
        self.audit = _AuditLog(random.Random(options.seed + 1))  # noqa: S311
        self.now = timezone.now()
        self.today = timezone.localdate()
        start = options.start or add_months(self.today.replace(day=1), -options.months)
        self.start = start
        self.end = min(add_months(start, options.months), self.today)
        self.org_time = _local(start - timedelta(days=30), 10)
        self.max_months: int = settings.CONSENT_MAX_MONTHS
        self.youth_signs_from: int = settings.CONSENT_YOUTH_SIGNS_FROM_AGE
        self.youth_numbers: set[str] = set()
        self.guardian_numbers: set[str] = set()
        # Numbers already held (an earlier run, or real data beside --force): their hashes.
        self.held: dict[str, set[str]] = {
            "youth": set(Youth.objects.values_list("identity_number_hash", flat=True)),
            "guardian": {
                digest
                for digest in Guardian.objects.values_list("identity_number_hash", flat=True)
                if digest
            },
        }
        self.counters: dict[tuple[str, int], int] = {}
        self.factors: dict[str, list[int]] = defaultdict(list)
        for pk, kind in Factor.objects.filter(is_active=True).values_list("pk", "kind"):
            self.factors[kind].append(pk)
        self.categories: dict[str, list[int]] = defaultdict(list)
        for pk, sector in InformationCategory.objects.filter(is_active=True).values_list(
            "pk", "sector"
        ):
            self.categories[sector].append(pk)
        self.user_number = 0

    # ---- helpers --------------------------------------------------------------------------

    def _save(self, model: type[models.Model], rows: Sequence[models.Model]) -> None:
        if rows:
            if connection.vendor == "postgresql":
                _copy_rows(model, rows, self.now)
            else:
                model.objects.bulk_create(rows, batch_size=BATCH)  # type: ignore[attr-defined]
            self.report.counts[model._meta.label] += len(rows)

    def _work_time(self, day: date) -> datetime:
        """A moment in office hours on a weekday near ``day``; now and then an evening."""
        while day.weekday() >= 5:
            day += timedelta(days=1)
        if self.rng.random() < 0.03:
            return _local(day, self.rng.randint(18, 21), self.rng.randint(0, 59))
        return _local(day, self.rng.randint(8, 16), self.rng.randint(0, 59))

    def _after(self, moment: datetime, low: int, high: int) -> datetime:
        """A working moment ``low``–``high`` days after ``moment``, never before it."""
        candidate = self._work_time(_day(moment) + timedelta(days=self.rng.randint(low, high)))
        return candidate if candidate > moment else moment + timedelta(minutes=5)

    def _user(self, town_code: str, first: str, last: str) -> User:
        self.user_number += 1
        username = f"synt-{town_code}-{self.user_number}"
        return User(
            username=username,
            email=f"{username}@{EMAIL_DOMAIN}",
            first_name=first,
            last_name=last,
            password=make_password(None),
        )

    # ---- organisations --------------------------------------------------------------------

    def organisations(self) -> list[_Town]:
        o = self.options
        used_codes = set(Municipality.objects.values_list("code", flat=True))
        codes = [f"{c:04d}" for c in CODES if f"{c:04d}" not in used_codes][: o.municipalities]
        if len(codes) < o.municipalities:
            raise SynthError(
                f"refused: only {len(codes)} free municipality codes left in {CODES.start}–"
                f"{CODES.stop - 1}"
            )
        taken = set(Municipality.objects.values_list("name", flat=True))
        names = _town_names(self.rng, o.municipalities, taken)
        at = self.org_time
        towns = [Municipality(name=n, code=c) for n, c in zip(names, codes, strict=True)]
        self._save(Municipality, towns)
        for town in towns:
            self.audit.add(at, "municipality.created", actor=None, obj=town)

        # One local police area per three municipalities, with one police agency each.
        area_names = set(PoliceArea.objects.values_list("name", flat=True))
        areas: list[tuple[PoliceArea, list[Municipality]]] = []
        for index in range(0, len(towns), 3):
            served = towns[index : index + 3]
            base = served[0].name.removesuffix(SYNTHETIC_SUFFIX)
            name = f"Lokalpolisområde {base}{SYNTHETIC_SUFFIX}"
            while name in area_names:
                name = f"Lokalpolisområde {base} {index}{SYNTHETIC_SUFFIX}"
                index += 1
            area_names.add(name)
            areas.append((PoliceArea(name=name), served))
        self._save(PoliceArea, [a for a, _ in areas])
        through = PoliceArea.municipalities.through
        self._save(
            through,
            [through(policearea=a, municipality=m) for a, served in areas for m in served],
        )
        police: dict[int, Agency] = {}
        agencies: list[Agency] = []
        for area, served in areas:
            self.audit.add(
                at,
                "police_area.created",
                actor=None,
                obj=area,
                details={"municipality_ids": [m.pk for m in served]},
            )
            agency = Agency(
                name=f"Polisen, {area.name.removesuffix(SYNTHETIC_SUFFIX)}",
                sector=Sector.POLICE,
                police_area=area,
            )
            agencies.append(agency)
            for m in served:
                police[m.pk] = agency
        by_town: dict[int, dict[str, Agency]] = {}
        for town in towns:
            base = town.name.removesuffix(SYNTHETIC_SUFFIX)
            own: dict[str, Agency] = {
                Sector.SCHOOL: Agency(name=f"{base} kommun, Skola", sector=Sector.SCHOOL),
                Sector.SOCIAL_SERVICES: Agency(
                    name=f"{base} kommun, Socialtjänsten", sector=Sector.SOCIAL_SERVICES
                ),
                Sector.LEISURE: Agency(name=f"{base} kommun, Fritid", sector=Sector.LEISURE),
                Sector.OTHER: Agency(
                    name=f"{base} kommun, Brottsförebyggande rådet", sector=Sector.OTHER
                ),
            }
            for agency in own.values():
                agency.municipality = town
                agencies.append(agency)
            by_town[town.pk] = {**own, Sector.POLICE: police[town.pk]}
        self._save(Agency, agencies)
        for agency in agencies:
            self.audit.add(
                at, "agency.created", actor=None, obj=agency, details={"sector": agency.sector}
            )
        groups = [
            CollaborationGroup(
                municipality=t,
                name=f"SSPF {t.name.removesuffix(SYNTHETIC_SUFFIX)}",
                min_age=10,
                max_age=17,
            )
            for t in towns
        ]
        self._save(CollaborationGroup, groups)
        for group in groups:
            self.audit.add(at, "group.created", actor=None, obj=group)

        # Staff: practitioners per sector, a coordinator in social services, a council member.
        users: list[User] = []
        memberships: list[tuple[User, Agency, str]] = []
        seats: list[tuple[CollaborationGroup, User, Agency, str]] = []
        built: list[_Town] = []
        police_staff: dict[int, list[User]] = {}
        for town, group in zip(towns, groups, strict=True):
            own = by_town[town.pk]
            practitioners: dict[str, list[User]] = defaultdict(list)
            for sector, count in (
                (Sector.SCHOOL, 3),
                (Sector.SOCIAL_SERVICES, 2),
                (Sector.LEISURE, 2),
            ):
                for _ in range(count):
                    user = self._user(
                        town.code, self.rng.choice(_ADULTS), self.rng.choice(_SURNAMES)
                    )
                    users.append(user)
                    memberships.append((user, own[sector], Role.PRACTITIONER))
                    practitioners[sector].append(user)
                    seats.append((group, user, own[sector], GroupRole.MEMBER))
            area_agency = own[Sector.POLICE]
            if id(area_agency) not in police_staff:
                officers = [
                    self._user(town.code, self.rng.choice(_ADULTS), self.rng.choice(_SURNAMES))
                    for _ in range(2)
                ]
                users.extend(officers)
                memberships.extend((u, area_agency, Role.PRACTITIONER) for u in officers)
                police_staff[id(area_agency)] = officers
            for officer in police_staff[id(area_agency)]:
                practitioners[Sector.POLICE].append(officer)
                seats.append((group, officer, area_agency, GroupRole.MEMBER))
            coordinator = self._user(town.code, self.rng.choice(_ADULTS), "Samordnare")
            council = self._user(town.code, self.rng.choice(_ADULTS), "Brå")
            editor = self._user(town.code, self.rng.choice(_ADULTS), "Brottsförebyggare")
            users.extend([coordinator, council, editor])
            memberships.append((editor, own[Sector.OTHER], Role.AGREEMENT_EDITOR))
            memberships.append((coordinator, own[Sector.SOCIAL_SERVICES], Role.COORDINATOR))
            memberships.append((coordinator, own[Sector.SOCIAL_SERVICES], Role.PRACTITIONER))
            memberships.append((council, own[Sector.OTHER], Role.COUNCIL_MEMBER))
            seats.append((group, coordinator, own[Sector.SOCIAL_SERVICES], GroupRole.COORDINATOR))
            built.append(
                _Town(
                    municipality=town,
                    group=group,
                    agencies=own,
                    coordinator=coordinator,
                    practitioners=dict(practitioners),
                    seats=[(u, a) for g, u, a, _ in seats if g is group],
                    editor=editor,
                )
            )
        self._save(User, users)
        invited: set[int] = set()
        membership_rows: list[Membership] = []
        for user, agency, role in memberships:
            if user.pk not in invited:
                invited.add(user.pk)
                self.audit.add(
                    at,
                    "user.invited",
                    actor=None,
                    obj=user,
                    agency=agency.pk,
                    details={"role": str(role)},
                )
            row = Membership(user=user, agency=agency, role=role)
            membership_rows.append(row)
        self._save(Membership, membership_rows)
        for row in membership_rows:
            self.audit.add(
                at,
                "membership.added",
                actor=None,
                obj=row,
                agency=row.agency_id,
                details={"user_id": row.user_id, "role": row.role},
            )
        seat_rows = [GroupMembership(group=g, user=u, agency=a, role=r) for g, u, a, r in seats]
        self._save(GroupMembership, seat_rows)
        for seat in seat_rows:
            self.audit.add(
                at,
                "group.member_added",
                actor=None,
                obj=seat.group,
                agency=seat.agency_id,
                details={"user_id": seat.user_id, "role": seat.role},
            )
        self.audit.resolve()
        return built

    # ---- identity numbers -----------------------------------------------------------------

    def _number(self, born: date, *, girl: bool | None, kind: str) -> tuple[str, str]:
        """A fresh number valid in form for someone born on ``born``, and its search hash."""
        taken = self.youth_numbers if kind == "youth" else self.guardian_numbers
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
            digest = search_hash(kind, digits)
            if digest not in self.held[kind]:
                return digits, digest

    def _pseudonym(self, town: Municipality, year: int) -> str:
        prefix = _pseudonym_prefix(town)
        key = (prefix, year)
        if key not in self.counters:
            counter, _ = PseudonymCounter.objects.select_for_update().get_or_create(
                prefix=prefix, year=year
            )
            self.counters[key] = counter.last
        self.counters[key] += 1
        return f"{prefix}-{year}-{self.counters[key]:04d}"

    def save_counters(self) -> None:
        for (prefix, year), last in self.counters.items():
            PseudonymCounter.objects.filter(prefix=prefix, year=year).update(last=last)

    # ---- meetings -------------------------------------------------------------------------

    def meetings(self, town: _Town) -> list[Meeting]:
        """Every other Tuesday 09:00–10:30 from the start, and the next one ahead."""
        day = self.start
        while day.weekday() != 1:
            day += timedelta(days=1)
        rows: list[Meeting] = []
        while True:
            starts = _local(day, 9)
            rows.append(
                Meeting(
                    group=town.group,
                    starts_at=starts,
                    ends_at=starts + timedelta(hours=1, minutes=30),
                    location="Kommunhuset, sammanträdesrum 2",
                    created_by=town.coordinator,
                    created_at=_local(day - timedelta(days=14), 10),
                )
            )
            if starts > self.now:
                return rows
            day += timedelta(days=14)


@dataclass
class _Chunk:
    """Rows of a few municipalities, saved together in dependency order."""

    rows: dict[type[models.Model], list[models.Model]] = field(
        default_factory=lambda: defaultdict(list)
    )

    def add(self, row: models.Model) -> None:
        self.rows[type(row)].append(row)


ORDER: tuple[type[models.Model], ...] = (
    Youth,
    Case,
    Case.risk_factors.through,
    Case.protective_factors.through,
    Guardian,
    GuardianLink,
    CaseTeamMember,
    Entry,
    EntryVersion,
    ConcernReport,
    Consent,
    Consent.agencies.through,
    Consent.categories.through,
    RequiredSigner,
    EvidenceFile,
    ConsentSignature,
    ConsentWithdrawal,
    Meeting,
    Attendance,
    AgendaItem,
    Action,
    ActionPlan,
    Goal,
    Intervention,
    FollowUpDate,
)


class _CaseStory:
    """One case's life from raising to now, written as rows and audit events."""

    def __init__(
        self,
        b: _Builder,
        chunk: _Chunk,
        town: _Town,
        youth: Youth,
        raised: datetime,
        agenda: dict[int, list[AgendaItem]],
        meetings: list[Meeting],
    ) -> None:
        self.b, self.chunk, self.town, self.youth = b, chunk, town, youth
        self.rng = b.rng
        self.raised = raised
        self.agenda = agenda
        self.meetings = meetings
        sector = self.rng.choices(
            [Sector.SCHOOL, Sector.SOCIAL_SERVICES, Sector.POLICE, Sector.LEISURE],
            weights=[40, 25, 25, 10],
        )[0]
        self.raising_agency = town.agencies[sector]
        self.raiser = self.rng.choice(town.practitioners[sector])
        self.team: list[tuple[User, Agency, datetime]] = []
        self.links: list[GuardianLink] = []
        self.closed_at: datetime | None = None

    def audit(self, at: datetime, action: str, **kwargs: Any) -> None:
        self.b.audit.add(at, action, case=self.case, **kwargs)

    def _until(self) -> datetime:
        return self.closed_at or self.b.now

    def transition(self, at: datetime, to: Status, actor: User, **closure: str) -> bool:
        """Move the case on at ``at``; False (and nothing happens) when that lies ahead."""
        if at > self.b.now or self.case.status == Status.CLOSED:
            return False
        previous = self.case.status
        self.case.status = to
        self.case.status_changed_at = at
        if to == Status.CLOSED:
            self.case.closed_at = at
            self.case.closure_reason = closure["reason"]
            self.case.closure_outcome = _CLOSURE_OUTCOMES[ClosureReason(closure["reason"])]
            self.closed_at = at
        self.audit(
            at,
            "case.status_changed",
            actor=actor.pk,
            obj=self.case,
            details={"from": previous, "to": str(to)},
        )
        return True

    def write(self) -> None:
        b, rng, raised = self.b, self.rng, self.raised
        case = Case(
            youth=self.youth,
            group=self.town.group,
            raising_agency=self.raising_agency,
            raised_by=self.raiser,
            raised_at=raised,
            status_changed_at=raised,
        )
        case.reason = rng.choice(_REASONS)
        self.case = case
        self.chunk.add(case)
        risks = rng.sample(b.factors[FactorKind.RISK], k=min(2, len(b.factors[FactorKind.RISK])))
        for pk in risks:
            self.chunk.add(Case.risk_factors.through(case=case, factor_id=pk))
        for pk in rng.sample(b.factors[FactorKind.PROTECTIVE], k=rng.randint(0, 2)):
            self.chunk.add(Case.protective_factors.through(case=case, factor_id=pk))
        self.audit(
            raised,
            "case.raised",
            actor=self.raiser.pk,
            agency=self.raising_agency.pk,
            obj=case,
            details={"group_id": self.town.group.pk},
        )
        self.chunk.add(
            CaseTeamMember(
                case=case,
                user=self.raiser,
                agency=self.raising_agency,
                added_by=self.raiser,
                added_at=raised,
            )
        )
        self.team.append((self.raiser, self.raising_agency, raised))
        self._team()
        self._guardians()
        self._concern()
        self._consent_path()
        self._entries()
        self._agenda()
        self._views()

    # ---- team, guardians, journal ---------------------------------------------------------

    def _team(self) -> None:
        coordinator = self.town.coordinator
        others = [
            (u, a)
            for u, a in self.town.seats
            if a.pk != self.raising_agency.pk and u.pk != coordinator.pk
        ]
        social = [(u, a) for u, a in others if a.sector == Sector.SOCIAL_SERVICES]
        rest = [(u, a) for u, a in others if a.sector != Sector.SOCIAL_SERVICES]
        chosen = self.rng.sample(social, k=1) if social else []
        seen = {self.raising_agency.pk, *(a.pk for _, a in chosen)}
        for user, agency in self.rng.sample(rest, k=len(rest)):
            if agency.pk not in seen and len(chosen) < self.rng.randint(1, 3):
                chosen.append((user, agency))
                seen.add(agency.pk)
        for user, agency in chosen:
            # The coordinator assigns the team within a couple of days of the raising.
            at = self.raised + timedelta(hours=self.rng.randint(1, 48))
            if at > self.b.now:
                continue
            member = CaseTeamMember(
                case=self.case, user=user, agency=agency, added_by=coordinator, added_at=at
            )
            self.chunk.add(member)
            self.team.append((user, agency, at))
            self.audit(
                at,
                "case_team.added",
                actor=coordinator.pk,
                agency=agency.pk,
                obj=member,
                details={"user_id": user.pk},
            )

    def _guardians(self) -> None:
        b, rng = self.b, self.rng
        count = rng.choices([1, 2, 3], weights=[25, 60, 15])[0]
        surname = rng.choice(_SURNAMES)
        for index in range(count):
            # Recorded by the raiser right after raising: consent needs the custodians first.
            at = self.raised + timedelta(minutes=rng.randint(5, 120))
            if at > b.now:
                continue
            has_custody = index < 2 and (index == 0 or rng.random() < 0.9)
            born = date(rng.randint(1968, 1992), rng.randint(1, 12), rng.randint(1, 28))
            guardian = Guardian()
            if rng.random() < 0.92:
                digits, guardian.identity_number_hash = b._number(born, girl=None, kind="guardian")
                guardian.identity_number = digits
            self.chunk.add(guardian)
            first = rng.choice(_ADULTS)
            link = GuardianLink(
                youth=self.youth, case=self.case, guardian=guardian, has_custody=has_custody
            )
            link.name = f"{first} {surname}"
            address = ""
            if rng.random() < 0.6:
                address = f"{first}.{surname}.{rng.randint(1, 9999)}@exempel.invalid".lower()
            link.email = address
            link.email_hash = GuardianLink.hash_email(address)
            self.chunk.add(link)
            self.links.append(link)
            self.audit(
                at,
                "guardian.linked",
                actor=self.raiser.pk,
                obj=link,
                details={"has_custody": has_custody},
            )

    def _concern(self) -> None:
        if self.raising_agency.sector == Sector.SOCIAL_SERVICES or self.rng.random() > 0.25:
            return
        at = self.b._after(self.raised, 0, 3)
        if at > self.b.now:
            return
        report = ConcernReport(
            case=self.case,
            agency=self.raising_agency,
            reported_by=self.raiser,
            reported_on=_day(at),
        )
        self.audit(
            at,
            "concern_report.recorded",
            actor=self.raiser.pk,
            agency=self.raising_agency.pk,
            obj=report,
        )
        social = [(u, t) for u, a, t in self.team if a.sector == Sector.SOCIAL_SERVICES]
        if social and self.rng.random() < 0.85:
            user, joined = social[0]
            seen = self.b._after(max(at, joined), 1, 5)
            if seen <= self.b.now:
                report.acknowledged_at = seen
                report.acknowledged_by = user
                self.audit(seen, "concern_report.acknowledged", actor=user.pk, obj=report)
        self.chunk.add(report)

    def _entries(self) -> None:
        b, rng = self.b, self.rng
        until = self._until()
        span = max(1, (_day(until) - _day(self.raised)).days)
        for _ in range(rng.randint(1, 5)):
            at = b._work_time(_day(self.raised) + timedelta(days=rng.randint(0, span)))
            if at > until or at < self.raised:
                continue
            writers = [(u, a) for u, a, joined in self.team if joined <= at]
            user, agency = rng.choice(writers)
            categories = b.categories[agency.sector] or b.categories[Sector.OTHER]
            entry = Entry(
                case=self.case,
                agency=agency,
                category_id=rng.choice(categories),
                created_by=user,
                created_at=at,
            )
            texts = _ENTRIES.get(agency.sector, _ENTRIES[Sector.OTHER])
            first = EntryVersion(entry=entry, number=1, author=user, created_at=at)
            first.text = rng.choice(texts)
            self.chunk.add(entry)
            self.chunk.add(first)
            self.audit(at, "entry.created", actor=user.pk, agency=agency.pk, obj=entry)
            if rng.random() < 0.12:
                later = b._after(at, 1, 10)
                if later <= until:
                    entry.version_count = 2
                    second = EntryVersion(entry=entry, number=2, author=user, created_at=later)
                    second.text = first.text + " Rättat datum."
                    self.chunk.add(second)
                    self.audit(
                        later,
                        "entry.corrected",
                        actor=user.pk,
                        agency=agency.pk,
                        obj=entry,
                        details={"version": 2},
                    )

    def _views(self) -> None:
        until = self._until()
        for _ in range(self.rng.randint(1, 3)):
            user, agency, joined = self.rng.choice(self.team)
            at = self.b._after(joined, 0, 60)
            if at > until:
                continue
            own = agency.pk == self.raising_agency.pk
            basis = BASIS_OWN_AGENCY if own else self._covering(agency.pk, at)
            self.audit(
                at,
                "case.viewed",
                actor=user.pk,
                obj=self.case,
                basis=basis or "",
                details={"identity_shown": own or bool(basis)},
            )

    # ---- consent --------------------------------------------------------------------------

    def _covering(self, agency_id: int, at: datetime) -> Consent | str:
        for consent, active_from, active_until, agency_ids in getattr(self, "active", []):
            if active_from <= at < active_until and {agency_id, self.raising_agency.pk} <= set(
                agency_ids
            ):
                return consent
        return ""

    def _consent(
        self, created: datetime, valid_from: date, creator: User
    ) -> tuple[Consent, list[RequiredSigner], list[int]] | None:
        """A consent drawn up at ``created`` for the team's agencies, with its signers."""
        b, rng = self.b, self.rng
        length = rng.choice([m for m in (6, 9, 12) if m <= b.max_months] or [b.max_months])
        valid_until = add_months(valid_from, length) - timedelta(days=1)
        custodians = [link for link in self.links if link.has_custody]
        age = self.youth.age_on(valid_from)
        kinds: list[tuple[str, GuardianLink | None]]
        if age >= 18:
            kinds = [(SignerKind.YOUTH, None)]
        elif not custodians:
            return None
        else:
            kinds = [(SignerKind.GUARDIAN, link) for link in custodians]
            if age >= b.youth_signs_from:
                kinds.append((SignerKind.YOUTH, None))
        agencies = sorted(
            {a.pk: a for _, a, t in self.team if t <= created}.values(), key=lambda a: a.pk
        )
        if len(agencies) < 2:
            return None
        if rng.random() < 0.2 and len(agencies) > 2:  # partial consent: not every agency
            agencies = [
                self.raising_agency,
                *rng.sample(
                    [a for a in agencies if a.pk != self.raising_agency.pk], k=len(agencies) - 2
                ),
            ]
        sectors = {a.sector for a in agencies}
        categories = sorted(
            {
                pk
                for sector in sorted(sectors)
                for pk in rng.sample(b.categories[sector], k=min(2, len(b.categories[sector])))
            }
        )
        consent = Consent(
            case=self.case,
            youth=self.youth,
            valid_from=_start_of(valid_from),
            valid_until=_start_of(valid_until + timedelta(days=1)),
            youth_signs_from_age=b.youth_signs_from,
            language="sv",
            created_by=creator,
            created_at=created,
        )
        self.chunk.add(consent)
        for agency in agencies:
            self.chunk.add(Consent.agencies.through(consent=consent, agency_id=agency.pk))
        for pk in categories:
            self.chunk.add(Consent.categories.through(consent=consent, informationcategory_id=pk))
        signers = [
            RequiredSigner(consent=consent, kind=kind, guardian_link=link, order=order)
            for order, (kind, link) in enumerate(kinds)
        ]
        for signer in signers:
            self.chunk.add(signer)
        agency_ids = [a.pk for a in agencies]
        self.audit(
            created,
            "consent.created",
            actor=creator.pk,
            obj=consent,
            details={"agency_ids": agency_ids, "category_ids": categories, "signers": len(signers)},
        )
        return consent, signers, agency_ids

    def _sign(
        self, consent: Consent, signers: list[RequiredSigner], how_many: int, latest_days: int
    ) -> datetime | None:
        """The first ``how_many`` signers sign; the moment the last of all signed, if all did."""
        b, rng = self.b, self.rng
        staff = self.town.coordinator
        moments = sorted(b._after(consent.created_at, 0, latest_days) for _ in signers[:how_many])
        last: datetime | None = None
        for signer, at in zip(signers[:how_many], moments, strict=True):
            if at > b.now or at >= consent.valid_until:
                return None
            method = rng.choices(
                [SignatureMethod.IN_PERSON, SignatureMethod.PAPER, SignatureMethod.ELECTRONIC],
                weights=[50, 25, 25],
            )[0]
            if signer.kind == SignerKind.YOUTH and method == SignatureMethod.ELECTRONIC:
                method = SignatureMethod.IN_PERSON
            signature = ConsentSignature(
                signer=signer, method=method, signed_at=at, signed_on=_day(at), recorded_at=at
            )
            if method == SignatureMethod.PAPER:
                evidence = EvidenceFile(
                    content_type="application/pdf",
                    size=len(_EVIDENCE),
                    sha256=hashlib.sha256(_EVIDENCE).hexdigest(),
                    uploaded_by=staff,
                    uploaded_at=at,
                )
                evidence.content_b64 = base64.b64encode(_EVIDENCE).decode("ascii")
                self.chunk.add(evidence)
                signature.evidence = evidence
                signature.recorded_by = staff
            elif method == SignatureMethod.IN_PERSON:
                signature.recorded_by = staff
                signature.witness = staff
            else:
                signature.eid_provider = "development"
                signature.eid_reference = uuid.UUID(int=rng.getrandbits(128)).hex
            self.chunk.add(signature)
            actor = None if method == SignatureMethod.ELECTRONIC else staff.pk
            self.audit(
                at,
                "consent.signed",
                actor=actor,
                obj=signature,
                basis=consent,
                details={
                    "consent_id": consent,
                    "method": method,
                    "signer_kind": signer.kind,
                    "evidence": method == SignatureMethod.PAPER,
                },
            )
            last = at
        if how_many < len(signers) or last is None:
            return None
        # The service notes the activation when the last signature makes the consent active;
        # one signed ahead of its start becomes active later, without an event of its own.
        if last >= consent.valid_from:
            self.audit(last, "consent.activated", actor=actor, obj=consent, basis=consent)
        return last

    def _consent_path(self) -> bool:
        """Awaiting consent, a consent, its signatures, and the rest of the lifecycle."""
        b, rng = self.b, self.rng
        self.active: list[tuple[Consent, datetime, datetime, list[int]]] = []
        waiting = b._after(self.raised, 1, 7)
        if not self.transition(waiting, Status.AWAITING_CONSENT, self.raiser):
            return False
        created = max(b._after(waiting, 0, 5), *(t + timedelta(hours=1) for _, _, t in self.team))
        made = self._consent(created, _day(created), self.raiser) if created <= b.now else None
        if made is None:
            if rng.random() < 0.5:
                self.transition(
                    b._after(waiting, 20, 60),
                    Status.CLOSED,
                    self.raiser,
                    reason=ClosureReason.CONSENT_DECLINED,
                )
            return False
        consent, signers, agency_ids = made
        fate = rng.choices(["signed", "declined", "slow"], weights=[80, 12, 8])[0]
        if fate != "signed":
            self._sign(consent, signers, rng.randint(0, len(signers) - 1), 21)
            reason = (
                ClosureReason.CONSENT_DECLINED
                if fate == "declined"
                else ClosureReason.OTHER_SUPPORT
            )
            self.transition(
                b._after(created, 20 if fate == "declined" else 60, 90),
                Status.CLOSED,
                self.raiser,
                reason=reason,
            )
            return False
        active_from = self._sign(consent, signers, len(signers), 21)
        if active_from is None:
            return False
        self.active.append((consent, active_from, consent.valid_until, agency_ids))
        self._lifecycle(consent, signers, active_from)
        return True

    def _lifecycle(self, consent: Consent, signers: list[RequiredSigner], active: datetime) -> None:
        b, rng = self.b, self.rng
        mapping = b._after(active, 0, 3)
        if not self.transition(mapping, Status.MAPPING, self.raiser):
            return
        withdrawn: datetime | None = None
        if rng.random() < 0.07:
            withdrawn = b._after(active, 5, 150)
            if withdrawn < consent.valid_until and withdrawn <= b.now:
                signer = rng.choice(signers)
                method = rng.choice(list(WithdrawalMethod))
                recorder = None if method == WithdrawalMethod.PORTAL else self.town.coordinator
                self.chunk.add(
                    ConsentWithdrawal(
                        consent=consent,
                        signer=signer,
                        method=method,
                        withdrawn_at=withdrawn,
                        recorded_by=recorder,
                        recorded_at=withdrawn,
                    )
                )
                self.audit(
                    withdrawn,
                    "consent.withdrawn",
                    actor=recorder.pk if recorder else None,
                    obj=consent,
                    basis=consent,
                    details={"method": str(method), "signer_kind": signer.kind},
                )
                self.active[-1] = (consent, self.active[-1][1], withdrawn, self.active[-1][3])
            else:
                withdrawn = None
        planned = b._after(mapping, 7, 35)
        if withdrawn is not None and withdrawn < planned:
            self.transition(
                b._after(withdrawn, 3, 30),
                Status.CLOSED,
                self.raiser,
                reason=rng.choice([ClosureReason.CONSENT_DECLINED, ClosureReason.OTHER_SUPPORT]),
            )
            return
        if planned > b.now:
            return
        goals = self._plan(planned)
        if not self.transition(b._after(planned, 0, 2), Status.ACTIVE_PLAN, self.raiser):
            return
        follow = b._after(planned, 45, 120)
        end = b._after(self.raised, 120, 420)
        if withdrawn is not None:
            end = min(end, b._after(withdrawn, 3, 30))
        # Still open when the consent runs out: a new one is drawn up before it does.
        if end > consent.valid_until and withdrawn is None:
            self._renew(consent)
        if follow < end:
            self.transition(follow, Status.FOLLOW_UP, self.raiser)
        reason = rng.choices(
            [
                ClosureReason.GOALS_MET,
                ClosureReason.MOVED,
                ClosureReason.OTHER_SUPPORT,
                ClosureReason.NO_LONGER_NEEDED,
                ClosureReason.OTHER,
            ],
            weights=[55, 8, 15, 15, 7],
        )[0]
        if withdrawn is not None:
            reason = ClosureReason.CONSENT_DECLINED
        if self.transition(end, Status.CLOSED, self.raiser, reason=reason):
            self._finish_plan(goals, end, reason)

    def _renew(self, old: Consent) -> None:
        b = self.b
        created = b._after(old.valid_until - timedelta(days=21), 0, 7)
        if created > b.now or created >= old.valid_until:
            return
        made = self._consent(created, _day(old.valid_until), self.town.coordinator)
        if made is None:
            return
        consent, signers, agency_ids = made
        active = self._sign(consent, signers, len(signers), 14)
        if active is not None:
            self.active.append(
                (consent, max(active, consent.valid_from), consent.valid_until, agency_ids)
            )

    # ---- plan -----------------------------------------------------------------------------

    def _plan(self, at: datetime) -> list[Goal]:
        b, rng = self.b, self.rng
        plan = ActionPlan(case=self.case, created_by=self.raiser, created_at=at)
        self.chunk.add(plan)
        self.plan = plan
        self.audit(at, "plan.created", actor=self.raiser.pk, obj=plan)
        goals: list[Goal] = []
        for order, text in enumerate(rng.sample(_GOALS, k=rng.randint(1, 3)), start=1):
            goal = Goal(
                plan=plan, order=order, created_by=self.raiser, created_at=at, updated_at=at
            )
            goal.text = text
            self.chunk.add(goal)
            goals.append(goal)
            self.audit(at, "plan.goal_added", actor=self.raiser.pk, obj=goal)
        self.interventions: list[tuple[Intervention, User]] = []
        members: dict[int, tuple[User, Agency]] = {}
        for user, agency, joined in self.team:
            if joined <= at:
                members.setdefault(agency.pk, (user, agency))
        for user, agency in list(members.values())[: rng.randint(1, 3)]:
            kind = _KIND_OF_SECTOR.get(Sector(agency.sector), InterventionKind.OTHER)
            if rng.random() < 0.1:
                kind = InterventionKind.OTHER
            start = _day(at) + timedelta(days=rng.randint(0, 14))
            status = InterventionStatus.ONGOING if start <= b.today else InterventionStatus.PLANNED
            intervention = Intervention(
                plan=plan,
                agency=agency,
                kind=kind,
                responsible_user=user,
                start_date=start,
                status=status,
                created_by=user,
                created_at=at,
                updated_at=at,
            )
            intervention.description = (
                rng.choice(_OTHER_INTERVENTIONS) if kind == InterventionKind.OTHER else ""
            )
            intervention.outcome = ""
            self.chunk.add(intervention)
            self.interventions.append((intervention, user))
            self.audit(
                at,
                "plan.intervention_added",
                actor=user.pk,
                agency=agency.pk,
                obj=intervention,
                details={"kind": str(kind), "status": str(status)},
            )
        follow = _day(at) + timedelta(days=rng.randint(42, 90))
        follow_up = FollowUpDate(
            plan=plan, date=follow, created_by=self.raiser, created_at=at, done=follow < b.today
        )
        self.chunk.add(follow_up)
        self.audit(
            at,
            "plan.follow_up_added",
            actor=self.raiser.pk,
            obj=follow_up,
            details={"date": follow.isoformat()},
        )
        if follow_up.done:
            self.audit(
                self.b._work_time(follow),
                "plan.follow_up_done",
                actor=self.raiser.pk,
                obj=follow_up,
            )
        return goals

    def _finish_plan(self, goals: list[Goal], closed: datetime, reason: str) -> None:
        rng = self.rng
        before = closed - timedelta(hours=1)
        for goal in goals:
            goal.achieved = reason == ClosureReason.GOALS_MET or rng.random() < 0.3
            goal.updated_at = before
            self.audit(
                before,
                "plan.goal_updated",
                actor=self.raiser.pk,
                obj=goal,
                details={"text_changed": False, "achieved": goal.achieved},
            )
        for intervention, user in self.interventions:
            previous = intervention.status
            intervention.status = (
                InterventionStatus.DONE if rng.random() < 0.8 else InterventionStatus.CANCELLED
            )
            intervention.end_date = max(_day(before), intervention.start_date)
            intervention.outcome = rng.choice(_OUTCOMES)
            intervention.updated_at = before
            self.audit(
                before,
                "plan.intervention_updated",
                actor=user.pk,
                agency=intervention.agency_id,
                obj=intervention,
                details={"from": str(previous), "to": str(intervention.status)},
            )

    # ---- meetings -------------------------------------------------------------------------

    def _agenda(self) -> None:
        """On the agenda of the first meeting after raising, and now and then later on."""
        b, rng = self.b, self.rng
        until = self._until()
        moments = [self.raised + timedelta(days=2)]
        span = (until - self.raised).days
        moments += [self.raised + timedelta(days=rng.randint(14, max(15, span))) for _ in range(2)]
        seen: set[int] = set()
        coordinator = self.town.coordinator
        for moment in moments:
            meeting = next((m for m in self.meetings if m.starts_at >= moment), None)
            if meeting is None or id(meeting) in seen:
                continue
            added = min(meeting.starts_at - timedelta(days=2), b.now)
            if added > until or added < self.raised:
                continue
            seen.add(id(meeting))
            items = self.agenda[id(meeting)]
            item = AgendaItem(meeting=meeting, case=self.case, order=len(items) + 1)
            items.append(item)
            self.chunk.add(item)
            self.audit(
                added,
                "meeting.agenda_item_added",
                actor=coordinator.pk,
                obj=item,
                details={"meeting_id": meeting},
            )
            recorded = meeting.ends_at + timedelta(minutes=rng.randint(5, 600))
            if recorded > b.now or recorded > until:
                continue
            item.minutes = rng.choice(_MINUTES)
            item.minutes_revision = 1
            item.minutes_recorded_at = recorded
            self.audit(
                recorded,
                "meeting.minutes_recorded",
                actor=coordinator.pk,
                obj=item,
                details={"meeting_id": meeting, "revision": 1},
            )
            if rng.random() < 0.35:
                user, agency, _ = rng.choice(self.team)
                due = _day(meeting.starts_at) + timedelta(days=rng.randint(7, 30))
                action = Action(
                    agenda_item=item,
                    responsible_agency=agency,
                    responsible_user=user,
                    due_date=due,
                    created_by=coordinator,
                    created_at=recorded,
                )
                action.text = rng.choice(_ACTIONS)
                self.chunk.add(action)
                self.audit(
                    recorded,
                    "meeting.action_created",
                    actor=coordinator.pk,
                    agency=agency.pk,
                    obj=action,
                    details={"meeting_id": meeting, "responsible_user_id": user.pk},
                )
                if due < b.today:
                    done_at = b._work_time(due)
                    if done_at <= b.now:
                        action.status = (
                            ActionStatus.DONE if rng.random() < 0.85 else ActionStatus.CANCELLED
                        )
                        action.status_changed_at = done_at
                        action.status_changed_by = user
                        self.audit(
                            done_at,
                            "meeting.action_updated",
                            actor=user.pk,
                            agency=agency.pk,
                            obj=action,
                            details={"from": "open", "to": action.status},
                        )


def _save_chunk(b: _Builder, chunk: _Chunk) -> None:
    for model in ORDER:
        b._save(model, chunk.rows.get(model, []))
    b.audit.resolve()


def _town_chunk(b: _Builder, towns: Iterable[_Town]) -> None:
    rng = b.rng
    chunk = _Chunk()
    span_days = max(1, (b.end - b.start).days)
    for town in towns:
        meetings = b.meetings(town)
        for meeting in meetings:
            chunk.add(meeting)
            created = meeting.created_at
            b.audit.add(
                created,
                "meeting.scheduled",
                actor=town.coordinator.pk,
                obj=meeting,
                details={"group_id": town.group.pk},
            )
            held = meeting.ends_at <= b.now
            marks = [rng.random() < 0.9 if held else None for _ in town.seats]
            for (user, agency), present in zip(town.seats, marks, strict=True):
                chunk.add(Attendance(meeting=meeting, user=user, agency=agency, present=present))
            if held:
                b.audit.add(
                    meeting.ends_at,
                    "meeting.attendance_recorded",
                    actor=town.coordinator.pk,
                    obj=meeting,
                    details={
                        "present": marks.count(True),
                        "absent": marks.count(False),
                        "changed": len(marks),
                    },
                )
        agenda: dict[int, list[AgendaItem]] = defaultdict(list)
        for _ in range(b.options.youths_per_municipality):
            girl = rng.random() < 0.42
            raised = b._work_time(b.start + timedelta(days=rng.randint(0, span_days - 1)))
            if raised > b.now:
                raised = b.now - timedelta(hours=1)
            age = rng.choices(range(10, 18), weights=[3, 6, 10, 15, 20, 20, 15, 11])[0]
            born = _day(raised) - timedelta(days=age * 365 + rng.randint(0, 364))
            digits, digest = b._number(born, girl=girl, kind="youth")
            gender = Gender.GIRL if girl else Gender.BOY
            roll = rng.random()
            if roll < 0.04:
                gender = Gender.UNKNOWN
            elif roll < 0.05:
                gender = Gender.OTHER
            youth = Youth(
                municipality=town.municipality,
                identity_number_hash=digest,
                birth_date=born,
                gender=gender,
                pseudonym=b._pseudonym(town.municipality, _day(raised).year),
            )
            youth.identity_number = digits
            youth.name = f"{rng.choice(_GIRLS if girl else _BOYS)} {rng.choice(_SURNAMES)}"
            chunk.add(youth)
            raiser_story = _CaseStory(b, chunk, town, youth, raised, agenda, meetings)
            b.audit.add(raised, "youth.registered", actor=raiser_story.raiser.pk, obj=youth)
            raiser_story.write()
            # One in ten comes back: a second case after the first has closed.
            first_closed = raiser_story.closed_at
            if first_closed is not None and rng.random() < 0.1:
                again = b._after(first_closed, 30, 200)
                if again <= b.now:
                    _CaseStory(b, chunk, town, youth, again, agenda, meetings).write()
    _save_chunk(b, chunk)


def _agreement(b: _Builder, town: _Town) -> None:
    """A running, published cooperation agreement and a monthly indicator series, made through
    the services (and so audited now, after the simulated history): the dashboard's
    commitment and situation-picture tables have something to show."""
    from samverkan.indicators.models import Direction
    from samverkan.indicators.services import indicator_create, indicator_values_import
    from samverkan.promises import services as promises
    from samverkan.promises.models import (
        AgreementStatus,
        CommitmentStatus,
        Kind,
        Party,
        PartyKind,
    )

    rng, editor = b.rng, town.editor
    base = town.municipality.name.removesuffix(SYNTHETIC_SUFFIX)
    police = town.agencies[Sector.POLICE]
    indicator = indicator_create(
        actor=editor,
        municipality=town.municipality,
        name="Elever i årskurs 9 som använt narkotika",
        area=f"{base} kommun",
        unit="%",
        source="Drogvaneenkät (syntetiska siffror)",
        direction=Direction.LOWER_IS_BETTER,
        min_value=Decimal(0),
        max_value=Decimal(100),
        description="Syntetiska värden för prestandatest.",
        published=True,
    )
    rows, month, value = ["period;värde"], b.start.replace(day=1), rng.uniform(6, 12)
    while month <= b.today:
        value = min(100.0, max(0.0, value + rng.uniform(-0.6, 0.4)))
        rows.append(f"{month:%Y-%m};{value:.1f}".replace(".", ","))
        month = add_months(month, 1)
    indicator_values_import(
        actor=editor, indicator=indicator, data=("\n".join(rows) + "\n").encode("utf-8")
    )
    agreement = promises.agreement_create(
        actor=editor,
        kind=Kind.COOPERATION,
        title=f"Samverkansöverenskommelse {base}: barn och unga i riskzon",
        municipality=town.municipality,
        police_area=police.police_area,
        period_start=b.start,
        period_end=add_months(b.start, 36) - timedelta(days=1),
        focus_area="Unga i riskzonen för kriminalitet och/eller drogmissbruk",
        situation_summary="Syntetisk lägesbild för prestandatest.",
    )
    parties = [
        promises.party_add(
            actor=editor,
            agreement=agreement,
            name=f"{base} kommun",
            kind=PartyKind.MUNICIPALITY,
            agency=town.agencies[Sector.OTHER],
        ),
        promises.party_add(
            actor=editor,
            agreement=agreement,
            name=police.name,
            kind=PartyKind.POLICE,
            agency=police,
        ),
    ]
    titles = ("Kommunstyrelsens ordförande", "Lokalpolisområdeschef")
    for party, title in zip(parties, titles, strict=True):
        promises.signatory_add(
            actor=editor,
            agreement=agreement,
            party=party,
            name=f"{rng.choice(_ADULTS)} {rng.choice(_SURNAMES)} (fiktiv)",
            title=title,
            signed_on=b.start - timedelta(days=10),
        )
    commitments: list[tuple[Party | None, str]] = [
        (None, "SSPF-gruppen träffas varannan vecka."),
        (parties[1], "Kommunpolisen håller orossamtal när gruppen beslutar det."),
        (parties[0], "Socialtjänsten inhämtar samtycke innan information utbyts."),
        (None, "Arbetet följs upp i Brå två gånger per år."),
    ]
    for owner, text in commitments:
        commitment = promises.commitment_add(
            actor=editor,
            agreement=agreement,
            party=owner,
            text=text,
            indicators=[indicator] if owner is None else [],
        )
        status = rng.choice(list(CommitmentStatus))
        if status != commitment.status:
            promises.commitment_update(
                actor=editor,
                commitment=commitment,
                text=text,
                status=status,
                indicators=[indicator] if owner is None else [],
            )
    promises.agreement_transition(actor=editor, agreement=agreement, to=AgreementStatus.SIGNED)
    promises.agreement_transition(actor=editor, agreement=agreement, to=AgreementStatus.ACTIVE)
    promises.agreement_publish(actor=editor, agreement=agreement)


def synth_generate(
    *, options: SynthOptions, progress: Callable[[str], None] | None = None
) -> SynthReport:
    """Generate the data set into the configured database, in one transaction, then build the
    anonymised facts. Call ``synth_check_allowed`` first."""
    say = progress or (lambda message: None)
    report = SynthReport()
    began = clock.monotonic()
    with transaction.atomic():
        b = _Builder(options, report, say)
        towns = b.organisations()
        say(f"organisations: {len(towns)} municipalities, {report.counts['accounts.User']} staff")
        for index in range(0, len(towns), CHUNK):
            part = towns[index : index + CHUNK]
            _town_chunk(b, part)
            say(
                f"municipalities {index + len(part)}/{len(towns)}: "
                f"{report.counts['cases.Case']} cases, {len(b.audit.resolved)} audit events"
            )
        b.save_counters()
        report.seconds["rows"] = clock.monotonic() - began
        mark = clock.monotonic()
        report.counts["audit.AuditEvent"] = b.audit.write()
        report.seconds["audit"] = clock.monotonic() - mark
    say(f"audit chain: {report.counts['audit.AuditEvent']} events appended")
    mark = clock.monotonic()
    for town in towns:
        with transaction.atomic():
            _agreement(b, town)
    report.counts["promises.Agreement"] = len(towns)
    report.counts["indicators.Indicator"] = len(towns)
    report.seconds["agreements"] = clock.monotonic() - mark
    say(f"agreements and indicators: {len(towns)} of each, through the services")
    mark = clock.monotonic()
    from samverkan.stats.facts import facts_refresh

    # A full build, as the nightly job makes it, so the dashboard can say when it was built.
    report.facts = facts_refresh()
    report.seconds["facts"] = clock.monotonic() - mark
    report.seconds["total"] = clock.monotonic() - began
    return report
