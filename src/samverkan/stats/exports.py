"""CSV and XLSX copies of exactly the tables the dashboard shows.

A withheld figure is written as the page's mark (``–``), never as a number or an empty cell
that a spreadsheet would sum as zero. Numbers are plain (a dot for decimals, shares as
fractions of 1) so that the files can be read by programs; the CSV uses semicolons and a
byte-order mark, as Swedish spreadsheet programs expect.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from django.utils import timezone
from django.utils.translation import gettext as _

from samverkan.stats.selectors import Dashboard
from samverkan.stats.tables import SHARE, SUPPRESSED_MARK, Cell, Table

Line = list[str | int | float]


def export_filename(dashboard: Dashboard, fmt: str) -> str:
    f = dashboard.filters
    return f"statistics-{f['municipality']}-{f['year']}.{fmt}"


def legend(dashboard: Dashboard) -> str:
    return _(
        "%(mark)s = not shown: fewer than %(n)d, or hidden so that it cannot be worked out "
        "from the other figures"
    ) % {"mark": SUPPRESSED_MARK, "n": dashboard.threshold}


def too_few_text(dashboard: Dashboard) -> str:
    return _("Fewer than %(n)d cases were raised in the period, so no case figures are shown.") % {
        "n": dashboard.threshold
    }


def _text(value: str) -> str:
    """Text that a spreadsheet would take for a formula is quoted (titles are staff text)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _value(cell: Cell, table: Table) -> str | int | float:
    if cell.value is None:
        return SUPPRESSED_MARK
    if isinstance(cell.value, float):
        if cell.value.is_integer() and table.kind != SHARE:
            return int(cell.value)
        return round(cell.value, 4)
    return cell.value


def _preamble(dashboard: Dashboard) -> Iterator[Line]:
    built = (
        timezone.localtime(dashboard.refreshed_at).strftime("%Y-%m-%d %H:%M")
        if dashboard.refreshed_at
        else "–"
    )
    yield [_("Statistics for %(name)s") % {"name": dashboard.municipality.name}]
    yield [_("Municipality code"), dashboard.municipality.code]
    period = f"{dashboard.start:%Y-%m} – {dashboard.end:%Y-%m}"
    yield [_("Year"), dashboard.year]
    yield [_("Period"), period]
    if dashboard.preliminary:
        yield [_("Preliminary"), _("The current year, to date: the figures will still change.")]
    if dashboard.too_few:
        yield [_("Cases"), too_few_text(dashboard)]
    yield [_("Figures built at"), built]
    yield [_("Threshold"), dashboard.threshold]
    yield [_("Legend"), legend(dashboard)]


def _table_lines(table: Table) -> Iterator[Line]:
    """A title line (with the note, if any), the header line, then the rows."""
    yield [_text(table.title), table.note] if table.note else [_text(table.title)]
    yield [table.row_heading, *(_text(c) for c in table.columns)]
    for row in table.rows:
        yield [_text(row.label), *(_value(c, table) for c in row.cells)]


def _lines(dashboard: Dashboard) -> Iterator[Line]:
    yield from _preamble(dashboard)
    for table in dashboard.every_table:
        yield []
        yield from _table_lines(table)


def export_csv(dashboard: Dashboard) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    for line in _lines(dashboard):
        writer.writerow(line)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def export_xlsx(dashboard: Dashboard) -> bytes:
    # openpyxl ships no type information (and no stubs are installed).
    from openpyxl import Workbook  # type: ignore[import-untyped]
    from openpyxl.styles import Font  # type: ignore[import-untyped]

    book = Workbook()
    sheet = book.active
    if sheet is None:  # pragma: no cover - a new workbook always has one sheet
        raise RuntimeError("openpyxl made a workbook without a sheet")
    sheet.title = _("Statistics")[:31]
    bold = Font(bold=True)
    for line in _preamble(dashboard):
        sheet.append(line)
    for table in dashboard.every_table:
        sheet.append([])
        for index, line in enumerate(_table_lines(table)):
            sheet.append(line)
            if index < 2:
                for column in sheet[sheet.max_row]:
                    column.font = bold
    sheet.column_dimensions["A"].width = 50
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
