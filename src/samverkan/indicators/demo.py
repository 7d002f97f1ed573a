"""Demo data: two published indicator series for Avesta. The figures are invented.

Called from ``samverkan.demo.load`` as ``indicators_demo.load(avesta=avesta, editor=editor)``
(the police's problem index, followed by the successor agreement) and
``indicators_demo.load_drug_survey(...)`` (the pupils' drug-use survey, followed by the drug-use
promise) with an agreement editor of Avesta; they go through the services, so the demo's audit
log shows the creation and the import like a real one.

The years are relative to today (issue 19): the promise is dated ``STORY_YEARS_BACK`` years
back, as ``promises.demo`` dates it, so the series and the promise stay in step in any year.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from samverkan.accounts.models import User
from samverkan.indicators.models import Direction, Indicator
from samverkan.indicators.services import indicator_create, indicator_values_import
from samverkan.organisations.models import Municipality

# The promise was signed this many years before the current year: 2019, the article's year, when
# the demo is loaded in 2026 (``promises.demo`` uses the same number).
STORY_YEARS_BACK = 7


def promise_year() -> int:
    """The year the demo's promise was signed, relative to today."""
    return timezone.localdate().year - STORY_YEARS_BACK


def _csv(rows: list[tuple[int, str, str]]) -> bytes:
    """Semicolons and decimal commas, as Swedish Excel saves them."""
    lines = ["\ufeffperiod;värde;anteckning", *(f"{y};{v};{note}" for y, v, note in rows)]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _problem_index_csv() -> bytes:
    signed = promise_year()
    values = ["2,6", "2,8", "2,9", "2,7", "2,4", "2,3", "2,4", "2,1", "1,9"]
    notes = {
        signed - 1: f"Lägesbild inför medborgarlöftet {signed}",
        signed: f"Medborgarlöftet undertecknat {signed}-03-22",
    }
    first = signed - 3
    return _csv([(first + i, v, notes.get(first + i, "")) for i, v in enumerate(values)])


def load(*, avesta: Municipality, editor: User) -> Indicator:
    """Create the series and its values; return it so promise commitments can link to it."""
    indicator = indicator_create(
        actor=editor,
        municipality=avesta,
        name="Problemindex: narkotikaförsäljning",
        area="Avesta centrum",
        unit="index 0–6",
        source="Polisens trygghetsmätning (fiktiva siffror)",
        direction=Direction.LOWER_IS_BETTER,
        min_value=Decimal(0),
        max_value=Decimal(6),
        description=(
            "FIKTIVA DEMOVÄRDEN – inte polisens verkliga resultat. Visar hur svaranden i "
            "trygghetsmätningen bedömer problemet med narkotikaförsäljning i området, som index "
            "0–6 där lägre är bättre. (Illustrative demo figures, not real survey results.)"
        ),
        published=True,
    )
    indicator_values_import(actor=editor, indicator=indicator, data=_problem_index_csv())
    return indicator


def _drug_survey_csv() -> bytes:
    # Rising before the promise (the article: drug use among the young had risen), then falling.
    signed = promise_year()
    values = ["5,0", "5,6", "6,3", "7,1", "6,8", "6,2", "5,9", "5,5", "5,1", "4,8"]
    notes = {
        signed: "Ökningen ligger bakom medborgarlöftet",
        signed + 1: "Samverkansgruppen (SSPF) startar",
    }
    first = signed - 3
    return _csv([(first + i, v, notes.get(first + i, "")) for i, v in enumerate(values)])


def load_drug_survey(*, avesta: Municipality, editor: User) -> Indicator:
    """The drug-use promise's indicator: the share of pupils in year 9 who say they have ever
    used narcotics, from a yearly school survey in the style of CAN's drogvaneundersökning.
    Every value is invented; the series ends last year (the survey is done in the spring)."""
    indicator = indicator_create(
        actor=editor,
        municipality=avesta,
        name="Elever i årskurs 9 som någon gång använt narkotika",
        area="Avesta kommun",
        unit="procent",
        source="Drogvaneundersökning i årskurs 9, CAN-liknande enkät (fiktiva siffror)",
        direction=Direction.LOWER_IS_BETTER,
        min_value=Decimal(0),
        max_value=Decimal(100),
        description=(
            "FIKTIVA DEMOVÄRDEN – inte en verklig drogvaneundersökning. Andel elever i årskurs 9 "
            "som i skolans årliga enkät uppger att de någon gång använt narkotika, i procent; "
            "lägre är bättre. (Illustrative demo figures: a pupils' drug-use survey in the "
            "style of CAN's, not real results.)"
        ),
        published=True,
    )
    indicator_values_import(actor=editor, indicator=indicator, data=_drug_survey_csv())
    return indicator
