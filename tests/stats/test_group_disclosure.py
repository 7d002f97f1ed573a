"""Issue 19, gap 7: group disclosure, medians over ten values, and a threshold of at least 3.

A small group (a row or column of a breakdown with fewer than the group threshold cases) whose
members all share one cell must not be shown as such: the zeros beside the cell would tell
the outcome of everyone in it. The property tests use an independent reader (from
``test_disclosure``) that knows a suppressed zero may be zero.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from samverkan.stats.disclosure import ProtectedTable, protect, shown_median
from samverkan.stats.selectors import dashboard_data, protect_joined
from tests.stats.stats_data import avesta, make_facts, this_year
from tests.stats.test_disclosure import (
    full_array,
    linearly_determined,
    published_array,
    small_heavy_counts,
    tables,
)

# --- An independent reader --------------------------------------------------------------------


def group_disclosures(
    counts: list[list[int]], table: ProtectedTable, group_threshold: int
) -> list[str]:
    """Small groups a reader can see sharing one outcome.

    A body line (row or column) with a true total of 1 .. group_threshold - 1 is read as all
    in one cell when every other cell of it is either shown as 0 or lies in a line whose shown
    total is 0 — unless the whole table has only one non-empty line across (then the margins
    already say it, and it is no small group).
    """
    truth = full_array(counts)
    shown = published_array(table)
    rows, columns = len(counts), len(counts[0])
    found = []
    for by_row, index in [(True, r) for r in range(rows)] + [(False, c) for c in range(columns)]:
        parts = (
            [(index, c) for c in range(columns)] if by_row else [(r, index) for r in range(rows)]
        )
        if len(parts) < 2:
            continue
        total = truth[index][columns] if by_row else truth[rows][index]
        if not 0 < total < group_threshold:
            continue

        def other_total(p: tuple[int, int], row_line: bool = by_row) -> int | None:
            return shown[rows][p[1]] if row_line else shown[p[0]][columns]

        non_empty = [p for p in parts if other_total(p) != 0]
        if len(non_empty) < 2:
            continue
        open_parts = [p for p in non_empty if shown[p[0]][p[1]] != 0]
        if len(open_parts) == 1:
            found.append(f"{'row' if by_row else 'column'} {index} shows its one outcome")
    return found


def recoverable_with_zero_floors(
    counts: list[list[int]], table: ProtectedTable
) -> list[tuple[int, int]]:
    """Suppressed entries with one possible value, for a reader who knows more than any real
    one: that a suppressed true zero is at least 0 and every other suppressed value at least 1.
    Brute force over each cell's true value and one either side; only for small tables."""
    truth = full_array(counts)
    shown = published_array(table)
    rows, columns = len(counts), len(counts[0])
    choices = []
    for i in range(rows):
        options = [
            range(max(1 if counts[i][j] else 0, counts[i][j] - 1), counts[i][j] + 2)
            if shown[i][j] is None
            else (counts[i][j],)
            for j in range(columns)
        ]
        row_total = shown[i][columns]
        choices.append(
            [c for c in itertools.product(*options) if row_total is None or sum(c) == row_total]
        )
    seen: dict[tuple[int, int], set[int]] = {
        (i, j): set() for i in range(rows + 1) for j in range(columns + 1) if shown[i][j] is None
    }
    for candidate in itertools.product(*choices):
        bottom = [sum(row[j] for row in candidate) for j in range(columns)]
        full = [[*row, sum(row)] for row in candidate] + [[*bottom, sum(bottom)]]
        if any(
            (shown[i][j] is None and full[i][j] < (1 if truth[i][j] else 0))
            or (shown[i][j] is not None and full[i][j] != shown[i][j])
            for i in range(rows + 1)
            for j in range(columns + 1)
        ):
            continue
        for p, values in seen.items():
            values.add(full[p[0]][p[1]])
    assert all(truth[p[0]][p[1]] in values for p, values in seen.items())
    return sorted(p for p, values in seen.items() if len(values) < 2)


def shown_truthfully(counts: list[list[int]], table: ProtectedTable, threshold: int) -> list[str]:
    truth = full_array(counts)
    problems = []
    for (i, j), value in (
        ((i, j), v) for i, row in enumerate(published_array(table)) for j, v in enumerate(row)
    ):
        if value is None:
            continue
        if value != truth[i][j]:
            problems.append(f"{(i, j)} shows {value}, the truth is {truth[i][j]}")
        if 1 <= value < threshold:
            problems.append(f"{(i, j)} shows the small count {value}")
    return problems


# --- Worked examples --------------------------------------------------------------------------


def test_a_small_age_band_all_boys_is_not_shown_as_such() -> None:
    # Columns: girls, boys. The 16-17 band has 7 cases, all boys: the 0 beside the 7 would say so.
    counts = [[12, 15], [0, 7], [9, 11]]
    plain = protect(counts, threshold=5)
    assert plain.cells[1] == (0, 7)  # without the rule the group's outcome is plain to read
    table = protect(counts, threshold=5, group_threshold=10)
    assert table.cells[1] == (None, None)
    assert (1, 0) in table.group
    assert (1, 1) in table.group
    assert group_disclosures(counts, table, 10) == []
    assert group_disclosures(counts, plain, 10) != []
    # The row total (7 cases in the band) is not about any outcome and may stay.
    assert table.row_totals[1] == 7
    assert recoverable_with_zero_floors(counts, table) == []
    assert linearly_determined(counts, table) == []


def test_a_small_group_under_the_threshold_hides_its_zeros_too() -> None:
    # Three cases in the band, all girls: the 3 is hidden by the threshold anyway, but the zero
    # beside it would still tell that all three are girls.
    counts = [[3, 0], [10, 12], [8, 9]]
    table = protect(counts, threshold=5, group_threshold=10)
    assert table.cells[0] == (None, None)
    assert group_disclosures(counts, table, 10) == []


def test_a_column_is_a_group_as_well() -> None:
    # Six girls, all raised by the school (rows: school, police, social services).
    counts = [[6, 10], [0, 12], [0, 20]]
    table = protect(counts, threshold=5, group_threshold=10)
    assert [row[0] for row in table.cells] == [None, None, None]
    assert group_disclosures(counts, table, 10) == []


def test_zeros_where_nobody_has_the_outcome_stay_shown() -> None:
    # Nobody at all is in the last column: its zero says nothing about the small group.
    counts = [[0, 7, 0], [12, 15, 0]]
    table = protect(counts, threshold=5, group_threshold=10)
    assert table.cells[0][2] == 0
    assert table.cells[0][:2] == (None, None)


def test_a_whole_table_in_one_column_is_no_small_group() -> None:
    # Every case is a girl: the margins say it for every row, so there is nothing to hide.
    counts = [[6], [7]]
    assert protect(counts, threshold=5, group_threshold=10) == protect(counts, threshold=5)
    wide = [[6, 0], [7, 0]]
    assert protect(wide, threshold=5, group_threshold=10).cells == ((6, 0), (7, 0))


def test_groups_at_or_above_the_group_threshold_are_shown() -> None:
    counts = [[12, 15], [0, 10], [9, 11]]
    assert protect(counts, threshold=5, group_threshold=10).cells[1] == (0, 10)


def test_a_small_group_is_withheld_however_its_cases_are_spread() -> None:
    """Were only the small groups that share one outcome withheld, "every cell withheld, the
    total shown" would itself say that they do (found in review): the pattern must be the same
    for a spread group as for one that shares an outcome."""
    spread = protect([[12, 15], [2, 7], [9, 11]], threshold=5, group_threshold=10)
    shared = protect([[12, 15], [0, 9], [9, 11]], threshold=5, group_threshold=10)
    assert spread.group == shared.group == frozenset({(1, 0), (1, 1)})
    assert spread.cells[1] == shared.cells[1] == (None, None)
    assert spread.row_totals[1] == shared.row_totals[1]


# --- Properties -------------------------------------------------------------------------------

group_thresholds = st.integers(3, 12)


@settings(max_examples=300, deadline=None)
@given(counts=tables(), threshold=st.integers(3, 6), group=group_thresholds)
def test_no_small_group_is_shown_sharing_one_outcome(counts, threshold, group) -> None:
    table = protect(counts, threshold=threshold, group_threshold=group)
    assert group_disclosures(counts, table, group) == []
    assert shown_truthfully(counts, table, threshold) == []
    assert linearly_determined(counts, table) == []
    assert table.primary <= table.suppressed
    assert table.group <= table.suppressed
    assert protect(counts, threshold=threshold, group_threshold=group) == table


@settings(max_examples=150, deadline=None)
@given(
    counts=tables(max_rows=3, max_columns=3, counts=st.integers(0, 9)),
    threshold=st.integers(3, 5),
    group=st.integers(3, 10),
)
def test_suppressed_values_stay_uncertain_with_suppressed_zeros(counts, threshold, group) -> None:
    table = protect(counts, threshold=threshold, group_threshold=group)
    assert recoverable_with_zero_floors(counts, table) == []


@settings(max_examples=100, deadline=None)
@given(counts=tables(counts=small_heavy_counts), threshold=st.integers(3, 6))
def test_without_a_small_group_the_rule_changes_nothing(counts, threshold) -> None:
    plain = protect(counts, threshold=threshold)
    grouped = protect(counts, threshold=threshold, group_threshold=threshold + 5)
    assert plain.primary == grouped.primary
    if not grouped.group:
        assert grouped == plain


def test_the_checker_catches_what_it_must() -> None:
    counts = [[12, 15], [0, 7], [9, 11]]
    assert group_disclosures(counts, protect(counts, threshold=5), 10)
    # A suppressed 7 beside a shown 0 still tells the outcome.
    half = ProtectedTable(
        cells=((12, 15), (0, None), (9, 11)),
        row_totals=(27, None, 20),
        col_totals=(21, 33),
        total=54,
        primary=frozenset(),
    )
    assert group_disclosures(counts, half, 10)


# --- The dashboard ------------------------------------------------------------------------------


def api_tables(payload: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["key"]: t for t in payload["tables"] + payload["context_tables"]}


@pytest.mark.django_db
def test_the_dashboard_hides_a_small_age_band_of_one_gender(personas, settings) -> None:
    settings.STATS_THRESHOLD = 5
    settings.STATS_GROUP_THRESHOLD = 10
    make_facts(avesta(), 12, age_band="13_15", gender="F")
    make_facts(avesta(), 12, age_band="13_15", gender="M")
    make_facts(avesta(), 7, age_band="16_17", gender="M")  # seven boys and no girl
    data = dashboard_data(
        viewer=personas.council_member, municipality_id=avesta().pk, year=this_year()
    )
    by_age = data.table("raised-age-gender")
    assert by_age is not None
    band = next(row for row in by_age.rows if "16" in row.label)
    girls, boys = band.cells[0], band.cells[1]
    assert girls.suppressed
    assert boys.suppressed
    settings.STATS_GROUP_THRESHOLD = 7  # seven is no longer a small group
    data = dashboard_data(
        viewer=personas.council_member, municipality_id=avesta().pk, year=this_year()
    )
    by_age = data.table("raised-age-gender")
    assert by_age is not None
    band = next(row for row in by_age.rows if "16" in row.label)
    assert (band.cells[0].value, band.cells[1].value) == (0, 7)


def test_joined_tables_protect_small_groups_too() -> None:
    by_sector = [[12, 12, 0, 0], [0, 7, 0, 0]]  # police raised seven boys only
    by_age = [[12, 7, 0, 0], [0, 12, 0, 0]]
    outcomes = [31]
    sector, age, _ = protect_joined(by_sector, by_age, outcomes, 5, group_limit=10)
    assert sector.cells[1][:2] == (None, None)
    assert group_disclosures(by_sector, sector, 10) == []
    assert group_disclosures(by_age, age, 10) == []


# --- Medians ------------------------------------------------------------------------------------


def test_medians_need_the_minimum_number_of_values() -> None:
    nine, ten = list(range(9)), list(range(10))
    assert shown_median(nine, threshold=5, minimum=10) is None
    assert shown_median(ten, threshold=5, minimum=10) == 4.5
    assert shown_median(ten, threshold=12, minimum=10) is None  # the threshold still counts


@pytest.mark.django_db
def test_the_dashboard_withholds_medians_of_fewer_than_ten_values(personas, settings) -> None:
    settings.STATS_THRESHOLD = 5
    make_facts(avesta(), 9, days_to_consent=4)
    make_facts(avesta(), 10, days_to_first_meeting=6)
    data = dashboard_data(
        viewer=personas.council_member, municipality_id=avesta().pk, year=this_year()
    )
    medians = data.table("medians")
    assert medians is not None
    assert medians.rows[0].cells[0].suppressed  # nine values to consent
    assert medians.rows[1].cells[0].value == 6.0  # ten to the first meeting
    assert "10" in medians.note
    settings.STATS_MEDIAN_MINIMUM = 9
    data = dashboard_data(
        viewer=personas.council_member, municipality_id=avesta().pk, year=this_year()
    )
    medians = data.table("medians")
    assert medians is not None
    assert medians.rows[0].cells[0].value == 4.0


# --- Settings -----------------------------------------------------------------------------------


def load(tmp_path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("SAMVERKAN_STATS")}
    base.update({"SAMVERKAN_DATA_DIR": str(tmp_path), **env})
    code = (
        "from samverkan import settings as s;"
        "print(s.STATS_THRESHOLD, s.STATS_GROUP_THRESHOLD, s.STATS_MEDIAN_MINIMUM)"
    )
    return subprocess.run(  # noqa: S603 - our own settings module, fixed arguments
        [sys.executable, "-c", code], env=base, capture_output=True, text=True, check=False
    )


def test_statistics_settings_defaults(tmp_path) -> None:
    result = load(tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "5 10 10"
    result = load(tmp_path, SAMVERKAN_STATS_THRESHOLD="3", SAMVERKAN_STATS_MEDIAN_MINIMUM="20")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "3 10 20"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SAMVERKAN_STATS_THRESHOLD", "2"),
        ("SAMVERKAN_STATS_THRESHOLD", "1"),
        ("SAMVERKAN_STATS_GROUP_THRESHOLD", "2"),
        ("SAMVERKAN_STATS_MEDIAN_MINIMUM", "9"),
    ],
)
def test_statistics_settings_below_their_minimum_stop_the_start(tmp_path, name, value) -> None:
    result = load(tmp_path, **{name: value})
    assert result.returncode != 0
    assert "ConfigError" in result.stderr
    assert f"{name} must be at least" in result.stderr
