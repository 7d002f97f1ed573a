"""The council's dashboard: every read behind the page, its charts, exports and API.

``dashboard_data`` does all the database work in a fixed number of queries, whatever the
number of cases: the case figures are grouped and counted in SQL over ``CaseFact`` (indexed by
municipality and month raised), never read row by row, except the day counts behind the
medians (one narrow column list). Every count of persons or cases goes through
``disclosure.protect``, medians through ``shown_median`` and shares through ``shown_share``
before it leaves this module; what is withheld is ``None`` from here on.

The case figures are about the cases *raised* in the chosen months, as they stood when the
facts were last built; meetings are counted by the month they were held. Promises and
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
from django.db.models import Count, Max, Prefetch, Q, Sum
from django.db.models.functions import TruncMonth
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from samverkan.audit.services import audit_record
from samverkan.cases.models import ClosureReason, Gender
from samverkan.consent.facts import STOCKHOLM
from samverkan.indicators import rules as indicator_rules
from samverkan.indicators.models import Indicator, IndicatorValue
from samverkan.meetings.models import Meeting
from samverkan.organisations.models import Municipality, Sector
from samverkan.plans.models import InterventionKind
from samverkan.promises import rules as promise_rules
from samverkan.promises.models import RUNNING, Agreement, AgreementStatus, CommitmentStatus
from samverkan.stats import rules
from samverkan.stats.disclosure import protect, shown_median, shown_share
from samverkan.stats.models import AgeBand, CaseFact, InterventionFact
from samverkan.stats.tables import (
    MEDIAN,
    SHARE,
    VALUE,
    Row,
    Table,
    cell,
    plain_table,
    protected_table,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from samverkan.accounts.models import User

GENDERS: tuple[str, ...] = (Gender.GIRL, Gender.BOY, Gender.OTHER, Gender.UNKNOWN)
MEDIAN_FIELDS = ("days_to_consent", "days_to_first_meeting", "days_to_plan")
TABLE_ORDER = (
    "raised-sector-gender",
    "raised-age-gender",
    "status",
    "consents",
    "medians",
    "interventions",
    "closure",
    "goals",
    "concern",
    "shares",
    "meetings",
)


def threshold() -> int:
    return int(settings.STATS_THRESHOLD)


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
    start: date  # first day of the first month
    end: date  # first day of the last month
    threshold: int
    refreshed_at: datetime | None  # when the newest of the period's facts was built
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
        return {
            "municipality": self.municipality.code,
            "from": self.start.strftime("%Y-%m"),
            "to": self.end.strftime("%Y-%m"),
        }

    @property
    def query(self) -> str:
        return urlencode(self.filters)


def visible_municipalities(*, viewer: User | AnonymousUser) -> list[Municipality]:
    ids = rules.visible_municipality_ids(viewer)
    if not ids:
        return []
    return list(Municipality.objects.filter(pk__in=ids).order_by("name"))


def default_period(today: date | None = None) -> tuple[date, date]:
    """The current calendar year up to this month."""
    today = today or timezone.localdate()
    return date(today.year, 1, 1), today.replace(day=1)


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


def _case_tables(facts: Any, limit: int) -> tuple[dict[str, Table], datetime | None]:
    sector_labels = _labels(Sector.choices)
    gender_labels = _labels(Gender.choices)
    age_labels = _labels(AgeBand.choices)
    sectors = list(sector_labels)
    ages = list(age_labels)
    gender_columns = [gender_labels[g] for g in GENDERS]

    by_sector_gender: dict[tuple[str, str], int] = defaultdict(int)
    by_age_gender: dict[tuple[str, str], int] = defaultdict(int)
    reasons: dict[str, int] = defaultdict(int)
    totals: dict[str, int] = defaultdict(int)
    refreshed: datetime | None = None
    groups = (
        facts.values("raising_sector", "age_band", "gender", "closure_reason")
        .annotate(
            n=Count("pk"),
            closed=Count("pk", filter=Q(closed_month__isnull=False)),
            with_consent=Count("pk", filter=Q(consents_obtained__gt=0)),
            declined=Count("pk", filter=Q(consent_declined=True)),
            withdrawn=Count("pk", filter=Q(consents_withdrawn__gt=0)),
            expired=Count("pk", filter=Q(consents_expired__gt=0)),
            with_concern=Count("pk", filter=Q(concern_reports__gt=0)),
            goals_set=Sum("goals"),
            goals_met=Sum("goals_achieved"),
            refreshed=Max("refreshed_at"),
        )
        .order_by()
    )
    for g in groups:
        by_sector_gender[(g["raising_sector"], g["gender"])] += g["n"]
        by_age_gender[(g["age_band"], g["gender"])] += g["n"]
        reasons[g["closure_reason"]] += g["closed"]
        for key in ("n", "closed", "with_consent", "declined", "withdrawn", "expired"):
            totals[key] += g[key]
        totals["with_concern"] += g["with_concern"]
        totals["goals_set"] += g["goals_set"] or 0
        totals["goals_met"] += g["goals_met"] or 0
        if refreshed is None or g["refreshed"] > refreshed:
            refreshed = g["refreshed"]

    tables: list[Table] = []
    tables.append(
        protected_table(
            key="raised-sector-gender",
            title=_("Cases raised by raising sector and gender"),
            row_heading=_("Raising sector"),
            row_labels=[sector_labels[s] for s in sectors],
            column_labels=gender_columns,
            protected=protect(_grid(by_sector_gender, sectors, GENDERS), threshold=limit),
        )
    )
    tables.append(
        protected_table(
            key="raised-age-gender",
            title=_("Cases raised by age band and gender"),
            row_heading=_("Age when raised"),
            row_labels=[age_labels[a] for a in ages],
            column_labels=gender_columns,
            protected=protect(_grid(by_age_gender, ages, GENDERS), threshold=limit),
        )
    )
    status = protected_table(
        key="status",
        title=_("Open and closed cases"),
        row_heading=_("Status"),
        row_labels=[_("Open"), _("Closed")],
        column_labels=[_("Cases")],
        protected=protect(
            _column([totals["n"] - totals["closed"], totals["closed"]]), threshold=limit
        ),
    )
    tables.append(status)
    consents = protected_table(
        key="consents",
        title=_("Cases by consent outcome"),
        row_heading=_("Consent"),
        row_labels=[
            _("At least one consent obtained"),
            _("Consent declined"),
            _("A consent withdrawn"),
            _("A consent expired"),
        ],
        column_labels=[_("Cases")],
        protected=protect(
            _column(
                [totals["with_consent"], totals["declined"], totals["withdrawn"], totals["expired"]]
            ),
            threshold=limit,
        ),
        show_total=False,
        note=_("A case can be in more than one row, so the rows have no total."),
    )
    tables.append(consents)
    reason_values = list(ClosureReason.values)
    reason_labels = [str(label) for label in ClosureReason.labels]
    unrecorded = sum(n for reason, n in reasons.items() if reason not in reason_values)
    closure_counts = [reasons.get(r, 0) for r in reason_values]
    if unrecorded:
        reason_labels.append(_("Not recorded"))
        closure_counts.append(unrecorded)
    tables.append(
        protected_table(
            key="closure",
            title=_("Outcomes at closure"),
            row_heading=_("Reason for closing"),
            row_labels=reason_labels,
            column_labels=[_("Closed cases")],
            protected=protect(_column(closure_counts), threshold=limit),
        )
    )
    goals = protected_table(
        key="goals",
        title=_("Goal attainment in action plans"),
        row_heading=_("Goal"),
        row_labels=[_("Achieved"), _("Not achieved (yet)")],
        column_labels=[_("Goals")],
        protected=protect(
            _column([totals["goals_met"], totals["goals_set"] - totals["goals_met"]]),
            threshold=limit,
        ),
    )
    tables.append(goals)
    tables.append(
        protected_table(
            key="concern",
            title=_("Reports of concern to social services"),
            row_heading=_("Case"),
            row_labels=[_("With a report of concern"), _("Without a report of concern")],
            column_labels=[_("Cases")],
            protected=protect(
                _column([totals["with_concern"], totals["n"] - totals["with_concern"]]),
                threshold=limit,
            ),
        )
    )
    raised = _shown(status, 2)
    tables.append(
        plain_table(
            key="shares",
            title=_("Shares"),
            kind=SHARE,
            row_heading=_("Share"),
            row_labels=[
                _("Cases with a consent obtained, of the cases raised"),
                _("Cases closed, of the cases raised"),
                _("Goals achieved, of the goals set"),
            ],
            column_labels=[_("Share")],
            values=[
                [_share(_shown(consents, 0), raised, limit)],
                [_share(_shown(status, 1), raised, limit)],
                [_share(_shown(goals, 0), _shown(goals, 2), limit)],
            ],
        )
    )
    return {t.key: t for t in tables}, refreshed


def _median_table(facts: Any, limit: int) -> Table:
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
            [shown_median(values[(name, c)], threshold=limit) for c in columns]
            for name in MEDIAN_FIELDS
        ],
        note=_("Per raising sector; shown only where at least %(n)d cases have reached the step.")
        % {"n": limit},
    )


def _intervention_table(municipality_id: int, start: date, end: date, limit: int) -> Table:
    kinds = _labels(InterventionKind.choices)
    sectors = _labels(Sector.choices)
    counts = {
        (row["kind"], row["sector"]): row["n"]
        for row in InterventionFact.objects.filter(
            fact__municipality_id=municipality_id,
            fact__raised_month__gte=start,
            fact__raised_month__lte=end,
        )
        .values("kind", "sector")
        .annotate(n=Count("pk"))
        .order_by()
    }
    return protected_table(
        key="interventions",
        title=_("Interventions by type and agency sector"),
        row_heading=_("Intervention"),
        row_labels=list(kinds.values()),
        column_labels=list(sectors.values()),
        protected=protect(_grid(counts, list(kinds), list(sectors)), threshold=limit),
    )


def _meeting_table(municipality_id: int, start: date, end: date) -> Table:
    first = datetime(start.year, start.month, 1, tzinfo=STOCKHOLM)
    after = next_month(end)
    last = datetime(after.year, after.month, 1, tzinfo=STOCKHOLM)
    held = {
        row["month"].astimezone(STOCKHOLM).date(): row["n"]
        for row in Meeting.objects.filter(
            group__municipality_id=municipality_id, starts_at__gte=first, starts_at__lt=last
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


def _promise_table(viewer: User | AnonymousUser, municipality_id: int) -> tuple[Table, bool]:
    every = municipality_id in promise_rules.reader_municipality_ids(viewer)
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
    )
    return table, every


def _indicator_tables(
    viewer: User | AnonymousUser, municipality_id: int, start: date, end: date
) -> tuple[list[Table], bool]:
    every = municipality_id in indicator_rules.readable_municipality_ids(viewer)
    indicators = Indicator.objects.filter(municipality_id=municipality_id)
    if not every:
        indicators = indicators.filter(published=True)
    in_period = IndicatorValue.objects.filter(
        period_start__gte=start, period_start__lt=next_month(end)
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
    return tables, every


# --- The dashboard -----------------------------------------------------------------------------


def dashboard_data(
    *, viewer: User | AnonymousUser, municipality_id: int, start: date, end: date
) -> Dashboard:
    """The dashboard of one municipality for the months ``start``..``end`` (first days).

    404 when the viewer may not see the municipality's statistics, exactly as for a missing
    one. Nothing is audited here: the caller records the view (``dashboard_view_record``).
    """
    if municipality_id not in rules.visible_municipality_ids(viewer):
        raise Http404
    municipality = Municipality.objects.filter(pk=municipality_id).first()
    if municipality is None:
        raise Http404
    start, end = start.replace(day=1), end.replace(day=1)
    limit = threshold()
    facts = CaseFact.objects.filter(
        municipality_id=municipality_id, raised_month__gte=start, raised_month__lte=end
    )
    case_tables, refreshed = _case_tables(facts, limit)
    case_tables["medians"] = _median_table(facts, limit)
    case_tables["interventions"] = _intervention_table(municipality_id, start, end, limit)
    case_tables["meetings"] = _meeting_table(municipality_id, start, end)
    tables = [case_tables[key] for key in TABLE_ORDER]
    promises, all_agreements = _promise_table(viewer, municipality_id)
    indicators, all_indicators = _indicator_tables(viewer, municipality_id, start, end)
    return Dashboard(
        municipality=municipality,
        start=start,
        end=end,
        threshold=limit,
        refreshed_at=refreshed,
        tables=tuple(tables),
        context_tables=(promises, *indicators),
        all_agreements=all_agreements,
        all_indicators=all_indicators,
    )


def dashboard_view_record(
    *, viewer: User, dashboard: Dashboard, action: str, export_format: str = "", via: str = "web"
) -> None:
    """Audit a view or export of the dashboard: aggregates only, but who looked is logged."""
    details: dict[str, str] = {**dashboard.filters, "via": via}
    if export_format:
        details["format"] = export_format
    with transaction.atomic():
        audit_record(action=action, actor=viewer, obj=dashboard.municipality, details=details)
