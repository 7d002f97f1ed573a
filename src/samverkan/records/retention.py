"""Retention (*gallring*, DESIGN rule 11): what is due to go. The purge that removes it, and
the legal holds that stop it, are the writes in ``samverkan.records.services``.

Two kinds of record go:

* **Closed cases**, ``RETENTION_CASE_YEARS`` after closure, unless a legal hold is on them. A
  purge removes the case's personal data from every table: journal, guardians as recorded on
  the case, consents with their signatures, scanned forms and e-ID orders, statutory
  disclosures, the plan, agenda items with minutes and decisions, notifications naming it, and
  the youth and guardian rows themselves once no other case of theirs remains. What stays: the
  anonymised statistics facts (refreshed first, their link cut by ``SET_NULL``), the audit log,
  meetings, staff and agencies, and recorded log reviews, whose findings have the purged
  youth's pseudonym replaced by ``[gallrat ärende]``. e-ID orders go only when they carry the
  number of a person who goes in every role, or rest under this case's signatures alone.
* **Short-lived records** by age: notifications, portal login codes, and e-ID orders that no
  signature rests on; and expired login sessions. (The background jobs' own history holds no
  personal data and is pruned daily by the jobs app, ``jobs.prune``.)

**Per record type**, a closed case loses some of its records before the case as a whole goes:
journal entries (``RETENTION_JOURNAL_YEARS``), consent documents (``RETENTION_CONSENT_YEARS``),
reports of concern with the statutory disclosures (``RETENTION_CONCERN_YEARS``) and its meeting
agenda items with minutes and actions (``RETENTION_MEETING_YEARS``), each after its own period
since closure; none may exceed ``RETENTION_CASE_YEARS`` (refused at start-up). A record that
another still rests on waits for it: an entry a statutory disclosure was made from stays as
long as the disclosure, a consent as long as an entry shown under it. Such a case's statistics
facts are frozen at its first partial purge (``PartialPurge``), so later builds do not count
what went as never held.

The audit log is not pruned here: it is append-only in the database and its chain is what
proves nothing was altered. It is kept ``RETENTION_AUDIT_YEARS`` (at least 5) and then pruned up
to a signed anchor by its own job, ``audit.prune`` (``samverkan.audit.pruning``).

Each case is purged in its own transaction, together with its ``records.case_purged`` audit
event, so a failure leaves the cases before it purged, the failing one whole, and the run goes
on with the next. Everything is computed from the data as it is now, so a run that did not
happen (or failed) is made up by the next one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import models
from django.db.models import Q, QuerySet
from django.utils import timezone

from samverkan.cases.models import (
    Case,
    CaseTeamMember,
    ConcernReport,
    Entry,
    EntryVersion,
    Guardian,
    GuardianLink,
    Status,
    Youth,
)
from samverkan.consent.models import (
    Consent,
    ConsentReminder,
    ConsentSignature,
    ConsentWithdrawal,
    Disclosure,
    EvidenceFile,
    RequiredSigner,
    StatutoryDisclosure,
)
from samverkan.lib.fields import search_hash
from samverkan.meetings.models import Action, AgendaItem
from samverkan.notifications.kinds import KINDS, Param
from samverkan.notifications.models import Notification
from samverkan.plans.models import ActionPlan, FollowUpDate, Goal, Intervention
from samverkan.portal.models import EidOrder, PortalLoginCode
from samverkan.records.models import LegalHold

if TYPE_CHECKING:
    pass


class RecordType(StrEnum):
    """The record types of a closed case with a period of their own."""

    JOURNAL = "journal"
    CONSENT = "consent"
    CONCERN = "concern"
    MEETING = "meeting"


@dataclass(frozen=True)
class RetentionRules:
    """The periods in force (settings ``RETENTION_*``)."""

    case_years: int
    audit_years: int
    notification_days: int
    portal_code_days: int
    eid_order_days: int
    journal_years: int = 5
    consent_years: int = 5
    concern_years: int = 5
    meeting_years: int = 5

    def type_years(self, kind: RecordType) -> int:
        # Never past the case's own period: the case holds its records.
        return min(self.case_years, getattr(self, f"{kind.value}_years"))

    @classmethod
    def from_settings(cls) -> RetentionRules:
        return cls(
            case_years=settings.RETENTION_CASE_YEARS,
            # The law asks for at least five years of access log; a lower setting is refused
            # at start-up, and this guards a settings override in code.
            audit_years=max(5, settings.RETENTION_AUDIT_YEARS),
            notification_days=settings.RETENTION_NOTIFICATION_DAYS,
            portal_code_days=settings.RETENTION_PORTAL_CODE_DAYS,
            eid_order_days=settings.RETENTION_EID_ORDER_DAYS,
            journal_years=settings.RETENTION_JOURNAL_YEARS,
            consent_years=settings.RETENTION_CONSENT_YEARS,
            concern_years=settings.RETENTION_CONCERN_YEARS,
            meeting_years=settings.RETENTION_MEETING_YEARS,
        )


def years_before(moment: datetime, years: int) -> datetime:
    """The same wall time ``years`` earlier; 29 February falls back to the 28th."""
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:
        return moment.replace(year=moment.year - years, day=28)


@dataclass
class RetentionPlan:
    """What a run at ``now`` removes. Case ids only: never a name, number or pseudonym."""

    now: datetime
    rules: RetentionRules
    case_cutoff: datetime
    due_case_ids: list[int]
    held_case_ids: list[int]
    # Rows per record type (``app.model``) the due cases take with them.
    case_records: dict[str, int]
    # Short-lived rows past their period, per record type.
    expired_records: dict[str, int]
    # Per record type (``RecordType``) of the cases not yet due as a whole: the cut-off, the
    # cases with such records past it, and the rows that would go (per ``app.model``).
    type_cutoffs: dict[str, datetime] = field(default_factory=dict)
    type_case_ids: dict[str, list[int]] = field(default_factory=dict)
    type_records: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def partial_case_ids(self) -> list[int]:
        return sorted({pk for ids in self.type_case_ids.values() for pk in ids})


@dataclass
class RetentionReport:
    plan: RetentionPlan
    dry_run: bool
    purged_case_ids: list[int] = field(default_factory=list)
    failed_case_ids: list[int] = field(default_factory=list)
    # What actually went (or, in a dry run, would go), per record type.
    removed: dict[str, int] = field(default_factory=dict)
    # Of that, what went by the per-type periods, per ``RecordType`` then ``app.model``.
    removed_by_type: dict[str, dict[str, int]] = field(default_factory=dict)
    partially_purged_case_ids: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed_case_ids


# --- Closed cases ----------------------------------------------------------------------------


def _label(model: type[models.Model]) -> str:
    return model._meta.label_lower


def _pseudonym_keys() -> list[str]:
    return sorted(
        {
            name
            for spec in KINDS.values()
            for name, kind in spec.params.items()
            if kind is Param.PSEUDONYM
        }
    )


@dataclass(frozen=True)
class CaseScope:
    """The rows that belong to a set of cases, found before any is deleted."""

    case_ids: list[int]
    youth_ids: list[int]  # youths with no case left once these go
    guardian_ids: list[int]  # guardians with no case link left once these go
    evidence_ids: list[int]
    eid_references: list[str]
    eid_identity_hashes: list[str]
    email_hashes: list[str]  # addresses no remaining guardian link has
    pseudonyms: list[str]  # of the youths that go
    consent_ids: list[int]


def case_scope(case_ids: list[int]) -> CaseScope:
    cases = Case.objects.filter(pk__in=case_ids)
    youth_ids = set(cases.values_list("youth_id", flat=True))
    kept_youths = set(
        Case.objects.filter(youth_id__in=youth_ids)
        .exclude(pk__in=case_ids)
        .values_list("youth_id", flat=True)
    )
    gone_youths = sorted(youth_ids - kept_youths)
    links = GuardianLink.objects.filter(case_id__in=case_ids)
    guardian_ids = set(links.values_list("guardian_id", flat=True))
    kept_guardians = set(
        GuardianLink.objects.filter(guardian_id__in=guardian_ids)
        .exclude(case_id__in=case_ids)
        .values_list("guardian_id", flat=True)
    )
    gone_guardians = sorted(guardian_ids - kept_guardians)
    email_hashes = set(links.exclude(email_hash="").values_list("email_hash", flat=True))
    kept_emails = set(
        GuardianLink.objects.filter(email_hash__in=email_hashes)
        .exclude(case_id__in=case_ids)
        .values_list("email_hash", flat=True)
    )
    signatures = ConsentSignature.objects.filter(signer__consent__case_id__in=case_ids)
    evidence_ids = [pk for pk in signatures.values_list("evidence_id", flat=True) if pk]
    references = [ref for ref in signatures.values_list("eid_reference", flat=True) if ref]
    # The e-ID orders of the people who go carry their identity number: the dev provider keys
    # them by ``search_hash("eid", digits)``, whatever role the person had. A person who goes
    # in one role may stay in the other (the youth of a purged case, guardian in a live one):
    # their orders stay then.
    numbers = [y.identity_number for y in Youth.objects.filter(pk__in=gone_youths)]
    numbers += [
        g.identity_number
        for g in Guardian.objects.filter(pk__in=gone_guardians).exclude(identity_number_enc="")
    ]
    numbers = [n for n in numbers if n and not _still_held(n, gone_youths, gone_guardians)]
    return CaseScope(
        case_ids=list(case_ids),
        youth_ids=gone_youths,
        guardian_ids=gone_guardians,
        evidence_ids=evidence_ids,
        eid_references=references,
        eid_identity_hashes=[search_hash("eid", n) for n in numbers if n],
        email_hashes=sorted(email_hashes - kept_emails),
        pseudonyms=list(
            Youth.objects.filter(pk__in=gone_youths).values_list("pseudonym", flat=True)
        ),
        consent_ids=list(Consent.objects.filter(case_id__in=case_ids).values_list("pk", flat=True)),
    )


def _still_held(digits: str, gone_youths: list[int], gone_guardians: list[int]) -> bool:
    """Whether a youth or guardian row that stays is recorded with this number."""
    youth = Youth.objects.filter(identity_number_hash=search_hash("youth", digits)).exclude(
        pk__in=gone_youths
    )
    guardian = Guardian.objects.filter(
        identity_number_hash=search_hash("guardian", digits)
    ).exclude(pk__in=gone_guardians)
    return youth.exists() or guardian.exists()


def case_querysets(scope: CaseScope) -> list[QuerySet[models.Model]]:
    """Every row the cases hold, in an order that deletes children before what they protect."""
    ids = scope.case_ids
    about_them = Q(params__consent__in=scope.consent_ids) if scope.consent_ids else Q(pk__in=[])
    for key in _pseudonym_keys():
        if scope.pseudonyms:
            about_them |= Q(**{f"params__{key}__in": scope.pseudonyms})
    eid_orders = Q(pk__in=[])
    if scope.eid_references:
        eid_orders |= Q(reference__in=scope.eid_references)
    if scope.eid_identity_hashes:
        eid_orders |= Q(identity_number_hash__in=scope.eid_identity_hashes)
    # An order a signature of another case rests on is that case's evidence.
    other_evidence = (
        ConsentSignature.objects.exclude(signer__consent__case_id__in=ids)
        .exclude(eid_reference="")
        .values("eid_reference")
    )
    querysets: list[QuerySet[models.Model]] = [
        Disclosure.objects.filter(entry__case_id__in=ids),
        StatutoryDisclosure.objects.filter(entry__case_id__in=ids),
        ConsentWithdrawal.objects.filter(consent__case_id__in=ids),
        ConsentSignature.objects.filter(signer__consent__case_id__in=ids),
        EvidenceFile.objects.filter(pk__in=scope.evidence_ids),
        EidOrder.objects.filter(eid_orders).exclude(reference__in=other_evidence),
        ConsentReminder.objects.filter(consent__case_id__in=ids),
        RequiredSigner.objects.filter(consent__case_id__in=ids),
        Consent.objects.filter(case_id__in=ids),
        Notification.objects.filter(about_them),
        Action.objects.filter(agenda_item__case_id__in=ids),
        AgendaItem.objects.filter(case_id__in=ids),
        FollowUpDate.objects.filter(plan__case_id__in=ids),
        Intervention.objects.filter(plan__case_id__in=ids),
        Goal.objects.filter(plan__case_id__in=ids),
        ActionPlan.objects.filter(case_id__in=ids),
        EntryVersion.objects.filter(entry__case_id__in=ids),
        Entry.objects.filter(case_id__in=ids),
        ConcernReport.objects.filter(case_id__in=ids),
        CaseTeamMember.objects.filter(case_id__in=ids),
        PortalLoginCode.objects.filter(email_hash__in=scope.email_hashes),
        GuardianLink.objects.filter(case_id__in=ids),
        # Deleting the case itself also cascades to anything added later that hangs off it,
        # and refuses (ProtectedError, rolling the case back) if something protects it.
        Case.objects.filter(pk__in=ids),
        Guardian.objects.filter(pk__in=scope.guardian_ids),
        Youth.objects.filter(pk__in=scope.youth_ids),
    ]
    return querysets


def _count(querysets: Iterable[QuerySet[models.Model]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for queryset in querysets:
        n = queryset.count()
        if n:
            counts[_label(queryset.model)] = n
    return counts


def _due_cases(cutoff: datetime) -> tuple[list[int], list[int]]:
    closed = Case.objects.filter(status=Status.CLOSED, closed_at__lte=cutoff).order_by("pk")
    held = set(LegalHold.objects.filter(case__in=closed).values_list("case_id", flat=True))
    ids = list(closed.values_list("pk", flat=True))
    return [pk for pk in ids if pk not in held], sorted(held)


# --- Record types with periods of their own --------------------------------------------------

# The order types are removed in: what rests on a record goes before it.
_TYPE_ORDER = (RecordType.CONCERN, RecordType.JOURNAL, RecordType.CONSENT, RecordType.MEETING)


def type_cutoffs(rules: RetentionRules, now: datetime) -> dict[RecordType, datetime]:
    return {kind: years_before(now, rules.type_years(kind)) for kind in _TYPE_ORDER}


def due_types(closed_at: datetime, cutoffs: dict[RecordType, datetime]) -> frozenset[RecordType]:
    return frozenset(kind for kind, cutoff in cutoffs.items() if closed_at <= cutoff)


def type_querysets(
    ids: list[int], due: frozenset[RecordType]
) -> dict[RecordType, list[QuerySet[models.Model]]]:
    """Per due type, its rows in these cases, children first. Built just before they are
    counted or deleted: ids a later delete would lose the link to are read now."""
    out: dict[RecordType, list[QuerySet[models.Model]]] = {}
    statutory = StatutoryDisclosure.objects.filter(entry__case_id__in=ids)
    entries = Entry.objects.filter(case_id__in=ids)
    if RecordType.CONCERN not in due:
        # The entry a statutory disclosure was made from is what was disclosed: it stays as
        # long as the record of the disclosure.
        entries = entries.exclude(pk__in=statutory.values("entry_id"))
    if RecordType.CONCERN in due:
        out[RecordType.CONCERN] = [
            # The "shown to" rows of a statutory disclosure are part of its record.
            Disclosure.objects.filter(statutory__in=statutory.values("pk")),
            StatutoryDisclosure.objects.filter(entry__case_id__in=ids),
            ConcernReport.objects.filter(case_id__in=ids),
        ]
    if RecordType.JOURNAL in due:
        going = list(entries.values_list("pk", flat=True))
        out[RecordType.JOURNAL] = [
            Disclosure.objects.filter(entry_id__in=going),
            EntryVersion.objects.filter(entry_id__in=going),
            Entry.objects.filter(pk__in=going),
        ]
    if RecordType.CONSENT in due:
        resting = Disclosure.objects.filter(consent__case_id__in=ids)
        if RecordType.JOURNAL in due:
            resting = resting.exclude(entry_id__in=entries.values("pk"))
        # A consent is the basis of every entry shown under it: it stays while one does.
        consent_ids = list(
            Consent.objects.filter(case_id__in=ids)
            .exclude(pk__in=resting.values("consent_id"))
            .values_list("pk", flat=True)
        )
        signatures = ConsentSignature.objects.filter(signer__consent_id__in=consent_ids)
        evidence_ids = [pk for pk in signatures.values_list("evidence_id", flat=True) if pk]
        references = [ref for ref in signatures.values_list("eid_reference", flat=True) if ref]
        out[RecordType.CONSENT] = [
            ConsentWithdrawal.objects.filter(consent_id__in=consent_ids),
            ConsentSignature.objects.filter(signer__consent_id__in=consent_ids),
            EvidenceFile.objects.filter(pk__in=evidence_ids),
            EidOrder.objects.filter(reference__in=references),
            ConsentReminder.objects.filter(consent_id__in=consent_ids),
            RequiredSigner.objects.filter(consent_id__in=consent_ids),
            Notification.objects.filter(params__consent__in=consent_ids)
            if consent_ids
            else Notification.objects.none(),
            Consent.objects.filter(pk__in=consent_ids),
        ]
    if RecordType.MEETING in due:
        out[RecordType.MEETING] = [
            Action.objects.filter(agenda_item__case_id__in=ids),
            AgendaItem.objects.filter(case_id__in=ids),
        ]
    return out


def _partial_candidates(
    cutoffs: dict[RecordType, datetime], case_cutoff: datetime
) -> dict[frozenset[RecordType], list[int]]:
    """Closed cases, not held and not yet due as a whole, grouped by the set of their types
    past its period (a handful of groups, whatever the number of cases)."""
    earliest = max(cutoffs.values())
    rows = (
        Case.objects.filter(status=Status.CLOSED, closed_at__lte=earliest, legal_hold__isnull=True)
        .exclude(closed_at__lte=case_cutoff)
        .order_by("pk")
        .values_list("pk", "closed_at")
    )
    groups: dict[frozenset[RecordType], list[int]] = {}
    for pk, closed_at in rows:
        if closed_at is None:  # a closed case always has it; the column allows NULL
            continue
        due = due_types(closed_at, cutoffs)
        if due:
            groups.setdefault(due, []).append(pk)
    return groups


def _plan_types(
    cutoffs: dict[RecordType, datetime], case_cutoff: datetime
) -> tuple[dict[str, list[int]], dict[str, dict[str, int]]]:
    case_ids: dict[str, set[int]] = {}
    records: dict[str, Counter[str]] = {}
    for due, ids in _partial_candidates(cutoffs, case_cutoff).items():
        for kind, querysets in type_querysets(ids, due).items():
            for queryset in querysets:
                n = queryset.count()
                if n:
                    records.setdefault(kind.value, Counter())[_label(queryset.model)] += n
                path = _CASE_PATH.get(queryset.model)
                if n and path:
                    ids_with_rows = queryset.values_list(path, flat=True).distinct()
                    case_ids.setdefault(kind.value, set()).update(ids_with_rows)
    return (
        {kind: sorted(ids) for kind, ids in case_ids.items()},
        {kind: dict(counts) for kind, counts in records.items()},
    )


# How each type's rows lead to their case (the files, e-ID orders and notifications go with a
# consent, which names the case already).
_CASE_PATH: dict[type[models.Model], str] = {
    Disclosure: "entry__case_id",
    StatutoryDisclosure: "entry__case_id",
    ConcernReport: "case_id",
    EntryVersion: "entry__case_id",
    Entry: "case_id",
    ConsentWithdrawal: "consent__case_id",
    ConsentSignature: "signer__consent__case_id",
    ConsentReminder: "consent__case_id",
    RequiredSigner: "consent__case_id",
    Consent: "case_id",
    Action: "agenda_item__case_id",
    AgendaItem: "case_id",
}


# --- Short-lived records ---------------------------------------------------------------------


def expired_querysets(rules: RetentionRules, now: datetime) -> list[QuerySet[models.Model]]:
    referenced = ConsentSignature.objects.exclude(eid_reference="").values("eid_reference")
    return [
        # Sessions past their expiry: Django never removes them itself (``clearsessions``).
        Session.objects.filter(expire_date__lt=now),
        Notification.objects.filter(created_at__lt=now - timedelta(days=rules.notification_days)),
        PortalLoginCode.objects.filter(created_at__lt=now - timedelta(days=rules.portal_code_days)),
        # An order an electronic signature rests on is its evidence: it goes with the case.
        EidOrder.objects.filter(created_at__lt=now - timedelta(days=rules.eid_order_days)).exclude(
            reference__in=referenced
        ),
    ]


# --- Plan and run ----------------------------------------------------------------------------


def retention_plan(*, now: datetime | None = None) -> RetentionPlan:
    """What a run now would remove, computed from the data as it is."""
    now = now or timezone.now()
    rules = RetentionRules.from_settings()
    cutoff = years_before(now, rules.case_years)
    due, held = _due_cases(cutoff)
    case_records = _count(case_querysets(case_scope(due))) if due else {}
    cutoffs = type_cutoffs(rules, now)
    type_case_ids, type_records = _plan_types(cutoffs, cutoff)
    return RetentionPlan(
        now=now,
        rules=rules,
        case_cutoff=cutoff,
        due_case_ids=due,
        held_case_ids=held,
        case_records=case_records,
        expired_records=_count(expired_querysets(rules, now)),
        type_cutoffs={kind.value: moment for kind, moment in cutoffs.items()},
        type_case_ids=type_case_ids,
        type_records=type_records,
    )
