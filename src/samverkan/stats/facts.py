"""Building the anonymised facts from the live records.

``facts_refresh`` rebuilds the facts of the given cases in a fixed number of queries per batch,
whatever the number of consents, meetings or interventions, so that the nightly job and the
synthetic national-scale set stay fast. It runs nightly (``stats.refresh``), when a case is
closed, and before retention purges a case; the dashboard says when the figures were built.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from itertools import islice
from typing import Any

from django.db import transaction
from django.db.models import Count, Min, Q
from django.utils import timezone

from samverkan.cases.models import Case, ClosureReason, ConcernReport
from samverkan.consent.facts import STOCKHOLM
from samverkan.consent.models import ConsentWithdrawal, RequiredSigner
from samverkan.meetings.models import AgendaItem
from samverkan.plans.models import ActionPlan, Goal, Intervention
from samverkan.stats.models import AgeBand, CaseFact, InterventionFact

BATCH = 2000


def age_band(birth: date, on: date) -> AgeBand:
    age = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
    if age < 13:
        return AgeBand.UNDER_13
    if age < 16:
        return AgeBand.FROM_13_TO_15
    if age < 18:
        return AgeBand.FROM_16_TO_17
    return AgeBand.ADULT


def _local(moment: datetime) -> date:
    return moment.astimezone(STOCKHOLM).date()


def _month(moment: datetime) -> date:
    return _local(moment).replace(day=1)


def _days(start: datetime, end: datetime | None) -> int | None:
    if end is None:
        return None
    return max(0, (_local(end) - _local(start)).days)


@dataclass
class _Consents:
    obtained: int = 0
    withdrawn: int = 0
    expired: int = 0
    first_active: datetime | None = None


def _consents(case_ids: list[int], now: datetime) -> dict[int, _Consents]:
    signers = RequiredSigner.objects.filter(consent__case_id__in=case_ids).values_list(
        "consent_id", "consent__case_id", "consent__valid_until", "signature__signed_at"
    )
    per_consent: dict[int, tuple[int, datetime, list[datetime | None]]] = {}
    for consent_id, case_id, valid_until, signed_at in signers:
        per_consent.setdefault(consent_id, (case_id, valid_until, []))[2].append(signed_at)
    withdrawn = set(
        ConsentWithdrawal.objects.filter(consent_id__in=per_consent).values_list(
            "consent_id", flat=True
        )
    )
    result: dict[int, _Consents] = defaultdict(_Consents)
    for consent_id, (case_id, valid_until, signatures) in per_consent.items():
        if any(s is None for s in signatures):
            continue  # never active: not obtained
        facts = result[case_id]
        facts.obtained += 1
        active_from = max(s for s in signatures if s is not None)
        if facts.first_active is None or active_from < facts.first_active:
            facts.first_active = active_from
        if consent_id in withdrawn:
            facts.withdrawn += 1
        elif valid_until < now:
            facts.expired += 1
    return result


def _build(case_ids: list[int], now: datetime) -> None:
    cases = list(
        Case.objects.filter(pk__in=case_ids).values(
            "pk",
            "group__municipality_id",
            "raising_agency__sector",
            "youth__birth_date",
            "youth__gender",
            "raised_at",
            "closed_at",
            "closure_reason",
        )
    )
    meetings: dict[int, dict[str, Any]] = {
        row["case_id"]: dict(row)
        for row in AgendaItem.objects.filter(case_id__in=case_ids)
        .values("case_id")
        .annotate(n=Count("meeting_id", distinct=True), first=Min("meeting__starts_at"))
    }
    concerns = dict(
        ConcernReport.objects.filter(case_id__in=case_ids)
        .values("case_id")
        .annotate(n=Count("pk"))
        .values_list("case_id", "n")
    )
    plans = dict(
        ActionPlan.objects.filter(case_id__in=case_ids).values_list("case_id", "created_at")
    )
    goals: dict[int, dict[str, Any]] = {
        row["plan__case_id"]: dict(row)
        for row in Goal.objects.filter(plan__case_id__in=case_ids)
        .values("plan__case_id")
        .annotate(n=Count("pk"), achieved=Count("pk", filter=Q(achieved=True)))
    }
    interventions: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in Intervention.objects.filter(plan__case_id__in=case_ids).values(
        "plan__case_id", "kind", "agency_id", "agency__sector", "status"
    ):
        interventions[row["plan__case_id"]].append(dict(row))
    consents = _consents(case_ids, now)

    facts: list[CaseFact] = []
    for case in cases:
        raised: datetime = case["raised_at"]
        closed: datetime | None = case["closed_at"]
        meeting: dict[str, Any] = meetings.get(case["pk"], {})
        goal: dict[str, Any] = goals.get(case["pk"], {})
        consent = consents.get(case["pk"], _Consents())
        facts.append(
            CaseFact(
                case_id=case["pk"],
                municipality_id=case["group__municipality_id"],
                raising_sector=case["raising_agency__sector"],
                age_band=age_band(case["youth__birth_date"], _local(raised)),
                gender=case["youth__gender"],
                raised_month=_month(raised),
                closed_month=_month(closed) if closed else None,
                closure_reason=case["closure_reason"],
                consents_obtained=consent.obtained,
                consents_withdrawn=consent.withdrawn,
                consents_expired=consent.expired,
                consent_declined=case["closure_reason"] == ClosureReason.CONSENT_DECLINED,
                days_to_consent=_days(raised, consent.first_active),
                days_to_first_meeting=_days(raised, meeting.get("first")),
                days_to_plan=_days(raised, plans.get(case["pk"])),
                meetings=meeting.get("n", 0),
                concern_reports=concerns.get(case["pk"], 0),
                goals=goal.get("n", 0),
                goals_achieved=goal.get("achieved", 0),
                refreshed_at=now,
            )
        )
    with transaction.atomic():
        CaseFact.objects.filter(case_id__in=case_ids).delete()
        CaseFact.objects.bulk_create(facts)
        by_case = {fact.case_id: fact for fact in facts}
        if not all(fact.pk for fact in facts):  # backends that return no keys from bulk_create
            by_case = {fact.case_id: fact for fact in CaseFact.objects.filter(case_id__in=case_ids)}
        InterventionFact.objects.bulk_create(
            InterventionFact(
                fact=by_case[case_id],
                kind=row["kind"],
                agency_id=row["agency_id"],
                sector=row["agency__sector"],
                status=row["status"],
            )
            for case_id, rows in interventions.items()
            for row in rows
        )


def _batches(ids: Iterable[int]) -> Iterator[list[int]]:
    iterator = iter(ids)
    while batch := list(islice(iterator, BATCH)):
        yield batch


def facts_refresh(*, case_ids: Iterable[int] | None = None) -> int:
    """Rebuild the facts of the given cases (all cases still held when ``None``).

    Returns the number of cases refreshed. Facts of purged cases are never touched: their
    case no longer exists to rebuild them from.
    """
    now = timezone.now()
    # A list, not a server-side cursor: each batch writes, and 60,000 integers are small.
    ids = (
        list(Case.objects.order_by("pk").values_list("pk", flat=True))
        if case_ids is None
        else sorted(set(case_ids))
    )
    count = 0
    for batch in _batches(ids):
        _build(batch, now)
        count += len(batch)
    return count
