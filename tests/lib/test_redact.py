"""Exceptions told by type and place only, never by their message; identity numbers masked."""

from __future__ import annotations

import datetime as dt
import logging
import re
import sys

from hypothesis import given
from hypothesis import strategies as st
from stdnum import luhn

from samverkan.lib.personnummer import parse
from samverkan.lib.redact import (
    MaskIdentityNumbers,
    WithholdExceptionText,
    exception_summary,
    mask_identity_numbers,
    redacted_traceback,
    safe_return_path,
)

# Data reaches an exception at run time; the source lines (which the stack keeps) hold none.
NAME = "Anna Andersson"
NUMBER = "120315-1236"


def _raise_chained() -> BaseException:
    try:
        try:
            raise KeyError(NAME)
        except KeyError as first:
            raise ValueError(f"{NUMBER} is taken") from first
    except ValueError as exc:
        return exc


def test_traceback_keeps_the_stack_and_drops_every_message():
    text = redacted_traceback(_raise_chained())
    assert "Anna" not in text
    assert "120315" not in text
    assert "KeyError (message withheld)" in text
    assert "ValueError (message withheld)" in text
    assert "_raise_chained" in text
    assert text.index("KeyError") < text.index("ValueError")


def test_summary_names_type_and_place():
    summary = exception_summary(_raise_chained())
    assert summary.startswith("ValueError at ")
    assert "test_redact.py" in summary
    assert "_raise_chained" in summary


def test_the_logging_filter_replaces_the_traceback_with_the_summary():
    exc = _raise_chained()
    record = logging.LogRecord(
        "django_tasks", logging.ERROR, __file__, 1, "Task id=%s failed", ("abc",), None
    )
    record.exc_info = (type(exc), exc, exc.__traceback__)
    assert WithholdExceptionText().filter(record)
    assert record.exc_info is None
    message = record.getMessage()
    assert message.startswith("Task id=abc failed error=ValueError at ")
    assert "120315" not in logging.Formatter().format(record)


def test_records_without_an_exception_pass_unchanged():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "plain %s", ("text",), None)
    assert WithholdExceptionText().filter(record)
    assert record.getMessage() == "plain text"
    assert sys.exc_info() == (None, None, None)


# --- Identity numbers masked ------------------------------------------------------------------


@st.composite
def identity_numbers(draw: st.DrawFn) -> str:
    """A valid personnummer or samordningsnummer, as twelve digits."""
    born = draw(st.dates(min_value=dt.date(1890, 1, 1), max_value=dt.date(2025, 12, 31)))
    day = born.day + (60 if draw(st.booleans()) else 0)
    first_nine = f"{born:%y%m}{day:02d}{draw(st.integers(0, 999)):03d}"
    number = f"{born.year // 100}{first_nine}{luhn.calc_check_digit(first_nine)}"
    assert parse(number, today=dt.date(2026, 1, 1)).digits == number
    return number


def written(number: str, shape: str) -> str:
    """The twelve-digit ``number`` as people type it or as a URL carries it."""
    cc, yy, mm, dd, nn, nc = (number[i : i + 2] for i in range(0, 12, 2))
    return shape.format(cc=cc, yy=yy, mm=mm, dd=dd, nn=nn, nc=nc)


SHAPES = [
    "{cc}{yy}{mm}{dd}{nn}{nc}",
    "{yy}{mm}{dd}{nn}{nc}",
    "{cc}{yy}{mm}{dd}-{nn}{nc}",
    "{yy}{mm}{dd}-{nn}{nc}",
    "{yy}{mm}{dd}+{nn}{nc}",
    "{cc}{yy}{mm}{dd} {nn}{nc}",
    "{yy}{mm}{dd} - {nn}{nc}",
    "{cc}{yy}-{mm}-{dd}-{nn}{nc}",
    "{yy} {mm} {dd}-{nn} {nc}",
    "{cc}{yy}{mm}{dd}\u2013{nn}{nc}",
    "{yy}{mm}{dd}\u00a0{nn}{nc}",
    "{cc}{yy}{mm}{dd}%2D{nn}{nc}",
    "{cc}{yy}{mm}{dd}%2d{nn}{nc}",
    "{yy}{mm}{dd}%20{nn}{nc}",
    "{yy}{mm}{dd}%2B{nn}{nc}",
    "{cc}{yy}{mm}{dd}%252D{nn}{nc}",
    "{yy}{mm}{dd}%E2%80%93{nn}{nc}",
    "{cc}{yy}{mm}{dd}%C2%A0{nn}{nc}",
]
# What may stand right before or after a number in a URL or a log line.
DELIMITERS = ["/", "=", "?q=", "&pnr=", '"', "'", "(", ")", "[", "]", "<", ">", ",", ";", ":", "#"]


@given(
    number=identity_numbers(),
    shape=st.sampled_from(SHAPES),
    before=st.text(),
    left=st.sampled_from(DELIMITERS),
    right=st.sampled_from(DELIMITERS),
    after=st.text(),
)
def test_every_written_form_of_a_number_is_masked(number, shape, before, left, right, after):
    text = before + left + written(number, shape) + right + after
    masked = mask_identity_numbers(text)
    assert masked == (
        mask_identity_numbers(before) + left + "[pnr]" + right + mask_identity_numbers(after)
    )


@given(number=identity_numbers(), shape=st.sampled_from(SHAPES))
def test_a_number_standing_alone_or_glued_to_words_is_masked(number, shape):
    alone = written(number, shape)
    assert mask_identity_numbers(alone) == "[pnr]"
    assert mask_identity_numbers(f"pnr{alone}x") == "pnr[pnr]x"
    assert mask_identity_numbers(f"%3D{alone}%26") == "%3D[pnr]%26"


def test_a_time_of_day_before_a_number_leaves_no_part_of_it():
    assert mask_identity_numbers("08:15 20120315-1236") == "08:[pnr]"


@given(st.text())
def test_text_with_fewer_than_ten_digits_is_left_alone(text):
    if len(re.findall(r"\d", text)) < 10:
        assert mask_identity_numbers(text) == text


@given(
    request_id=st.uuids(),
    case_id=st.integers(min_value=0, max_value=999_999_999),
    year=st.integers(min_value=1000, max_value=9999),
    when=st.datetimes(),
    day=st.dates(),
)
def test_ordinary_ids_dates_and_times_are_left_alone(request_id, case_id, year, when, day):
    text = (
        f'request_id={request_id.hex} api_id={request_id} "GET /cases/{case_id}/" 200 5123 '
        f"12ms year={year} at {when} ({when.isoformat()}) on {day.isoformat()}"
    )
    assert mask_identity_numbers(text) == text


def test_a_return_path_never_holds_a_number():
    assert safe_return_path("/cases/12/") == "/cases/12/"
    assert safe_return_path("/cases/2024/plan/") == "/cases/2024/plan/"
    assert safe_return_path("/cases/20120315-1236/") == "/"
    assert safe_return_path("/cases/120315 1236/plan/") == "/"


def _record(msg: str, args: tuple[object, ...] | None) -> logging.LogRecord:
    return logging.LogRecord("samverkan.x", logging.ERROR, __file__, 1, msg, args, None)


def test_the_masking_filter_masks_the_rendered_message_and_the_exception():
    record = _record("search for %s from %s", ("120315-1236", "/cases/?q=201203151236"))
    try:
        int("20120315 1236")
    except ValueError:
        record.exc_info = sys.exc_info()
    assert MaskIdentityNumbers().filter(record)
    output = logging.Formatter("%(levelname)s %(message)s").format(record)
    assert output.startswith("ERROR search for [pnr] from /cases/?q=[pnr]\nTraceback")
    assert "ValueError: invalid literal for int() with base 10: '[pnr]'" in output
    assert "1236" not in output


def test_the_masking_filter_leaves_other_records_as_they_were():
    args = ("/cases/12/", 2024)
    record = _record("opened %s in %s", args)
    assert MaskIdentityNumbers().filter(record)
    assert record.msg == "opened %s in %s"
    assert record.args is args


def test_a_malformed_record_is_masked_without_raising():
    record = _record("two values %s %s for 120315-1236", ("one",))
    assert MaskIdentityNumbers().filter(record)
    assert record.getMessage() == "two values %s %s for [pnr] (arguments withheld)"
