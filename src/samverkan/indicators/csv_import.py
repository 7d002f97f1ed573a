"""Reading indicator values from a CSV file, checking every row before anything is stored.

Accepted: UTF-8 with or without a byte-order mark; ``,``, ``;`` (what Swedish Excel writes) or
tab between cells; a header row naming ``period`` and ``value`` (or ``värde``) and optionally
``note`` (or ``anteckning``); a decimal comma or point. Rows are numbered as a spreadsheet shows
them, the header being row 1, so that a user can find each reported row in Excel.

Parsing is pure (no database): the service adds the checks that need stored values.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

MAX_BYTES = 1024 * 1024
MAX_ROWS = 2000
MAX_NOTE = 500
# Mirrors IndicatorValue.value (max_digits=14, decimal_places=4).
MAX_DECIMALS = 4
MAX_INTEGER_DIGITS = 10

_HEADERS = {
    "period": "period",
    "value": "value",
    "värde": "value",
    "varde": "value",
    "note": "note",
    "anteckning": "note",
    "kommentar": "note",
}

_YEAR = re.compile(r"^(\d{4})$")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_DAY = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
# School terms as the pupils' surveys name them: VT (spring term), HT (autumn term).
_TERM = re.compile(r"^(VT|HT)\s*-?\s*(\d{4})$", re.IGNORECASE)
# Quarters: "2021 Q3", "2021 K3", "2021 kv 3", "2021-Q3".
_QUARTER = re.compile(r"^(\d{4})\s*-?\s*(Q|K|KV\.?)\s*([1-4])$", re.IGNORECASE)
_FIRST_YEAR, _LAST_YEAR = 1900, 2100


@dataclass(frozen=True)
class RowError:
    row: int | None  # None: the whole file
    message: str

    def __str__(self) -> str:
        if self.row is None:
            return self.message
        return _("Row %(row)d: %(message)s") % {"row": self.row, "message": self.message}


@dataclass(frozen=True)
class ParsedRow:
    row: int
    period_start: date
    period_label: str
    value: Decimal
    note: str


@dataclass
class ParsedFile:
    rows: list[ParsedRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


class PeriodError(ValueError):
    pass


def parse_period(raw: str) -> tuple[date, str]:
    """The period's first day and its label, from "2019", "2019-03", "2019-03-01", "VT 2021",
    "HT 2021" or "2021 Q3"."""
    text = " ".join(raw.split())
    try:
        if m := _YEAR.match(text):
            start = date(int(m[1]), 1, 1)
        elif m := _MONTH.match(text):
            start = date(int(m[1]), int(m[2]), 1)
            text = f"{start:%Y-%m}"
        elif m := _DAY.match(text):
            start = date(int(m[1]), int(m[2]), int(m[3]))
            text = start.isoformat()
        elif m := _TERM.match(text):
            term = m[1].upper()
            start = date(int(m[2]), 1 if term == "VT" else 8, 1)
            text = f"{term} {m[2]}"
        elif m := _QUARTER.match(text):
            quarter = int(m[3])
            start = date(int(m[1]), 3 * quarter - 2, 1)
            text = f"{m[1]} Q{quarter}"
        else:
            raise PeriodError(text)
    except ValueError:  # also date() refusing month 13 or 30 February
        raise PeriodError(text) from None
    if not _FIRST_YEAR <= start.year <= _LAST_YEAR:
        raise PeriodError(text)
    return start, text


class NumberError(ValueError):
    pass


def parse_number(raw: str) -> Decimal:
    """A decimal from "2,5", "2.5", "1 234,5" or "−0,3"; a comma is always a decimal comma,
    as in Swedish, so "1,234" is 1.234 and a number with both a comma and a point is refused
    rather than guessed."""
    text = "".join(raw.split()).replace("\u2212", "-")
    if "," in text and "." in text:
        raise NumberError(raw)
    text = text.replace(",", ".")
    if not re.fullmatch(r"[-+]?(\d+(\.\d*)?|\.\d+)", text):
        raise NumberError(raw)
    try:
        return Decimal(text)
    except InvalidOperation:
        raise NumberError(raw) from None


def _decode(data: bytes) -> str:
    # utf-8-sig drops the byte-order mark Excel puts first in "CSV UTF-8" files.
    return data.decode("utf-8-sig")


def _delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (";", "\t", ",")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _text_of(data: bytes, errors: list[RowError]) -> str | None:
    """The file as text, or None with the reason in ``errors``."""
    if len(data) > MAX_BYTES:
        errors.append(
            RowError(None, _("The file is larger than %(size)d kB.") % {"size": MAX_BYTES // 1024})
        )
        return None
    try:
        text = _decode(data)
    except UnicodeDecodeError:
        errors.append(
            RowError(
                None,
                _(
                    "The file is not UTF-8 text. In Excel, save it as “CSV UTF-8 (comma "
                    "delimited)”."
                ),
            )
        )
        return None
    if "\x00" in text:
        errors.append(RowError(None, _("The file is not a text file.")))
        return None
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        errors.append(RowError(None, _("The file is empty: it needs a header row.")))
        return None
    return text


def _columns(header: list[str], errors: list[RowError]) -> dict[str, int]:
    """Where each known column is; what is wrong with the header goes to ``errors``."""
    columns: dict[str, int] = {}
    for index, name in enumerate(header):
        key = _HEADERS.get(name.strip().lower())
        if key is None:
            if name.strip():
                errors.append(
                    RowError(
                        1,
                        _(
                            "Unknown column “%(name)s”. The columns are period, value and "
                            "(optionally) note."
                        )
                        % {"name": name.strip()},
                    )
                )
            continue
        if key in columns:
            errors.append(RowError(1, _("Column “%(name)s” appears twice.") % {"name": key}))
            continue
        columns[key] = index
    for required in ("period", "value"):
        if required not in columns:
            errors.append(
                RowError(1, _("The header row has no “%(name)s” column.") % {"name": required})
            )
    return columns


def parse_values_csv(
    data: bytes, *, min_value: Decimal | None = None, max_value: Decimal | None = None
) -> ParsedFile:
    """Every row checked; ``errors`` names each bad row. Rows are usable only without errors."""
    result = ParsedFile()
    errors = result.errors
    text = _text_of(data, errors)
    if text is None:
        return result
    delimiter = _delimiter(text.splitlines()[0])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except csv.Error:
        errors.append(RowError(1, _("The header row cannot be read.")))
        return result
    columns = _columns(header, errors)
    if errors:
        return result
    _read_rows(reader, header, columns, result, min_value=min_value, max_value=max_value)
    if not errors and not result.rows:
        errors.append(RowError(None, _("The file has a header row but no values.")))
    return result


def _read_rows(
    reader: Iterator[list[str]],
    header: list[str],
    columns: dict[str, int],
    result: ParsedFile,
    *,
    min_value: Decimal | None,
    max_value: Decimal | None,
) -> None:
    """Check each data row; the good ones go to ``result.rows``, the faults to its errors."""
    errors = result.errors
    seen: dict[date, int] = {}
    data_rows = 0
    row_number = 1
    while True:
        row_number += 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error:
            errors.append(RowError(row_number, _("The row cannot be read (check the quotes).")))
            continue
        if not any(cell.strip() for cell in cells):
            continue  # Excel leaves empty rows such as ";;" at the end; they carry nothing
        data_rows += 1
        if data_rows > MAX_ROWS:
            errors.append(
                RowError(None, _("The file has more than %(max)d rows.") % {"max": MAX_ROWS})
            )
            break
        row_errors: list[str] = []
        if len(cells) > len(header) and any(c.strip() for c in cells[len(header) :]):
            row_errors.append(_("the row has more cells than the header has columns"))

        def cell(name: str, cells: list[str] = cells) -> str:
            index = columns.get(name)
            return cells[index].strip() if index is not None and index < len(cells) else ""

        raw_period, raw_value, note = cell("period"), cell("value"), cell("note")
        period = _row_period(raw_period, row_errors, seen, row_number)
        value = _row_value(raw_value, row_errors, min_value=min_value, max_value=max_value)
        if len(note) > MAX_NOTE:
            row_errors.append(_("the note is longer than %(max)d characters") % {"max": MAX_NOTE})
        for message in row_errors:
            errors.append(RowError(row_number, message))
        if not row_errors and period is not None and value is not None:
            result.rows.append(ParsedRow(row_number, period[0], period[1], value, note))


def _row_period(
    raw_period: str, row_errors: list[str], seen: dict[date, int], row_number: int
) -> tuple[date, str] | None:
    """The row's period, or None; a period given on an earlier row is a fault too."""
    period: tuple[date, str] | None = None
    if not raw_period:
        row_errors.append(_("the period is missing"))
    else:
        try:
            period = parse_period(raw_period)
        except PeriodError:
            row_errors.append(
                _(
                    "“%(period)s” is not a period (write e.g. 2019, 2019-03, 2019-03-01, "
                    "VT 2021, HT 2021 or 2021 Q3)"
                )
                % {"period": raw_period}
            )
    if period is not None:
        earlier = seen.get(period[0])
        if earlier is not None:
            row_errors.append(
                _("period %(period)s is already given on row %(row)d")
                % {"period": period[1], "row": earlier}
            )
        else:
            seen[period[0]] = row_number
    return period


def _row_value(
    raw_value: str,
    row_errors: list[str],
    *,
    min_value: Decimal | None,
    max_value: Decimal | None,
) -> Decimal | None:
    """The row's value, or None. A value that does not fit the column or the bounds is a fault
    and is still returned: the row is refused by its faults."""
    value: Decimal | None = None
    if not raw_value:
        row_errors.append(_("the value is missing"))
    else:
        try:
            value = parse_number(raw_value)
        except NumberError:
            row_errors.append(_("“%(value)s” is not a number") % {"value": raw_value})
    if value is not None:
        exponent = value.as_tuple().exponent
        decimals = -exponent if isinstance(exponent, int) and exponent < 0 else 0
        if decimals > MAX_DECIMALS:
            row_errors.append(_("the value has more than %(max)d decimals") % {"max": MAX_DECIMALS})
        elif abs(value) >= Decimal(10) ** MAX_INTEGER_DIGITS:
            row_errors.append(_("the value is too large"))
        elif min_value is not None and value < min_value:
            row_errors.append(
                _("the value %(value)s is below the lowest possible value %(min)s")
                % {"value": raw_value, "min": _plain(min_value)}
            )
        elif max_value is not None and value > max_value:
            row_errors.append(
                _("the value %(value)s is above the highest possible value %(max)s")
                % {"value": raw_value, "max": _plain(max_value)}
            )
    return value


def _plain(number: Decimal) -> str:
    """A declared bound without trailing zeros: 6, not 6.0000."""
    return format(number.normalize(), "f")
