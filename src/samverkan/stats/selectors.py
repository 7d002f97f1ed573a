"""The council's dashboard: every read behind the page, its charts, exports and API.

``dashboard_data`` does all the database work in a fixed number of queries, whatever the
number of cases: the case figures are grouped and counted in SQL over ``CaseFact`` (indexed by
municipality and month raised), never read row by row, except the day counts behind the
medians (one narrow column list). Every count of persons or cases goes through
``disclosure.protect``, medians through ``shown_median`` and shares through ``shown_share``
before it leaves this module; what is withheld is ``None`` from here on.

The case figures are about the cases *raised* in the chosen calendar year, as they stood when
the facts were last built; meetings are counted by the month they were held (started). Promises and
indicators are not counts of persons and are shown as they are, in their own section.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Prefetch, Q
from django.db.models.functions import TruncMonth
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from samverkan.audit.services import audit_record
from samverkan.cases.models import ClosureReason, Gender
from samverkan.disclosure.facts import STOCKHOLM
from samverkan.indicators import rules as indicator_rules
from samverkan.indicators.models import Indicator, IndicatorValue
from samverkan.lib.replica import statistics_reads
from samverkan.meetings.models import Meeting
from samverkan.organisations.models import Municipality, Sector
from samverkan.plans.models import InterventionKind
from samverkan.promises import rules as promise_rules
from samverkan.promises.models import RUNNING, Agreement, AgreementStatus, CommitmentStatus
from samverkan.stats import rules
from samverkan.stats.disclosure import (
    Position,
    ProtectedTable,
    audit_circulation,
    protect_linked,
    protect_list,
    shown_median,
    shown_share,
)
from samverkan.stats.models import AgeBand, CaseFact, FactsBuild, InterventionFact
from samverkan.stats.tables import (
    MEDIAN,
    SHARE,
    VALUE,
    Row,
    Table,
    cell,
    count_list_table,
    plain_table,
    protected_table,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from samverkan.accounts.models import User

GENDERS: tuple[str, ...] = (Gender.GIRL, Gender.BOY, Gender.OTHER, Gender.UNKNOWN)
MEDIAN_FIELDS = ("days_to_consent", "days_to_first_meeting", "days_to_plan")
CASE_TABLES = (
    "raised-sector-gender",
    "raised-age-gender",
    "outcomes",
    "consents",
    "medians",
    "interventions",
    "goals",
    "concern",
    "shares",
)


def threshold() -> int:
    return int(settings.STATS_THRESHOLD)


def group_threshold() -> int:
    """Below this a row or column of a breakdown is a small group (``disclosure`` step 2);
    never below the threshold itself."""
    return max(int(settings.STATS_GROUP_THRESHOLD), threshold())


def median_minimum() -> int:
    """The fewest values a median is shown over; never below the threshold itself."""
    return max(int(settings.STATS_MEDIAN_MINIMUM), threshold())


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def months(start: date, end: date) -> Iterator[date]:
    month = start
    while month <= end:
        yield month
        month = next_month(month)


@dataclass(frozen=True)
class Dashboard:
    municipality: Municipality
    year: int
    start: date  # 1 January of the year
    end: date  # first day of the last month: December, or this month for the current year
    preliminary: bool  # the current year, to date: the figures will still change
    too_few: bool  # fewer cases than the threshold raised: no case figures at all
    threshold: int
    refreshed_at: datetime | None  # when the figures were built
    tables: tuple[Table, ...]  # about cases and persons (and meetings)
    context_tables: tuple[Table, ...] = field(default=())  # promises and indicators
    all_agreements: bool = False  # False: only the published ones (the viewer reads no others)
    all_indicators: bool = False

    @property
    def every_table(self) -> tuple[Table, ...]:
        return self.tables + self.context_tables

    def table(self, key: str) -> Table | None:
        return next((t for t in self.every_table if t.key == key), None)

    @property
    def filters(self) -> dict[str, str]:
        """The query parameters that name this dashboard (page, charts, exports, API)."""
        return {"municipality": self.municipality.code, "year": str(self.year)}

    @property
    def query(self) -> str:
        return urlencode(self.filters)


def visible_municipalities(*, viewer: User | AnonymousUser) -> list[Municipality]:
    ids = rules.visible_municipality_ids(viewer)
    if not ids:
        return []
    return list(Municipality.objects.filter(pk__in=ids).order_by("name"))


def current_year() -> int:
    return timezone.localdate().year


def year_bounds(year: int) -> tuple[date, date, date]:
    """1 January, the first day of the last month shown (this month for the current year)
    and 1 January of the next year."""
    start, after = date(year, 1, 1), date(year + 1, 1, 1)
    today = timezone.localdate()
    end = today.replace(day=1) if start <= today < after else date(year, 12, 1)
    return start, end, after


def available_years(municipalities: Sequence[Municipality]) -> list[int]:
    """The years that have facts in any of the municipalities, newest first; the current
    year always (its figures may simply not be there yet)."""
    with statistics_reads():
        years = {
            day.year
            for day in CaseFact.objects.filter(municipality__in=municipalities).dates(
                "raised_month", "year"
            )
        }
    years.add(current_year())
    return sorted(years, reverse=True)


# --- Case figures ------------------------------------------------------------------------------


def _labels(choices: Sequence[tuple[Any, Any]]) -> dict[str, str]:
    return {value: str(label) for value, label in choices}


def _grid(
    counts: dict[tuple[str, str], int], rows: Sequence[str], columns: Sequence[str]
) -> list[list[int]]:
    return [[counts.get((r, c), 0) for c in columns] for r in rows]


def _column(values: Sequence[int]) -> list[list[int]]:
    return [[v] for v in values]


def _shown(table: Table, row: int, column: int = 0) -> int | None:
    value = table.rows[row].cells[column].value
    return None if value is None else int(value)


def _share(part: int | None, whole: int | None, limit: int) -> float | None:
    """A share only of figures shown themselves: a share of a withheld count would give the
    count back (share × a shown total)."""
    if part is None or whole is None:
        return None
    return shown_share(part, whole, threshold=limit)


def _counts(facts: Any) -> dict[str, Any]:
    """Every count behind the case tables, in one grouped query."""
    by_sector_gender: dict[tuple[str, str], int] = defaultdict(int)
    by_age_gender: dict[tuple[str, str], int] = defaultdict(int)
    reasons: dict[str, int] = defaultdict(int)
    totals: dict[str, int] = defaultdict(int)
    with_goals = Q(goals__gt=0)
    groups = (
        facts.values("raising_sector", "age_band", "gender", "closure_reason")
        .annotate(
            n=Count("pk"),
            closed=Count("pk", filter=Q(closed_month__isnull=False)),
            with_consent=Count("pk", filter=Q(consents_obtained__gt=0)),
            withdrawn=Count("pk", filter=Q(consents_withdrawn__gt=0)),
            expired=Count("pk", filter=Q(consents_expired__gt=0)),
            with_concern=Count("pk", filter=Q(concern_reports__gt=0)),
            goals_all=Count("pk", filter=with_goals & Q(goals_achieved__gte=F("goals"))),
            goals_some=Count(
                "pk",
                filter=with_goals & Q(goals_achieved__gt=0, goals_achieved__lt=F("goals")),
            ),
            goals_none=Count("pk", filter=with_goals & Q(goals_achieved=0)),
        )
        .order_by()
    )
    for g in groups:
        by_sector_gender[(g["raising_sector"], g["gender"])] += g["n"]
        by_age_gender[(g["age_band"], g["gender"])] += g["n"]
        reasons[g["closure_reason"]] += g["closed"]
        for key in (
            "n",
            "closed",
            "with_consent",
            "withdrawn",
            "expired",
            "with_concern",
            "goals_all",
            "goals_some",
            "goals_none",
        ):
            totals[key] += g[key]
    return {
        "sector_gender": by_sector_gender,
        "age_gender": by_age_gender,
        "reasons": reasons,
        "totals": totals,
    }


def _case_tables(counts: dict[str, Any], limit: int) -> dict[str, Table]:
    """The count tables, protected together where they show the same figure.

    Each figure appears in one table only, except the number of cases raised (the grand total
    of both gender breakdowns and of the outcomes) and the number raised per gender (the
    column totals of both gender breakdowns): those three tables are protected jointly
    (``protect_joined``), so a shared figure is shown alike in each or withheld in each, and
    no withheld figure follows from the three read together.
    Tables whose figures overlap or are not additive have no margins at all.
    """
    sector_labels = _labels(Sector.choices)
    gender_labels = _labels(Gender.choices)
    age_labels = _labels(AgeBand.choices)
    sectors = list(sector_labels)
    ages = list(age_labels)
    gender_columns = [gender_labels[g] for g in GENDERS]
    totals: dict[str, int] = counts["totals"]
    reasons: dict[str, int] = counts["reasons"]
    outcome_labels, outcome_counts = _outcomes(totals, reasons)

    by_sector, by_age, outcomes = protect_joined(
        _grid(counts["sector_gender"], sectors, GENDERS),
        _grid(counts["age_gender"], ages, GENDERS),
        outcome_counts,
        limit,
        group_limit=group_threshold(),
    )

    tables: list[Table] = [
        protected_table(
            key="raised-sector-gender",
            title=_("Cases raised by raising sector and gender"),
            row_heading=_("Raising sector"),
            row_labels=[sector_labels[s] for s in sectors],
            column_labels=gender_columns,
            protected=by_sector,
        ),
        protected_table(
            key="raised-age-gender",
            title=_("Cases raised by age band and gender"),
            row_heading=_("Age when raised"),
            row_labels=[age_labels[a] for a in ages],
            column_labels=gender_columns,
            protected=by_age,
        ),
    ]
    outcome_table = protected_table(
        key="outcomes",
        title=_("Cases raised: still open, or closed by reason"),
        row_heading=_("Outcome"),
        row_labels=outcome_labels,
        column_labels=[_("Cases")],
        protected=outcomes,
        note=_("The total is the number of cases raised in the period."),
    )
    tables.append(outcome_table)
    consents, goals, concern = _summary_tables(totals, limit)
    tables.extend([consents, goals, concern])
    tables.append(_shares_table(outcome_table, len(outcome_counts), consents, limit))
    return {t.key: t for t in tables}


def _outcomes(totals: dict[str, int], reasons: dict[str, int]) -> tuple[list[str], list[int]]:
    """The outcome rows: still open, then closed by each reason (and without one)."""
    reason_values = list(ClosureReason.values)
    outcome_labels = [_("Still open"), *(str(label) for label in ClosureReason.labels)]
    outcome_counts = [totals["n"] - totals["closed"], *(reasons.get(r, 0) for r in reason_values)]
    unrecorded = sum(n for reason, n in reasons.items() if reason not in reason_values)
    if unrecorded:
        outcome_labels.append(_("Closed, reason not recorded"))
        outcome_counts.append(unrecorded)
    return outcome_labels, outcome_counts


def _summary_tables(totals: dict[str, int], limit: int) -> tuple[Table, Table, Table]:
    """The consent, goal and concern tables: protected one by one, without margins."""
    consent_counts = [totals["with_consent"], totals["withdrawn"], totals["expired"]]
    consents = count_list_table(
        key="consents",
        title=_("Cases by consent"),
        row_heading=_("Consent"),
        row_labels=[
            _("Cases with a consent obtained"),
            _("Cases with a consent withdrawn"),
            _("Cases with a consent expired"),
        ],
        column_labels=[_("Cases")],
        values=_column_of(protect_list(consent_counts, threshold=limit)),
        note=_(
            "A case can be in more than one row, so the rows have no total. Cases where "
            "consent was declined are among the outcomes."
        ),
    )
    goals = count_list_table(
        key="goals",
        title=_("Goal attainment in action plans"),
        row_heading=_("Goals of the case's plan"),
        row_labels=[_("All achieved"), _("Partly achieved"), _("None achieved (yet)")],
        column_labels=[_("Cases")],
        values=_column_of(
            protect_list(
                [totals["goals_all"], totals["goals_some"], totals["goals_none"]],
                threshold=limit,
            )
        ),
        note=_("Cases whose action plan has goals, by how many of them were achieved."),
    )
    concern = count_list_table(
        key="concern",
        title=_("Reports of concern to social services"),
        row_heading=_("Case"),
        row_labels=[_("Cases with a report of concern")],
        column_labels=[_("Cases")],
        values=_column_of(protect_list([totals["with_concern"]], threshold=limit)),
    )
    return consents, goals, concern


def _shares_table(outcome_table: Table, outcome_rows: int, consents: Table, limit: int) -> Table:
    """Shares of the cases raised, from the figures as shown (withheld ones stay withheld)."""
    raised_n = _shown(outcome_table, outcome_rows)
    still_open = _shown(outcome_table, 0)
    closed = None if raised_n is None or still_open is None else raised_n - still_open
    return plain_table(
        key="shares",
        title=_("Shares"),
        kind=SHARE,
        row_heading=_("Share"),
        row_labels=[
            _("Cases with a consent obtained, of the cases raised"),
            _("Cases closed, of the cases raised"),
        ],
        column_labels=[_("Share")],
        values=[
            [_share(_shown(consents, 0), raised_n, limit)],
            [_share(closed, raised_n, limit)],
        ],
    )


def protect_joined(
    by_sector: list[list[int]],
    by_age: list[list[int]],
    outcomes: list[int],
    limit: int,
    *,
    group_limit: int | None = None,
) -> list[ProtectedTable]:
    """Protect the two gender breakdowns and the outcomes as one system.

    They share the number raised (each one's grand total) and the gender totals (the
    breakdowns' column totals). ``protect_linked`` makes each shared figure shown alike or
    withheld alike; then the three tables are audited together as one circulation (raising
    sector → gender → age band → outcome → back), so that ranges read from different tables
    cannot meet in one value. What that audit adds is forced, and the two steps repeat until
    nothing changes (suppressions only grow, so this ends). ``group_limit``: a sector, an age
    band or a gender with fewer cases, all in one cell, is a small group (``disclosure`` step
    2) and its cells are withheld, zeros included.
    """
    sectors, ages, width, rows = len(by_sector), len(by_age), len(by_sector[0]), len(outcomes)
    tables = [by_sector, by_age, _column(outcomes)]
    raised = [(0, (sectors, width)), (1, (ages, width)), (2, (rows, 0)), (2, (rows, 1))]
    links = [raised, *([(0, (sectors, g)), (1, (ages, g))] for g in range(width))]
    edges: list[tuple[Any, Any, int]] = []
    places: list[list[tuple[int, Position]]] = []

    def edge(tail: Any, head: Any, value: int, *where: tuple[int, Position]) -> None:
        edges.append((tail, head, value))
        places.append(list(where))

    for s, row in enumerate(by_sector):
        edge("out", ("sector", s), sum(row), (0, (s, width)))
        for g, value in enumerate(row):
            edge(("sector", s), ("in", g), value, (0, (s, g)))
    for g in range(width):
        total = sum(row[g] for row in by_sector)
        edge(("in", g), ("gender", g), total, (0, (sectors, g)), (1, (ages, g)))
    for a, row in enumerate(by_age):
        for g, value in enumerate(row):
            edge(("gender", g), ("age", a), value, (1, (a, g)))
        edge(("age", a), "raised", sum(row), (1, (a, width)))
    for r, value in enumerate(outcomes):
        edge("raised", "outcome", value, (2, (r, 0)), (2, (r, 1)))
    edge("outcome", "out", sum(outcomes), *raised)

    forced: list[set[Position]] = [set(), set(), set()]
    while True:
        result = protect_linked(
            tables,
            links,
            threshold=limit,
            forced=[frozenset(f) for f in forced],
            group_threshold=group_limit,
        )
        hidden = frozenset(
            i for i, where in enumerate(places) if any(p in result[t].suppressed for t, p in where)
        )
        extra = audit_circulation(edges, hidden)
        if not extra:
            return result
        for i in extra:
            for t, p in places[i]:
                forced[t].add(p)


def _column_of(values: Sequence[int | None]) -> list[list[int | None]]:
    return [[v] for v in values]


def _median_table(facts: Any, limit: int) -> Table:
    fewest = median_minimum()
    sector_labels = _labels(Sector.choices)
    values: dict[tuple[str, str], list[int]] = defaultdict(list)
    for row in facts.values_list("raising_sector", *MEDIAN_FIELDS).order_by():
        sector = row[0]
        for name, days in zip(MEDIAN_FIELDS, row[1:], strict=True):
            if days is not None:
                values[(name, "")].append(days)
                values[(name, sector)].append(days)
    columns = ["", *sector_labels]
    return plain_table(
        key="medians",
        title=_("Median days from raising the case"),
        kind=MEDIAN,
        row_heading=_("Days from raising to"),
        row_labels=[_("Consent obtained"), _("First meeting"), _("Action plan")],
        column_labels=[_("All cases"), *sector_labels.values()],
        values=[
            [shown_median(values[(name, c)], threshold=limit, minimum=fewest) for c in columns]
            for name in MEDIAN_FIELDS
        ],
        note=_("Per raising sector; shown only where at least %(n)d cases have reached the step.")
        % {"n": fewest},
    )


def _intervention_table(municipality_id: int, start: date, after: date, limit: int) -> Table:
    kinds = _labels(InterventionKind.choices)
    sectors = _labels(Sector.choices)
    counts = {
        (row["kind"], row["sector"]): row["n"]
        for row in InterventionFact.objects.filter(
            fact__municipality_id=municipality_id,
            fact__raised_month__gte=start,
            fact__raised_month__lt=after,
        )
        .values("kind", "sector")
        .annotate(n=Count("fact", distinct=True))
        .order_by()
    }
    grid = _grid(counts, list(kinds), list(sectors))
    return count_list_table(
        key="interventions",
        title=_("Cases with an intervention, by type and agency sector"),
        row_heading=_("Intervention"),
        row_labels=list(kinds.values()),
        column_labels=list(sectors.values()),
        values=[protect_list(row, threshold=limit) for row in grid],
        note=_(
            "Each cell counts cases, not interventions. A case can be in several cells, so "
            "the table has no totals."
        ),
    )


def _meeting_table(municipality_id: int, start: date, end: date) -> Table:
    """Meetings that have started, per month: a meeting booked for later is not held yet."""
    first = datetime(start.year, start.month, 1, tzinfo=STOCKHOLM)
    after = next_month(end)
    last = datetime(after.year, after.month, 1, tzinfo=STOCKHOLM)
    held = {
        row["month"].astimezone(STOCKHOLM).date(): row["n"]
        for row in Meeting.objects.filter(
            group__municipality_id=municipality_id,
            starts_at__gte=first,
            starts_at__lt=min(last, timezone.now()),
        )
        .annotate(month=TruncMonth("starts_at", tzinfo=STOCKHOLM))
        .values("month")
        .annotate(n=Count("pk"))
        .order_by()
    }
    periods = list(months(start, end))
    rows = [Row(m.strftime("%Y-%m"), (cell(held.get(m, 0), VALUE),)) for m in periods]
    rows.append(Row(_("Total"), (cell(sum(held.values()), VALUE),), is_total=True))
    return Table(
        key="meetings",
        title=_("Meetings of the collaboration groups held"),
        kind=VALUE,
        row_heading=_("Month"),
        columns=(_("Meetings"),),
        rows=tuple(rows),
        has_column_totals=True,
        note=_("Meetings are not persons: they are counted as they are."),
    )


# --- Promises and indicators -------------------------------------------------------------------


def _promise_table(municipality_id: int, every: bool) -> Table:
    """``every``: the viewer reads the unpublished agreements too."""
    agreements = Agreement.objects.filter(municipality_id=municipality_id, status__in=RUNNING)
    if not every:
        agreements = agreements.filter(published=True)
    statuses = list(CommitmentStatus.values)
    annotated = agreements.annotate(
        **{f"n_{s}": Count("commitments", filter=Q(commitments__status=s)) for s in statuses}
    ).order_by("period_start", "pk")
    status_labels = _labels(AgreementStatus.choices)
    labels: list[str] = []
    values: list[list[int]] = []
    for agreement in annotated:
        counts = [getattr(agreement, f"n_{s}") for s in statuses]
        labels.append(f"{agreement.title} ({status_labels[agreement.status]})")
        values.append([*counts, sum(counts)])
    table = plain_table(
        key="commitments",
        title=_("Commitments of the running agreements, by status"),
        kind=VALUE,
        row_heading=_("Agreement"),
        row_labels=labels,
        column_labels=[*(str(label) for label in CommitmentStatus.labels), _("Total")],
        values=values,
        chart="stacked",
        has_row_totals=True,
    )
    return table


def _indicator_tables(municipality_id: int, every: bool, start: date, after: date) -> list[Table]:
    """``every``: the viewer reads the unpublished indicators too."""
    indicators = Indicator.objects.filter(municipality_id=municipality_id)
    if not every:
        indicators = indicators.filter(published=True)
    in_period = IndicatorValue.objects.filter(
        period_start__gte=start, period_start__lt=after
    ).order_by("period_start")
    tables = []
    for indicator in indicators.order_by("name", "area", "pk").prefetch_related(
        Prefetch("values", queryset=in_period)
    ):
        series = list(indicator.values.all())
        title = f"{indicator.name} – {indicator.area_label}"
        if indicator.unit:
            title += f" ({indicator.unit})"
        tables.append(
            plain_table(
                key=f"indicator-{indicator.pk}",
                title=title,
                kind=VALUE,
                row_heading=_("Period"),
                row_labels=[v.period_label for v in series],
                column_labels=[_("Value")],
                values=[[v.display_value] for v in series],
                note=_("Source: %(source)s") % {"source": indicator.source},
                chart="line",
            )
        )
    return tables


# --- The dashboard -----------------------------------------------------------------------------


def dashboard_data(*, viewer: User | AnonymousUser, municipality_id: int, year: int) -> Dashboard:
    """The dashboard of one municipality for one calendar year (the current one: to date).

    Periods are whole calendar years and never overlap, so that two periods cannot be
    subtracted from each other to reach a few cases (docs/statistics.md §6). When fewer cases
    than the threshold were raised in the year, no case figure is shown at all.

    404 when the viewer may not see the municipality's statistics, exactly as for a missing
    one. Nothing is audited here: the caller records the view (``dashboard_view_record``).

    Who may see what is decided on the primary; the figures are read on the replica when one
    is configured and healthy (``lib/replica.py``).
    """
    if municipality_id not in rules.visible_municipality_ids(viewer):
        raise Http404
    municipality = Municipality.objects.filter(pk=municipality_id).first()
    if municipality is None:
        raise Http404
    all_agreements = municipality_id in promise_rules.reader_municipality_ids(viewer)
    all_indicators = municipality_id in indicator_rules.readable_municipality_ids(viewer)
    start, end, after = year_bounds(year)
    limit = threshold()
    with statistics_reads():
        facts = CaseFact.objects.filter(
            municipality_id=municipality_id, raised_month__gte=start, raised_month__lt=after
        )
        counts = _counts(facts)
        too_few = counts["totals"]["n"] < limit
        tables: list[Table] = []
        if not too_few:
            case_tables = _case_tables(counts, limit)
            case_tables["medians"] = _median_table(facts, limit)
            case_tables["interventions"] = _intervention_table(municipality_id, start, after, limit)
            tables = [case_tables[key] for key in CASE_TABLES]
        tables.append(_meeting_table(municipality_id, start, end))
        promises = _promise_table(municipality_id, all_agreements)
        indicators = _indicator_tables(municipality_id, all_indicators, start, after)
        refreshed_at = figures_built_at()
    return Dashboard(
        municipality=municipality,
        year=year,
        start=start,
        end=end,
        preliminary=after > timezone.localdate(),
        too_few=too_few,
        threshold=limit,
        refreshed_at=refreshed_at,
        tables=tuple(tables),
        context_tables=(promises, *indicators),
        all_agreements=all_agreements,
        all_indicators=all_indicators,
    )


def figures_built_at() -> datetime | None:
    """When the figures were last built: the end of the latest full build of the facts."""
    return FactsBuild.objects.order_by("-finished_at").values_list("finished_at", flat=True).first()


def dashboard_view_record(
    *, viewer: User, dashboard: Dashboard, action: str, export_format: str = "", via: str = "web"
) -> None:
    """Audit a view or export of the dashboard: aggregates only, but who looked is logged."""
    details: dict[str, str] = {**dashboard.filters, "via": via}
    if export_format:
        details["format"] = export_format
    with transaction.atomic():
        audit_record(action=action, actor=viewer, obj=dashboard.municipality, details=details)
