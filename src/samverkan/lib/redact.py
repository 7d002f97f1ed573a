"""Exceptions told without their messages, for logs and stored task results.

An exception's message can quote the data that caused it: a validation error naming a value, a
PostgreSQL integrity error with the key in its DETAIL line. Logs must never hold personal data
(DESIGN rule 10), so background work reports an error by its type and where it was raised.
The stack (files, lines, functions, source lines) is code, not data, and stays for debugging.

This module is imported by the logging configuration, before Django's apps are ready: it must
not import models.
"""

from __future__ import annotations

import logging
import traceback


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and those it was raised from or during, oldest first."""
    chain: list[BaseException] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    return list(reversed(chain))


def exception_type(exc: BaseException) -> str:
    kind = type(exc)
    module = kind.__module__
    return kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"


def exception_summary(exc: BaseException) -> str:
    """One line: the type and the innermost frame, e.g. ``ValueError at a/b.py:12 in f``."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return exception_type(exc)
    last = frames[-1]
    return f"{exception_type(exc)} at {last.filename}:{last.lineno} in {last.name}"


def redacted_traceback(exc: BaseException) -> str:
    """A traceback in the usual shape whose exception lines name the type only."""
    parts: list[str] = []
    for index, item in enumerate(_chain(exc)):
        if index:
            parts.append("\nThe above exception led to the following one:\n\n")
        parts.append("Traceback (most recent call last):\n")
        parts.extend(traceback.format_list(traceback.extract_tb(item.__traceback__)))
        parts.append(f"{exception_type(item)} (message withheld)\n")
    return "".join(parts)


class WithholdExceptionText(logging.Filter):
    """A logging filter: a record's exception becomes a one-line summary without its message.

    Used on the background-task loggers, whose failure records would otherwise carry the full
    traceback with the exception's message (settings.LOGGING).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            summary = exception_summary(record.exc_info[1])
            record.msg = f"{record.getMessage()} error={summary}"
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return True
