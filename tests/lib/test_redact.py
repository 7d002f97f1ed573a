"""Exceptions told by type and place only, never by their message."""

from __future__ import annotations

import logging
import sys

from samverkan.lib.redact import (
    WithholdExceptionText,
    exception_summary,
    redacted_traceback,
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
