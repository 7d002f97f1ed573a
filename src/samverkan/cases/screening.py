"""Screening of free text in cases whose identity is not shared (DESIGN rule 6, issue 3 §9).

Text that every team member may read must not name the youth: it is refused when it holds
something shaped like an identity number, or the youth's or a guardian's name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from samverkan.lib.personnummer import IDENTITY_NUMBER_IN_TEXT

# Name parts shorter than this are too likely to be ordinary words ("Bo", "Li").
MIN_NAME_PART = 3


def name_parts(names: Iterable[str]) -> set[str]:
    parts: set[str] = set()
    for name in names:
        for part in re.split(r"[\s\-]+", name):
            if len(part) >= MIN_NAME_PART:
                parts.add(part.casefold())
    return parts


def screen(text: str, *, names: Iterable[str], field: str | None = None) -> None:
    """Raise ``ValidationError`` when ``text`` would reveal who the youth is."""
    problems: list[str] = []
    if IDENTITY_NUMBER_IN_TEXT.search(text):
        problems.append(
            _(
                "The text contains something that looks like an identity number. Remove it: in "
                "this case the youth is known to the team only by pseudonym."
            )
        )
    words = {w.casefold() for w in re.findall(r"\w+", text)}
    if words & name_parts(names):
        problems.append(
            _(
                "The text contains the name of the youth or a guardian. Use the pseudonym "
                "instead: in this case the youth is known to the team only by pseudonym."
            )
        )
    if problems:
        raise ValidationError({field: problems} if field else problems)
