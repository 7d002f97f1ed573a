"""Exceptions told without their messages, identity numbers masked, for logs and stored results.

An exception's message can quote the data that caused it: a validation error naming a value, a
PostgreSQL integrity error with the key in its DETAIL line. Logs must never hold personal data
(DESIGN rule 10), so background work reports an error by its type and where it was raised.
The stack (files, lines, functions, source lines) is code, not data, and stays for debugging.
Every log line, whatever logged it, has identity numbers masked (``MaskIdentityNumbers``), and a
path echoed back as ``next`` never repeats one (``safe_return_path``).

This module is imported by the logging configuration, before Django's apps are ready: it must
not import models.
"""

from __future__ import annotations

import logging
import re
import traceback

from django.urls import get_script_prefix


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


# --- Identity numbers in log lines and echoed paths ---------------------------------------------

IDENTITY_NUMBER_MASK = "[pnr]"

_PERCENT = r"%(?:25)*"  # a percent sign, however many times the URL was encoded
# One separator between two groups of digits, as people type it (space, dash, plus, any dash
# or space of Unicode) or as a URL carries it (%20, %2D, %2B, %09, a no-break space or an en
# dash percent-encoded as UTF-8).
_SEPARATOR = (
    r"(?:[\s\-+\u2010-\u2015\u2212\ufe63\uff0d]"
    rf"|{_PERCENT}(?:2[0BbDd]|09|[Cc]2{_PERCENT}[Aa]0|[Ee]2{_PERCENT}80{_PERCENT}9[0-5]"
    rf"|[Ee]2{_PERCENT}88{_PERCENT}92))"
)
_GAP = rf"{_SEPARATOR}{{0,3}}"
# Ten or twelve digits in pairs (century, year, month, day, serial, check), each pair possibly
# set off by a few separators: 201203151236, 120315-1236, 120315+1236, 20120315 1236,
# 2012-03-15-1236, 12 03 15-12 36, 20120315%2D1236. Deliberately wider than a valid number:
# a phone number or a Unix time masked in a log costs nothing, a number let through is a leak.
# A run starts neither next to a digit nor inside a percent escape, but may follow one (%3D).
# The lookahead finds overlapping runs too: in "08:15 120315-1236" the run from "15" must not
# hide the one from "12", or "-1236" would be left over.
_IDENTITY_NUMBERS = re.compile(
    r"(?=((?<!%)(?<!%[0-9A-Fa-f])(?:(?<=%[0-9A-Fa-f]{2})|(?<!\d))"
    rf"\d{{2}}(?:{_GAP}\d{{2}}){{4,5}}(?!\d)))"
)
# Text that may hold ten or twelve digits in pairs by chance and is no one's number: UUIDs
# (request ids, API ids), long letter-and-digit tokens (hashes, keys) and a date with a time of
# day (2026-03-14 10:30).
_NOT_A_NUMBER = re.compile(
    r"(?<![0-9A-Za-z])"
    r"(?:[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
    r"|(?=[0-9A-Za-z]*[A-Za-z])[0-9A-Za-z]{24,}"
    r"|\d{4}-\d{2}-\d{2}[ T](?:[01]\d|2[0-3]):[0-5]\d)"
    r"(?![0-9A-Za-z])"
)


def mask_identity_numbers(text: str) -> str:
    """The text with every identity-number-shaped run replaced by ``[pnr]``."""
    if len(text) < 10:
        return text
    runs = [match.span(1) for match in _IDENTITY_NUMBERS.finditer(text)]
    if not runs:
        return text
    spared = [match.span() for match in _NOT_A_NUMBER.finditer(text)]
    parts: list[str] = []
    done = 0  # everything before this index is in parts
    for start, end in runs:
        if any(left <= start and end <= right for left, right in spared):
            continue
        if start >= done:
            parts.append(text[done:start])
            parts.append(IDENTITY_NUMBER_MASK)
        done = max(done, end)
    parts.append(text[done:])
    return "".join(parts)


def holds_identity_number(text: str) -> bool:
    return mask_identity_numbers(text) != text


def safe_return_path(path: str) -> str:
    """A path to come back to (``next``) that repeats no identity number.

    Callers pass the path without its query string, which may carry search terms. A path with a
    number-shaped segment cannot be kept masked (it would not resolve), so it becomes the site's
    root.
    """
    if holds_identity_number(path):
        return get_script_prefix()
    return path


class MaskIdentityNumbers(logging.Filter):
    """A logging filter: identity numbers in a record's message and exception become ``[pnr]``.

    Installed on every handler (settings.LOGGING) and on gunicorn's loggers (``samverkan
    serve``), so that a number typed into a URL or quoted by an exception reaches no log line.
    The record is changed in place: every handler after this one sees the masked text too.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            message = f"{record.msg} (arguments withheld)"
            record.msg, record.args = message, None
        masked = mask_identity_numbers(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            masked = mask_identity_numbers(record.exc_text)
            if masked != record.exc_text:
                # Formatters print exc_text when there is no exc_info left to format afresh.
                record.exc_text, record.exc_info = masked, None
        if record.stack_info:
            record.stack_info = mask_identity_numbers(record.stack_info)
        return True
