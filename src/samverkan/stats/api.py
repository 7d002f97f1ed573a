"""The statistics part of the HTTP API: the dashboard's tables as JSON.

Same rules and selector as the page (``views.resolve`` → ``selectors.dashboard_data``): a
token holder who may not see the municipality's statistics gets 404, exactly as for one that
does not exist. A withheld figure is ``null`` and flagged in ``suppressed``. Each call is
audited like a page view.
"""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError

from samverkan.api.conventions import ErrorOut, caller
from samverkan.stats import selectors
from samverkan.stats.tables import Table
from samverkan.stats.views import resolve

router = Router(tags=["statistics"])


class DashboardFilters(Schema):
    municipality: str | None = Field(
        None, description="Kommunkod (four digits); default: the first the caller may see."
    )
    year: int | None = Field(
        None,
        description="Calendar year (one that has figures, or the current year, the default). "
        "The current year is to date and preliminary.",
    )


class RowOut(Schema):
    label: str
    values: list[int | float | None] = Field(description="null: not shown (see suppressed).")
    suppressed: list[bool] = Field(description="true where the value is withheld.")
    total: bool = Field(description="true for the row of column totals.")


class TableOut(Schema):
    key: str
    title: str
    kind: str = Field(
        description="count: persons or cases, disclosure-controlled (small counts and small "
        "groups sharing one outcome withheld); share: shown only over groups at or above the "
        "threshold; median: only over at least the median minimum (10) values; value: not about "
        "persons, shown as is."
    )
    row_heading: str
    columns: list[str]
    has_row_totals: bool = Field(description="The last column is each row's total.")
    has_column_totals: bool = Field(description="The last row is the column totals.")
    note: str
    rows: list[RowOut]


class DashboardOut(Schema):
    municipality: str
    municipality_code: str
    year: int
    period_start: str = Field(description="The first month of the period, YYYY-MM.")
    period_end: str = Field(description="The last month of the period, YYYY-MM.")
    preliminary: bool = Field(
        description="The current year, to date: the figures will still change."
    )
    too_few: bool = Field(
        description="Fewer cases than the threshold were raised in the year: no case table "
        "is returned."
    )
    threshold: int
    refreshed_at: datetime | None = Field(description="When the figures were built.")
    tables: list[TableOut] = Field(description="Cases, consents and meetings.")
    context_tables: list[TableOut] = Field(
        description="Promises and indicators: not counts of persons, never suppressed."
    )


def _table(table: Table) -> TableOut:
    return TableOut(
        key=table.key,
        title=table.title,
        kind=table.kind,
        row_heading=table.row_heading,
        columns=list(table.columns),
        has_row_totals=table.has_row_totals,
        has_column_totals=table.has_column_totals,
        note=table.note,
        rows=[
            RowOut(
                label=row.label,
                values=[c.value for c in row.cells],
                suppressed=[c.suppressed for c in row.cells],
                total=row.is_total,
            )
            for row in table.rows
        ],
    )


@router.get(
    "/dashboard",
    response={200: DashboardOut, 400: ErrorOut, 404: ErrorOut},
    by_alias=True,
    summary="The council's dashboard of one municipality and period, disclosure-controlled",
)
def dashboard(request: HttpRequest, filters: Query[DashboardFilters]) -> DashboardOut:
    user = caller(request)
    params = {
        "municipality": filters.municipality or "",
        "year": "" if filters.year is None else str(filters.year),
    }
    resolved = resolve(user, params)
    data = resolved.dashboard
    if data is None:
        errors = [str(e) for field in resolved.form.errors.values() for e in field]
        raise HttpError(400, " ".join(errors))
    selectors.dashboard_view_record(
        viewer=user, dashboard=data, action="stats.dashboard_viewed", via="api"
    )
    return DashboardOut(
        municipality=data.municipality.name,
        municipality_code=data.municipality.code,
        year=data.year,
        period_start=data.start.strftime("%Y-%m"),
        period_end=data.end.strftime("%Y-%m"),
        preliminary=data.preliminary,
        too_few=data.too_few,
        threshold=data.threshold,
        refreshed_at=data.refreshed_at,
        tables=[_table(t) for t in data.tables],
        context_tables=[_table(t) for t in data.context_tables],
    )
