"""Screening of free text that agencies other than the writer's will read (DESIGN rule 6,
issue 3 §9).

Text that the whole team or the whole group reads must not name the youth: it is refused when
it holds something shaped like an identity number, or the youth's or a guardian's name. A
writer who knows the youth only by pseudonym gets one message for both causes, so that the
refusal cannot be used to test guesses at the youth's name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from samverkan.lib.personnummer import looks_like_identity_number, normalise

# Name parts shorter than this are too likely to be ordinary words ("Bo", "Li").
MIN_NAME_PART = 3


def name_parts(names: Iterable[str]) -> set[str]:
    parts: set[str] = set()
    for name in names:
        for part in re.split(r"[\s\-]+", normalise(name)):
            if len(part) >= MIN_NAME_PART:
                parts.add(part.casefold())
    return parts


def screen(text: str, *, names: Iterable[str], field: str | None = None, specific: bool) -> None:
    """Raise ``ValidationError`` when ``text`` would reveal who the youth is.

    ``specific`` says why (a number, a name); give it only to a writer who knows the youth's
    identity anyway.
    """
    has_number = looks_like_identity_number(text)
    words = {w.casefold() for w in re.findall(r"\w+", normalise(text))}
    has_name = bool(words & name_parts(names))
    if not (has_number or has_name):
        return
    problems: list[str] = []
    if not specific:
        problems.append(
            _(
                "The text may identify the youth (a name or an identity number). Remove it: in "
                "this case the youth is known to the team only by pseudonym."
            )
        )
    else:
        if has_number:
            problems.append(
                _(
                    "The text contains something that looks like an identity number. Remove it: "
                    "in this case the youth is known to the team only by pseudonym."
                )
            )
        if has_name:
            problems.append(
                _(
                    "The text contains the name of the youth or a guardian. Use the pseudonym "
                    "instead: in this case the youth is known to the team only by pseudonym."
                )
            )
    raise ValidationError({field: problems} if field else problems)
