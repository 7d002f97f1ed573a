"""Demo data: one published indicator series for Avesta. The figures are invented.

Called from ``samverkan.demo.load`` as ``indicators_demo.load(avesta=avesta, editor=editor)``
with an agreement editor of Avesta; it goes through the services, so the demo's audit log shows
the creation and the import like a real one.
"""

from __future__ import annotations

from decimal import Decimal

from samverkan.accounts.models import User
from samverkan.indicators.models import Direction, Indicator
from samverkan.indicators.services import indicator_create, indicator_values_import
from samverkan.organisations.models import Municipality

# Semicolons and decimal commas, as Swedish Excel saves them.
_PROBLEM_INDEX_CSV = """\ufeffperiod;värde;anteckning
2016;2,6;
2017;2,8;
2018;2,9;Lägesbild inför medborgarlöftet 2019
2019;2,7;Medborgarlöftet undertecknat 2019-03-22
2020;2,4;
2021;2,3;
2022;2,4;
2023;2,1;
2024;1,9;
"""


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
    indicator_values_import(
        actor=editor, indicator=indicator, data=_PROBLEM_INDEX_CSV.encode("utf-8")
    )
    return indicator
