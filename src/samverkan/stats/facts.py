"""Building the anonymised facts from the live records.

``facts_refresh`` rebuilds the facts of the given cases in a fixed number of queries per batch,
whatever the number of consents, meetings or interventions, so that the nightly job and the
synthetic national-scale set stay fast. It runs nightly (``stats.refresh``, a full build,
recorded as a ``FactsBuild`` whose time the dashboard shows) and for one case just before
retention purges it. It does not run when a case is closed: the closure reaches the figures
with the next nightly build, so the figures never change at the minute of a closure.

The consent figures come from the consent facts and state the access policy itself decides on
(``disclosure.facts.consent_facts_for_cases``, ``disclosure.policy.state_at``), so "obtained",
"withdrawn" and "expired" in the statistics mean what they mean on the case page.
"""

from __future__ import annotations

import logging
import random
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from itertools import islice
from typing import Any

from django.db import transaction
from django.db.models import Count, Min, Q
from django.utils import timezone

from samverkan.cases.models import Case, ClosureReason, ConcernReport
from samverkan.disclosure.facts import STOCKHOLM, consent_facts_for_cases
from samverkan.disclosure.policy import ConsentFacts, State, state_at
from samverkan.meetings.models import AgendaItem
from samverkan.plans.models import ActionPlan, Goal, Intervention
from samverkan.stats.models import AgeBand, CaseFact, FactsBuild, InterventionFact

logger = logging.getLogger(__name__)

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


def consent_figures(consents: Iterable[ConsentFacts], now: datetime) -> _Consents:
    """The consent figures of one case, decided by the policy itself (``disclosure.policy``).

    *Obtained*: the consent has been active, that is every required signer signed, it was not
    withdrawn first and its validity had begun (``active_interval`` starting by ``now``).
    *Withdrawn* and *expired* count only obtained consents, by their state now (``state_at``):
    withdrawn after having been active; expired by date or, where the youth did not sign, at
    the youth's 18th birthday. A consent withdrawn or run out before it was ever complete was
    never obtained and counts in none of the three, so withdrawn + expired <= obtained.
    """
    figures = _Consents()
    for consent in consents:
        interval = consent.active_interval()
        if interval is None or interval[0] > now:
            continue
        figures.obtained += 1
        if figures.first_active is None or interval[0] < figures.first_active:
            figures.first_active = interval[0]
        state = state_at(consent, now)
        if state == State.WITHDRAWN:
            figures.withdrawn += 1
        elif state == State.EXPIRED:
            figures.expired += 1
    return figures


# Everything a refresh rewrites; the key and the link to the case stay.
UPDATE_FIELDS = (
    "municipality",
    "raising_sector",
    "age_band",
    "gender",
    "raised_month",
    "closed_month",
    "closure_reason",
    "consents_obtained",
    "consents_withdrawn",
    "consents_expired",
    "consent_declined",
    "days_to_consent",
    "days_to_first_meeting",
    "days_to_plan",
    "meetings",
    "concern_reports",
    "goals",
    "goals_achieved",
)


def _case_fact(
    case: Mapping[str, Any],
    *,
    consent: _Consents,
    meeting: dict[str, Any],
    goal: dict[str, Any],
    plan_at: datetime | None,
    concern_reports: int,
) -> CaseFact:
    raised: datetime = case["raised_at"]
    closed: datetime | None = case["closed_at"]
    return CaseFact(
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
        days_to_plan=_days(raised, plan_at),
        meetings=meeting.get("n", 0),
        concern_reports=concern_reports,
        goals=goal.get("n", 0),
        goals_achieved=goal.get("achieved", 0),
    )


def _store_interventions(
    case_ids: list[int], interventions: dict[int, list[dict[str, Any]]]
) -> None:
    """Replace the intervention facts of the cases' stored facts."""
    # The keys of the facts as stored: bulk_create keeps the new UUID on an object whose
    # row already existed.
    keys = dict(CaseFact.objects.filter(case_id__in=case_ids).values_list("case_id", "pk"))
    InterventionFact.objects.filter(fact_id__in=keys.values()).delete()
    rows = [
        InterventionFact(
            fact_id=keys[case_id],
            kind=row["kind"],
            agency_id=row["agency_id"],
            sector=row["agency__sector"],
            status=row["status"],
        )
        for case_id, case_rows in interventions.items()
        if case_id in keys
        for row in case_rows
    ]
    random.shuffle(rows)
    InterventionFact.objects.bulk_create(rows)


def _build(case_ids: list[int], now: datetime) -> None:
    # Locked for the batch (PostgreSQL): a purge locks its case too, so it waits for the
    # nightly batch, or the batch finds its case already gone, and never writes a fact for
    # a case that no longer exists.
    cases = list(
        Case.objects.select_for_update(of=("self",))
        .filter(pk__in=case_ids)
        .values(
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
    # Only meetings that have begun: one scheduled for next week was not held.
    meetings: dict[int, dict[str, Any]] = {
        row["case_id"]: dict(row)
        for row in AgendaItem.objects.filter(case_id__in=case_ids, meeting__starts_at__lt=now)
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
    # The same facts the access policy decides on, in a fixed number of queries.
    consents = consent_facts_for_cases(case_ids)

    facts = [
        _case_fact(
            case,
            consent=consent_figures(consents.get(case["pk"], []), now),
            meeting=meetings.get(case["pk"], {}),
            goal=goals.get(case["pk"], {}),
            plan_at=plans.get(case["pk"]),
            concern_reports=concerns.get(case["pk"], 0),
        )
        for case in cases
    ]
    # New facts go in in no particular order, so that not even the storage order of the rows
    # follows the order in which the cases were raised.
    random.shuffle(facts)
    # The caller runs this in a transaction (one batch).
    # In place: a fact that exists keeps its key (the UUID made here is then unused).
    CaseFact.objects.bulk_create(
        facts,
        update_conflicts=True,
        unique_fields=["case"],
        update_fields=list(UPDATE_FIELDS),
    )
    _store_interventions(case_ids, interventions)


def _batches(ids: Iterable[int]) -> Iterator[list[int]]:
    iterator = iter(ids)
    while batch := list(islice(iterator, BATCH)):
        yield batch


class FactsRefreshError(RuntimeError):
    """Some batches could not be built; the others were."""


def facts_refresh(*, case_ids: Iterable[int] | None = None) -> int:
    """Rebuild the facts of the given cases, or of every case still held when ``None``.

    Returns the number of cases refreshed. Facts of purged cases are never touched: their
    case no longer exists to rebuild them from. Only a full build (``case_ids=None``, the
    nightly job) is recorded as a ``FactsBuild``, and only when every batch was built.

    A batch that fails is logged and skipped, so one bad case does not keep the rest of the
    municipality's figures from being built; ``FactsRefreshError`` is raised at the end, so
    the job is shown as failed.
    """
    started = timezone.now()
    # A list, not a server-side cursor: each batch writes, and 60,000 integers are small.
    # A case retention has begun to purge by record type (``records.PartialPurge``) keeps the
    # facts it had then: rebuilt now, what went would count as never held.
    cases = Case.objects.filter(partial_purge__isnull=True)
    if case_ids is not None:
        cases = cases.filter(pk__in=set(case_ids))
    ids = list(cases.order_by("pk").values_list("pk", flat=True))
    count = 0
    failed: list[BaseException] = []
    for batch in _batches(ids):
        try:
            # A savepoint when called inside a transaction (a purge): a failed batch is rolled
            # back on its own and leaves that transaction usable.
            with transaction.atomic():
                _build(batch, timezone.now())
        except Exception as error:  # logged, and raised again at the end
            logger.exception("stats: building the facts of a batch of %d cases failed", len(batch))
            failed.append(error)
            continue
        count += len(batch)
    if failed:
        raise FactsRefreshError(
            f"{len(failed)} of the batches failed; {count} cases were refreshed"
        ) from failed[0]
    if case_ids is None:
        FactsBuild.objects.create(started_at=started, finished_at=timezone.now(), cases=count)
    return count
