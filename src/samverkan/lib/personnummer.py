"""Swedish personal identity numbers (personnummer) and coordination numbers (samordningsnummer).

Accepts 10 or 12 digits, with or without the separator; always yields the 12-digit form. The
check digit is verified with python-stdnum's Luhn implementation. The century of a 10-digit
number is the one that puts the birth date in the past, one century further back when the
separator is ``+`` (the person is 100 or older). A coordination number adds 60 to the day.

Error messages never repeat the number: they end up on screens and in logs.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext_lazy as _
from stdnum import luhn
from stdnum.exceptions import InvalidChecksum

_PATTERN = re.compile(r"^(\d{2})?(\d{6})([-+]?)(\d{4})$")


class IdentityNumberError(ValueError):
    def __init__(self, message: object) -> None:
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True)
class IdentityNumber:
    digits: str  # always twelve digits, YYYYMMDDNNNC
    birth_date: date
    is_coordination_number: bool

    def __str__(self) -> str:
        return f"{self.digits[:8]}-{self.digits[8:]}"

    @property
    def legal_sex(self) -> str:
        """'F' or 'M' from the second-to-last digit, as the register assigns it."""
        return "M" if int(self.digits[-2]) % 2 else "F"


def parse(raw: str, *, today: date) -> IdentityNumber:
    text = re.sub(r"\s", "", raw or "")
    match = _PATTERN.match(text)
    if match is None:
        raise IdentityNumberError(
            _("Write the number as 10 or 12 digits, for example YYMMDD-NNNN or YYYYMMDDNNNN.")
        )
    century, yymmdd, separator, tail = match.groups()
    day = int(yymmdd[4:6])
    coordination = day > 60
    real_day = day - 60 if coordination else day
    month = int(yymmdd[2:4])
    yy = int(yymmdd[0:2])
    try:
        if century is not None:
            born = date(int(century) * 100 + yy, month, real_day)
        else:
            year = (today.year // 100) * 100 + yy
            if _safe_date(year, month, real_day) is None:
                born = date(year - 100, month, real_day)
            else:
                born = date(year, month, real_day)
            if born > today:
                born = born.replace(year=born.year - 100)
            if separator == "+":
                born = born.replace(year=born.year - 100)
    except ValueError:
        raise IdentityNumberError(_("The date in the number does not exist.")) from None
    if born > today:
        raise IdentityNumberError(_("The date in the number lies in the future."))
    try:
        luhn.validate(yymmdd + tail)
    except InvalidChecksum:
        raise IdentityNumberError(
            _("The check digit does not match: the number has probably been mistyped.")
        ) from None
    digits = f"{born.year:04d}{yymmdd[2:]}{tail}"
    return IdentityNumber(digits=digits, birth_date=born, is_coordination_number=coordination)


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


# Twelve or ten digits, the date's parts and the last four possibly split by spaces or dashes
# (ÅÅÅÅ-MM-DD-NNNN, ÅÅ MM DD-NN NN). Phone numbers of that shape are caught too; they identify
# a family just as well.
_NUMBER_IN_TEXT = re.compile(
    r"(?<!\d)(?:\d{2}[ -]?)?\d{2}[ -]?\d{2}[ -]?\d{2}\s?[-+]?\s?\d{2}[ -]?\d{2}(?!\d)"
)


def normalise(text: str) -> str:
    """Compatibility forms folded, every kind of dash made '-', every space made ' '."""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(
        "-" if unicodedata.category(ch) == "Pd" or ch == "\u2212" else " " if ch.isspace() else ch
        for ch in folded
    )


def looks_like_identity_number(text: str) -> bool:
    """Whether free text holds something shaped like an identity number, however written."""
    return bool(_NUMBER_IN_TEXT.search(normalise(text)))
