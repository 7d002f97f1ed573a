"""The dashboard's tables in one shape, shared by the page, the charts, the exports and the API.

A ``Table`` is what is shown and nothing more: every suppressed figure is already ``None``
here, so no output built from it (HTML, SVG, CSV, XLSX, JSON) can show what the disclosure
engine withheld. ``kind`` says what the figures are:

- ``count``: counts of persons or cases, protected by ``disclosure.protect`` (small counts and
  the cells that would reveal them are ``None``);
- ``share``: shown only over groups at or above the threshold, ``median`` only over at least
  ``STATS_MEDIAN_MINIMUM`` values (``None`` otherwise);
- ``value``: figures that are not about persons (meetings, commitments, indicator values),
  shown as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from samverkan.stats.disclosure import ProtectedTable

# Shown in place of a withheld figure, on the page and in both exports.
SUPPRESSED_MARK = "–"

COUNT = "count"
MEDIAN = "median"
SHARE = "share"
VALUE = "value"

Number = int | float


@dataclass(frozen=True)
class Cell:
    value: Number | None  # None: not shown
    text: str

    @property
    def suppressed(self) -> bool:
        return self.value is None


@dataclass(frozen=True)
class Row:
    label: str
    cells: tuple[Cell, ...]
    is_total: bool = False


@dataclass(frozen=True)
class Table:
    key: str  # stable, URL-safe: the chart's address and the API's name for the table
    title: str
    kind: str
    row_heading: str
    columns: tuple[str, ...]  # the value columns' headings, the row-total column included
    rows: tuple[Row, ...]  # the total row, if any, last
    has_row_totals: bool = False  # the last column is the row's total
    has_column_totals: bool = False  # the last row is the column totals
    note: str = ""
    chart: str = "bar"  # "bar" | "line" | "" (no chart)
    chart_url: str = ""  # set for charts drawn by another app (indicator series)

    @property
    def is_protected(self) -> bool:
        return self.kind == COUNT

    @property
    def any_suppressed(self) -> bool:
        return any(cell.suppressed for row in self.rows for cell in row.cells)

    @property
    def body_rows(self) -> tuple[Row, ...]:
        return tuple(row for row in self.rows if not row.is_total)

    @property
    def chart_columns(self) -> tuple[str, ...]:
        """The series a chart draws: the value columns without the row total."""
        return self.columns[:-1] if self.has_row_totals else self.columns


def format_number(value: Number | None, kind: str) -> str:
    if value is None:
        return SUPPRESSED_MARK
    if kind == SHARE:
        return f"{number_format(value * 100, decimal_pos=1, use_l10n=True)} %"
    if isinstance(value, int) or float(value).is_integer():
        return number_format(int(value), use_l10n=True)
    return number_format(value, decimal_pos=1, use_l10n=True)


def cell(value: Number | Decimal | None, kind: str) -> Cell:
    number: Number | None = float(value) if isinstance(value, Decimal) else value
    return Cell(number, format_number(number, kind))


def protected_table(
    *,
    key: str,
    title: str,
    row_heading: str,
    row_labels: Sequence[str],
    column_labels: Sequence[str],
    protected: ProtectedTable,
    show_total: bool = True,
    note: str = "",
) -> Table:
    """A count table from the engine's result, with a total column when there are several
    columns and a total row unless the rows overlap (``show_total=False``: a case can be in
    more than one row, so a sum would be no total)."""
    wide = len(column_labels) > 1
    rows: list[Row] = []
    for r, label in enumerate(row_labels):
        values = list(protected.cells[r])
        if wide:
            values.append(protected.row_totals[r])
        rows.append(Row(label, tuple(cell(v, COUNT) for v in values)))
    if show_total:
        values = list(protected.col_totals)
        if wide:
            values.append(protected.total)
        rows.append(Row(_("Total"), tuple(cell(v, COUNT) for v in values), is_total=True))
    columns = (*column_labels, _("Total")) if wide else tuple(column_labels)
    return Table(
        key=key,
        title=title,
        kind=COUNT,
        row_heading=row_heading,
        columns=columns,
        rows=tuple(rows),
        has_row_totals=wide,
        has_column_totals=show_total,
        note=note,
    )


def count_list_table(
    *,
    key: str,
    title: str,
    row_heading: str,
    row_labels: Sequence[str],
    column_labels: Sequence[str],
    values: Sequence[Sequence[int | None]],
    note: str = "",
) -> Table:
    """Counts of cases with no margins (``disclosure.protect_list`` per value): the figures
    overlap or are not additive, so no total is shown and none can be subtracted from."""
    return Table(
        key=key,
        title=title,
        kind=COUNT,
        row_heading=row_heading,
        columns=tuple(column_labels),
        rows=tuple(
            Row(label, tuple(cell(v, COUNT) for v in row))
            for label, row in zip(row_labels, values, strict=True)
        ),
        note=note,
    )


def plain_table(
    *,
    key: str,
    title: str,
    kind: str,
    row_heading: str,
    row_labels: Sequence[str],
    column_labels: Sequence[str],
    values: Sequence[Sequence[Number | Decimal | None]],
    note: str = "",
    chart: str = "bar",
    chart_url: str = "",
    has_row_totals: bool = False,
) -> Table:
    return Table(
        key=key,
        title=title,
        kind=kind,
        row_heading=row_heading,
        columns=tuple(column_labels),
        rows=tuple(
            Row(label, tuple(cell(v, kind) for v in row))
            for label, row in zip(row_labels, values, strict=True)
        ),
        has_row_totals=has_row_totals,
        note=note,
        chart=chart,
        chart_url=chart_url,
    )
