"""The acceptance property of issue 6: for random data sets, no table on the dashboard, in an
export or in the API shows a count from 1 to threshold − 1, and no suppressed figure equals a
shown total minus the other shown figures of its row or column. Across tables: a figure shown
by two tables (the number of cases raised, the number per gender) is shown alike in both or
withheld in both, so that one table never gives away what another withholds.

The facts are built directly (bulk_create), the four outputs are fetched as a council member
sees them, and each is read back with its own parser (HTML, CSV, XLSX through openpyxl, JSON).
The checker below knows nothing of the disclosure engine: it looks only at what is shown, and
compares every shown count with the truth computed here from the generated rows.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

import pytest
from django.test import override_settings
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook  # type: ignore[import-untyped]

from samverkan.organisations.models import Municipality
from samverkan.stats.models import CaseFact, InterventionFact
from samverkan.stats.tables import SUPPRESSED_MARK
from tests.stats.stats_data import fact, this_month, this_year
from tests.stats.test_dashboard import bearer

pytestmark = pytest.mark.django_db

SECTORS = ("school", "social_services", "police", "leisure", "other")
GENDERS = ("F", "M", "X", "")
AGES = ("under_13", "13_15", "16_17", "18_plus")
REASONS = ("goals_met", "consent_declined", "moved", "other_support", "no_longer_needed", "other")
KINDS = ("school_support", "family_support", "leisure_activity", "concern_talk", "other")

Value = int | float | None


@dataclass
class Shown:
    """One table as an output shows it: the rows, the total row last if there is one."""

    kind: str
    row_totals: bool
    column_totals: bool
    rows: list[list[Value]]


# --- Generated data ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    sector: int
    age: int
    gender: int
    reason: int | None  # None: open
    consent: bool
    withdrawn: bool
    concern: bool
    goals: int
    achieved: int
    interventions: tuple[tuple[int, int], ...]


# Skewed towards few categories, so that small counts and their complements are common.
small_index = st.integers(0, 4).map(lambda i: min(i, 2) if i < 4 else i)
spec = st.builds(
    Spec,
    sector=small_index,
    age=st.integers(0, 3),
    gender=st.integers(0, 3),
    reason=st.none() | st.integers(0, 5),
    consent=st.booleans(),
    withdrawn=st.booleans(),
    concern=st.booleans(),
    goals=st.integers(0, 3),
    achieved=st.integers(0, 3),
    interventions=st.lists(st.tuples(st.integers(0, 4), small_index), max_size=2).map(tuple),
)


def build(municipality: Municipality, specs: list[Spec], agency_id: int) -> None:
    CaseFact.objects.all().delete()
    facts = CaseFact.objects.bulk_create(
        fact(
            municipality,
            raising_sector=SECTORS[s.sector],
            age_band=AGES[s.age],
            gender=GENDERS[s.gender],
            closed_month=this_month() if s.reason is not None else None,
            closure_reason=REASONS[s.reason] if s.reason is not None else "",
            consents_obtained=1 if s.consent else 0,
            consents_withdrawn=1 if s.consent and s.withdrawn else 0,
            consent_declined=s.reason == REASONS.index("consent_declined"),
            concern_reports=1 if s.concern else 0,
            goals=s.goals,
            goals_achieved=min(s.goals, s.achieved),
        )
        for s in specs
    )
    InterventionFact.objects.bulk_create(
        InterventionFact(fact=f, kind=KINDS[k], sector=SECTORS[sector], agency_id=agency_id)
        for f, s in zip(facts, specs, strict=True)
        for k, sector in s.interventions
    )


def truth(specs: list[Spec]) -> dict[str, list[list[int]]]:
    """The true body cells of the count tables, computed independently of the application.

    Every cell counts cases: a case with two interventions of one type and sector counts once
    in that cell, and goals are counted as the cases whose plan's goals were all, partly or
    not achieved."""
    sector_gender = [[0] * 4 for _ in SECTORS]
    age_gender = [[0] * 4 for _ in AGES]
    interventions = [[0] * 5 for _ in KINDS]
    closure: dict[int, int] = defaultdict(int)
    for s in specs:
        sector_gender[s.sector][s.gender] += 1
        age_gender[s.age][s.gender] += 1
        if s.reason is not None:
            closure[s.reason] += 1
        for k, sector in set(s.interventions):
            interventions[k][sector] += 1
    still_open = sum(1 for s in specs if s.reason is None)
    with_goals = [(s.goals, min(s.goals, s.achieved)) for s in specs if s.goals]
    return {
        "raised-sector-gender": sector_gender,
        "raised-age-gender": age_gender,
        "outcomes": [[still_open], *([closure[i]] for i in range(len(REASONS)))],
        "consents": [
            [sum(1 for s in specs if s.consent)],
            [sum(1 for s in specs if s.consent and s.withdrawn)],
            [0],
        ],
        "goals": [
            [sum(1 for goals, achieved in with_goals if achieved == goals)],
            [sum(1 for goals, achieved in with_goals if 0 < achieved < goals)],
            [sum(1 for _, achieved in with_goals if achieved == 0)],
        ],
        "concern": [[sum(1 for s in specs if s.concern)]],
        "interventions": interventions,
    }


# Figures that more than one table shows: (table, row, column), negative indices from the end.
SHARED: list[list[tuple[str, int, int]]] = [
    [("raised-sector-gender", -1, -1), ("raised-age-gender", -1, -1), ("outcomes", -1, 0)],
    *(
        [("raised-sector-gender", -1, gender), ("raised-age-gender", -1, gender)]
        for gender in range(len(GENDERS))
    ),
]
CASE_TABLES = (
    "raised-sector-gender",
    "raised-age-gender",
    "outcomes",
    "consents",
    "medians",
    "interventions",
    "goals",
    "concern",
    "shares",
)


def cross_table_problems(source: str, tables: dict[str, Shown]) -> list[str]:
    """A figure shown by several tables must be shown alike in all or withheld in all."""
    found: list[str] = []
    for group in SHARED:
        if not all(key in tables for key, _, _ in group):
            continue
        values = [tables[key].rows[r][c] for key, r, c in group]
        if any(v is None for v in values) and any(v is not None for v in values):
            found.append(f"{source}: {group} shows {values}: withheld in one, shown in another")
        elif len(set(values)) > 1:
            found.append(f"{source}: {group} shows different values {values}")
    return found


def with_margins(cells: list[list[int]], row_totals: bool, column_totals: bool) -> list[list[int]]:
    rows = [[*row, sum(row)] if row_totals else list(row) for row in cells]
    if column_totals:
        rows.append([sum(column) for column in zip(*rows, strict=True)])
    return rows


# --- The independent checker ----------------------------------------------------------------


def violations(name: str, table: Shown, threshold: int) -> list[str]:
    if table.kind != "count":
        return []
    found: list[str] = []
    for r, row in enumerate(table.rows):
        for c, value in enumerate(row):
            if value is not None and 0 < value < threshold:
                found.append(f"{name}: small count {value} shown at ({r}, {c})")
    # A line with a total shown or hidden is an equation: one unknown in it is no secret.
    lines: list[list[Value]] = []
    if table.row_totals:
        lines += table.rows
    if table.column_totals and table.rows:
        lines += [list(column) for column in zip(*table.rows, strict=True)]
    for index, line in enumerate(lines):
        if sum(1 for v in line if v is None) == 1:
            found.append(f"{name}: line {index} has exactly one suppressed figure: {line}")
    return found


def check(source: str, tables: dict[str, Shown], specs: list[Spec], threshold: int) -> None:
    problems: list[str] = []
    if len(specs) < threshold:
        # Fewer cases than the threshold: no case table at all, not a page of dashes.
        assert not set(CASE_TABLES) & set(tables), f"{source}: case tables for {len(specs)} cases"
        assert "meetings" in tables
        return
    assert set(CASE_TABLES) <= set(tables), source
    for key, table in tables.items():
        problems += violations(f"{source} {key}", table, threshold)
    problems += cross_table_problems(source, tables)
    for key, cells in truth(specs).items():
        table = tables[key]
        expected = with_margins(cells, table.row_totals, table.column_totals)
        for r, row in enumerate(table.rows):
            for c, value in enumerate(row):
                if value is not None and value != expected[r][c]:
                    wrong = f"({r}, {c}) shows {value}, not {expected[r][c]}"
                    problems.append(f"{source} {key}: {wrong}")
    shares, outcomes = tables["shares"].rows, tables["outcomes"].rows
    # A share is shown only of figures shown themselves: consents obtained of the cases
    # raised; the cases closed (raised − still open) of the cases raised.
    needs = ([("consents", 0)], [("outcomes", 0)])
    for share_row, parts in enumerate(needs):
        for key, r in [*parts, ("outcomes", len(outcomes) - 1)]:
            if shares[share_row][0] is not None and tables[key].rows[r][0] is None:
                problems.append(f"{source}: a share of the withheld {key} row {r} is shown")
    assert not problems, "\n".join(problems)


# --- Parsers ----------------------------------------------------------------------------------


class DashboardParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, Shown] = {}
        self.current: Shown | None = None
        self.row: list[Value] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table" and a.get("data-stats-table"):
            self.current = Shown(
                kind=a["data-kind"] or "",
                row_totals=a["data-row-totals"] == "1",
                column_totals=a["data-column-totals"] == "1",
                rows=[],
            )
            self.tables[a["data-stats-table"] or ""] = self.current
        elif tag == "tr" and self.current is not None:
            self.row = []
        elif tag == "td" and self.row is not None:
            if "data-suppressed" in a:
                self.row.append(None)
            elif "data-value" in a:
                self.row.append(number(a["data-value"] or ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr" and self.current is not None and self.row:
            self.current.rows.append(self.row)
            self.row = None
        elif tag == "table":
            self.current = None


def number(text: str) -> Value:
    if text == SUPPRESSED_MARK:
        return None
    value = float(text)
    return int(value) if value.is_integer() else value


def from_api(payload: dict[str, Any]) -> tuple[dict[str, Shown], list[str]]:
    tables: dict[str, Shown] = {}
    for t in payload["tables"] + payload["context_tables"]:
        rows = []
        for row in t["rows"]:
            assert [v is None for v in row["values"]] == row["suppressed"]
            rows.append(row["values"])
        tables[t["key"]] = Shown(t["kind"], t["has_row_totals"], t["has_column_totals"], rows)
    return tables, list(tables)


def blocks(lines: list[list[Any]]) -> list[list[list[Any]]]:
    """The tables of an export: the preamble, then blocks separated by an empty line."""
    found: list[list[list[Any]]] = []
    current: list[list[Any]] | None = None
    for line in lines:
        if not any(v not in (None, "") for v in line):
            current = []
            found.append(current)
        elif current is not None:
            values = list(line)
            while values and values[-1] in (None, ""):  # a sheet's rows run to its widest
                values.pop()
            current.append(values)
    return found


def from_export(
    lines: list[list[Any]], shape: dict[str, Shown], order: list[str]
) -> dict[str, Shown]:
    found = blocks(lines)
    assert len(found) == len(order)
    tables: dict[str, Shown] = {}
    for key, block in zip(order, found, strict=True):
        like = shape[key]
        width = len(block[1]) - 1  # the header: the row heading, then the value columns
        rows = [
            [number(str(v)) if v not in (None, "") else None for v in line[1 : width + 1]]
            for line in block[2:]
        ]
        tables[key] = Shown(like.kind, like.row_totals, like.column_totals, rows)
    return tables


def rounded(tables: dict[str, Shown]) -> dict[str, list[list[Value]]]:
    return {
        key: [[round(v, 4) if isinstance(v, float) else v for v in row] for row in t.rows]
        for key, t in tables.items()
    }


# --- The property -----------------------------------------------------------------------------


@pytest.fixture
def api_token(personas) -> dict[str, Any]:
    return bearer(personas.council_member)


@settings(
    max_examples=25,
    deadline=None,
    # Shrinking a failure through four HTTP requests per try takes minutes; the failing data set
    # is printed as generated instead.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(specs=st.lists(spec, max_size=40), threshold=st.sampled_from([2, 3, 5]))
def test_no_output_shows_a_small_or_recoverable_count(
    personas, world, client_for, api_token, specs: list[Spec], threshold: int
) -> None:
    municipality = world.avesta_group.municipality
    build(municipality, specs, world.avesta_school.pk)
    params = {"municipality": municipality.code, "year": str(this_year())}
    c = client_for(personas.council_member)
    with override_settings(STATS_THRESHOLD=threshold):
        page = c.get("/stats/", params)
        csv_file = c.get("/stats/export.csv", params)
        xlsx_file = c.get("/stats/export.xlsx", params)
        api = c.get("/api/v1/stats/dashboard", params, **api_token)
    for response in (page, csv_file, xlsx_file, api):
        assert response.status_code == 200

    api_tables, order = from_api(api.json())
    parser = DashboardParser()
    parser.feed(page.content.decode())
    assert ('data-too-few="1"' in page.content.decode()) == (len(specs) < threshold)
    assert api.json()["too_few"] == (len(specs) < threshold)
    text = csv_file.content.decode("utf-8-sig")
    csv_tables = from_export(list(csv.reader(io.StringIO(text), delimiter=";")), api_tables, order)
    sheet = load_workbook(io.BytesIO(xlsx_file.content)).active
    xlsx_tables = from_export(
        [list(row) for row in sheet.iter_rows(values_only=True)], api_tables, order
    )

    for source, tables in (
        ("api", api_tables),
        ("html", parser.tables),
        ("csv", csv_tables),
        ("xlsx", xlsx_tables),
    ):
        check(source, tables, specs, threshold)
        # Every output shows the same figures (the exports round fractions to four places).
        assert rounded(tables) == rounded(api_tables)

    withheld = any(
        v is None for t in api_tables.values() if t.kind == "count" for row in t.rows for v in row
    )
    event("figures withheld" if withheld else "nothing withheld")

    # Each count table's chart draws exactly the table's shown cells (no totals, no withheld).
    with override_settings(STATS_THRESHOLD=threshold):
        for key, table in api_tables.items():
            if table.kind != "count":
                continue
            svg = c.get(f"/stats/chart/{key}.svg", params).content.decode()
            drawn = sorted(int(v) for v in re.findall(r'<desc class="value">([^<]*)</desc>', svg))
            body = table.rows[:-1] if table.column_totals else table.rows
            if not body:
                continue
            width = len(body[0]) - 1 if table.row_totals else len(body[0])
            cells = sorted(int(v) for row in body for v in row[:width] if v is not None)
            assert drawn == cells, key


def test_the_checker_catches_what_it_must() -> None:
    """The checker itself can fail: a small count, and a lone suppressed figure in a line."""
    small = Shown("count", True, True, [[3, 0, 3], [10, 0, 10], [13, 0, 13]])
    assert violations("t", small, 5)
    lone = Shown("count", True, True, [[None, 10, 12], [5, 10, 15], [7, 20, 27]])
    assert violations("t", lone, 5)
    fine = Shown("count", True, True, [[None, None, 12], [None, None, 15], [7, 20, 27]])
    assert not violations("t", fine, 5)
    assert not violations("t", Shown("median", False, False, [[3.0]]), 5)
    sector = Shown("count", True, True, [[5, 0, 0, 0, 5], [None, None, None, None, None]])
    age = Shown("count", True, True, [[5, 0, 0, 0, 5], [None, None, None, None, None]])
    outcomes = Shown("count", False, True, [[5], [5]])
    problems = cross_table_problems(
        "t", {"raised-sector-gender": sector, "raised-age-gender": age, "outcomes": outcomes}
    )
    assert len(problems) == 1
    assert "withheld in one" in problems[0]
    age.rows[-1] = [6, 0, 0, 0, 6]
    sector.rows[-1] = [5, 0, 0, 0, 5]
    tables = {"raised-sector-gender": sector, "raised-age-gender": age, "outcomes": outcomes}
    assert len(cross_table_problems("t", tables)) == 2  # the girls, and the cases raised
