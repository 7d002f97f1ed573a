"""The disclosure-control engine: worked examples and property tests with an independent checker.

The checkers below never call the engine's helpers: they rebuild the margins from the raw
counts, read the published table as a reader would, and look for a way to work a suppressed
value out.
"""

from __future__ import annotations

import itertools
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from samverkan.stats.disclosure import (
    SUPPRESSED,
    ProtectedTable,
    audit_circulation,
    protect,
    protect_linked,
    protect_list,
    shown_median,
    shown_share,
)

# --- An independent reader of published tables ----------------------------------------------


def full_array(counts: list[list[int]]) -> list[list[int]]:
    """The true table with its margins: row totals last in each row, column totals last."""
    width = len(counts[0])
    out = [[*row, sum(row)] for row in counts]
    bottom = [sum(row[j] for row in counts) for j in range(width)]
    out.append([*bottom, sum(bottom)])
    return out


def published_array(table: ProtectedTable) -> list[list[int | None]]:
    out: list[list[int | None]] = [[*row, table.row_totals[i]] for i, row in enumerate(table.cells)]
    out.append([*table.col_totals, table.total])
    return out


def lines(height: int, width: int) -> list[list[tuple[int, int]]]:
    """Every row and every column of an array of that shape; the total is the last entry."""
    found = [[(i, j) for j in range(width)] for i in range(height)]
    found += [[(i, j) for i in range(height)] for j in range(width)]
    return found


def reader_problems(counts: list[list[int]], table: ProtectedTable, threshold: int) -> list[str]:
    """Everything wrong with a published table, judged from the raw counts alone."""
    truth = full_array(counts)
    shown = published_array(table)
    height, width = len(truth), len(truth[0])
    problems: list[str] = []
    if [len(row) for row in shown] != [width] * height:
        return [f"shape {[len(row) for row in shown]} is not {height}x{width}"]
    for i, j in itertools.product(range(height), range(width)):
        value = shown[i][j]
        if value is None:
            if truth[i][j] == 0:
                problems.append(f"a true zero at {(i, j)} is suppressed")
            continue
        if value != truth[i][j]:
            problems.append(f"{(i, j)} shows {value}, the truth is {truth[i][j]}")
        if 1 <= value < threshold:
            problems.append(f"{(i, j)} shows the small count {value}")
    for line in lines(height, width):
        *parts, total = line
        hidden = [p for p in line if shown[p[0]][p[1]] is None]
        if len(hidden) == 1:
            problems.append(f"line {line} has exactly one suppressed entry {hidden[0]}")
        if len([p for p in hidden if truth[p[0]][p[1]] != 0]) == 1:
            problems.append(f"line {line} has one non-zero suppressed entry")
        shown_parts = sum(shown[i][j] or 0 for i, j in parts)
        total_shown = shown[total[0]][total[1]]
        if total_shown is None:
            if shown_parts == truth[total[0]][total[1]]:
                problems.append(f"the suppressed total {total} is the sum of the shown parts")
        else:
            residual = total_shown - shown_parts
            for i, j in hidden:
                if residual == truth[i][j]:
                    problems.append(f"{(i, j)} is the shown total minus the shown others")
    return problems


def linearly_determined(counts: list[list[int]], table: ProtectedTable) -> list[tuple[int, int]]:
    """Suppressed entries that the line equations pin down, by exact Gaussian elimination.

    Unknowns are the suppressed entries; every line says (sum of its parts) - total = 0 with
    the shown values moved to the right. An unknown is determined exactly when, in the reduced
    row echelon form, its pivot row has no other non-zero coefficient.
    """
    shown = published_array(table)
    height, width = len(shown), len(shown[0])
    unknowns = [(i, j) for i in range(height) for j in range(width) if shown[i][j] is None]
    if not unknowns:
        return []
    column_of = {p: k for k, p in enumerate(unknowns)}
    matrix: list[list[Fraction]] = []
    for line in lines(height, width):
        total = line[-1]
        row = [Fraction(0)] * len(unknowns)
        for p in line:
            if p in column_of:
                row[column_of[p]] = Fraction(-1 if p == total else 1)
        matrix.append(row)
    pivots: dict[int, int] = {}  # column -> row
    lead = 0
    for col in range(len(unknowns)):
        pivot = next((r for r in range(lead, len(matrix)) if matrix[r][col] != 0), None)
        if pivot is None:
            continue
        matrix[lead], matrix[pivot] = matrix[pivot], matrix[lead]
        factor = matrix[lead][col]
        matrix[lead] = [x / factor for x in matrix[lead]]
        for r in range(len(matrix)):
            if r != lead and matrix[r][col] != 0:
                scale = matrix[r][col]
                matrix[r] = [x - scale * y for x, y in zip(matrix[r], matrix[lead], strict=True)]
        pivots[col] = lead
        lead += 1
    return [
        unknowns[col]
        for col, r in pivots.items()
        if all(x == 0 for k, x in enumerate(matrix[r]) if k != col)
    ]


def exactly_recoverable(counts: list[list[int]], table: ProtectedTable) -> list[tuple[int, int]]:
    """Suppressed entries with one possible value, by brute force over nearby tables.

    A reader knows the shown values and that zeros are shown (so every suppressed value is at
    least 1). Each suppressed cell is tried at its true value and one either side; a suppressed
    entry that takes a single value over every consistent table found is recoverable. Only for
    small tables.
    """
    truth = full_array(counts)
    shown = published_array(table)
    rows, columns = len(counts), len(counts[0])
    choices = []
    for i in range(rows):
        options = [
            range(max(1, counts[i][j] - 1), counts[i][j] + 2)
            if shown[i][j] is None
            else (counts[i][j],)
            for j in range(columns)
        ]
        row_total = shown[i][columns]
        row_options = [
            combo
            for combo in itertools.product(*options)
            if (sum(combo) == row_total if row_total is not None else sum(combo) >= 1)
        ]
        choices.append(row_options)
    seen: dict[tuple[int, int], set[int]] = {
        (i, j): set() for i in range(rows + 1) for j in range(columns + 1) if shown[i][j] is None
    }
    for candidate in itertools.product(*choices):
        bottom = [sum(row[j] for row in candidate) for j in range(columns)]
        full = [[*row, sum(row)] for row in candidate] + [[*bottom, sum(bottom)]]
        if any(
            (shown[i][j] is None and full[i][j] < 1)
            or (shown[i][j] is not None and full[i][j] != shown[i][j])
            for i in range(rows + 1)
            for j in range(columns + 1)
        ):
            continue
        for p, values in seen.items():
            values.add(full[p[0]][p[1]])
    assert all(truth[p[0]][p[1]] in values for p, values in seen.items())
    return sorted(p for p, values in seen.items() if len(values) < 2)


# --- Strategies -----------------------------------------------------------------------------

small_heavy_counts = st.one_of(
    st.just(0), st.integers(1, 4), st.integers(0, 12), st.integers(0, 80)
)


@st.composite
def tables(draw, *, max_rows: int = 8, max_columns: int = 8, counts=small_heavy_counts):
    rows = draw(st.integers(1, max_rows))
    columns = draw(st.integers(1, max_columns))
    return draw(
        st.lists(st.lists(counts, min_size=columns, max_size=columns), min_size=rows, max_size=rows)
    )


thresholds = st.integers(2, 10)


# --- Property tests -------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(counts=tables(), threshold=thresholds)
def test_no_published_table_gives_a_small_count_away(counts, threshold) -> None:
    table = protect(counts, threshold=threshold)
    assert reader_problems(counts, table, threshold) == []
    assert linearly_determined(counts, table) == []
    truth = full_array(counts)
    assert table.primary == {
        (i, j)
        for i, row in enumerate(truth)
        for j, value in enumerate(row)
        if 1 <= value < threshold
    }
    assert table.primary <= table.suppressed
    assert protect(counts, threshold=threshold) == table  # deterministic


@settings(max_examples=120, deadline=None)
@given(
    counts=tables(max_rows=3, max_columns=3, counts=st.integers(0, 6)),
    threshold=st.integers(2, 5),
)
def test_no_suppressed_value_can_be_worked_out_knowing_that_zeros_are_shown(
    counts, threshold
) -> None:
    table = protect(counts, threshold=threshold)
    assert exactly_recoverable(counts, table) == []


@settings(max_examples=100, deadline=None)
@given(data=st.data(), threshold=thresholds)
def test_tables_without_small_counts_are_untouched(data, threshold) -> None:
    counts = data.draw(tables(counts=st.one_of(st.just(0), st.integers(threshold, 500))))
    table = protect(counts, threshold=threshold)
    truth = full_array(counts)
    assert table == ProtectedTable(
        cells=tuple(tuple(row) for row in counts),
        row_totals=tuple(row[-1] for row in truth[:-1]),
        col_totals=tuple(truth[-1][:-1]),
        total=truth[-1][-1],
        primary=frozenset(),
    )
    assert table.suppressed == frozenset()


# --- Worked examples ------------------------------------------------------------------------


def test_hand_checked_three_by_three() -> None:
    # 1 and 2 are small. Row 0 takes 8 as its complement (column 2 already holds the 2),
    # row 2 takes 12 (column 0 already holds the 1): the four corners hide each other.
    table = protect([[1, 7, 8], [9, 10, 11], [12, 13, 2]], threshold=5)
    assert table.cells == ((None, 7, None), (9, 10, 11), (None, 13, None))
    assert table.row_totals == (16, 30, 27)
    assert table.col_totals == (22, 30, 21)
    assert table.total == 73
    assert table.primary == {(0, 0), (2, 2)}
    assert table.suppressed == {(0, 0), (0, 2), (2, 0), (2, 2)}


def test_a_row_with_a_single_non_zero_small_cell_hides_its_total_too() -> None:
    # Row 0 is 0, 3, 0: its total 3 is small as well. Column 1 needs a complement (10), and
    # row 1 then has no other non-zero cell, so its total 10 goes, pairing with the 3.
    table = protect([[0, 3, 0], [0, 10, 0], [6, 20, 7]], threshold=5)
    assert table.cells == ((0, None, 0), (0, None, 0), (6, 20, 7))
    assert table.row_totals == (None, None, 33)
    assert table.col_totals == (6, 33, 7)
    assert table.total == 46
    assert table.primary == {(0, 1), (0, 3)}


def test_two_ones_in_a_row_are_not_given_away_by_the_fact_that_zeros_are_shown() -> None:
    # Every line has two suppressions after step 2, but 22 - 20 = 2 = 1 + 1 with both at
    # least 1 would reveal both ones; the audit hides the rest of the rows as well.
    counts = [[1, 1, 20], [30, 40, 50]]
    table = protect(counts, threshold=5)
    assert table.cells == ((None, None, None), (None, None, None))
    assert table.row_totals == (22, 120)
    assert table.col_totals == (31, 41, 70)
    assert exactly_recoverable(counts, table) == []


def test_a_cell_linking_two_groups_of_suppressions_is_protected() -> None:
    # Two blocks of small cells joined by the small cell (1, 2): every line has at least two
    # suppressions, yet rows 0-1 minus columns 0-1 would give (1, 2) away.
    counts = [
        [2, 3, 50, 60],
        [3, 2, 3, 70],
        [50, 60, 2, 3],
        [70, 80, 3, 2],
    ]
    table = protect(counts, threshold=5)
    assert reader_problems(counts, table, 5) == []
    assert linearly_determined(counts, table) == []
    assert (1, 2) in table.suppressed


def test_an_all_small_table_is_suppressed_where_small_and_stays_consistent() -> None:
    counts = [[1, 2], [3, 1]]
    table = protect(counts, threshold=5)
    assert table.cells == ((None, None), (None, None))
    assert table.row_totals == (None, None)  # 3 and 4
    assert table.col_totals == (None, None)  # 4 and 3
    assert table.total == 7
    assert reader_problems(counts, table, 5) == []


def test_a_one_by_one_table_of_one_hides_everything() -> None:
    table = protect([[1]], threshold=5)
    assert table == ProtectedTable(
        cells=((None,),),
        row_totals=(None,),
        col_totals=(None,),
        total=None,
        primary=frozenset({(0, 0), (0, 1), (1, 0), (1, 1)}),
    )


def test_one_dimensional_breakdown() -> None:
    # The 3 needs a partner: the smallest other non-zero count (10); the total stays.
    table = protect([[3], [0], [20], [10]], threshold=5)
    assert [row[0] for row in table.cells] == [None, 0, 20, None]
    assert table.row_totals == (None, 0, 20, None)
    assert table.col_totals == (33,)
    assert table.total == 33


def test_one_dimensional_breakdown_with_a_small_total() -> None:
    table = protect([[1], [0], [2]], threshold=5)
    assert [row[0] for row in table.cells] == [None, 0, None]
    assert table.col_totals == (None,)
    assert table.total is None


def test_one_row_breakdown() -> None:
    table = protect([[0, 7, 2, 9]], threshold=5)
    assert table.cells == ((0, None, None, 9),)
    assert table.row_totals == (18,)
    assert table.col_totals == (0, None, None, 9)


def test_zeros_are_shown_and_never_used_as_complements() -> None:
    table = protect([[0, 0, 4], [0, 0, 9]], threshold=5)
    assert table.cells == ((0, 0, None), (0, 0, None))
    assert table.row_totals == (None, None)
    assert table.col_totals == (0, 0, 13)
    assert table.total == 13


def test_empty_tables_have_nothing_to_hide() -> None:
    assert protect([], threshold=5).total == 0
    assert protect([[], []], threshold=5).row_totals == (0, 0)
    assert protect([[0, 0]], threshold=5).suppressed == frozenset()


def test_the_threshold_is_the_callers() -> None:
    counts = [[5, 9], [7, 12]]
    assert protect(counts, threshold=5).suppressed == frozenset()
    assert protect(counts, threshold=6).primary == {(0, 0)}
    assert protect(counts, threshold=2).suppressed == frozenset()
    assert protect([[1, 9], [7, 12]], threshold=2).primary == {(0, 0)}


@pytest.mark.parametrize("threshold", [1, 0, -5])
def test_thresholds_below_two_are_refused(threshold) -> None:
    with pytest.raises(ValueError, match="threshold"):
        protect([[5]], threshold=threshold)
    with pytest.raises(ValueError, match="threshold"):
        shown_share(5, 10, threshold=threshold)
    with pytest.raises(ValueError, match="threshold"):
        shown_median([1, 2, 3], threshold=threshold)


def test_bad_tables_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        protect([[1, -1]], threshold=5)
    with pytest.raises(ValueError, match="same number"):
        protect([[1, 2], [3]], threshold=5)
    with pytest.raises(TypeError):
        protect([[1.5]], threshold=5)  # type: ignore[list-item]
    with pytest.raises(TypeError):
        protect([[True]], threshold=5)
    with pytest.raises(TypeError):
        protect([[5]], threshold=5.0)  # type: ignore[arg-type]


def test_suppressed_is_none() -> None:
    assert SUPPRESSED is None


# --- Shares and medians ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("part", "whole", "expected"),
    [
        (5, 10, 0.5),
        (0, 10, 0.0),
        (10, 10, 1.0),
        (0, 5, 0.0),
        (5, 5, 1.0),
        (3, 10, None),  # the part is small
        (7, 10, None),  # the rest (3) is small
        (0, 4, None),  # the whole is small
        (4, 4, None),
        (0, 0, None),
    ],
)
def test_shares_are_shown_only_over_groups_at_the_threshold(part, whole, expected) -> None:
    assert shown_share(part, whole, threshold=5) == expected


def test_bad_shares_are_refused() -> None:
    with pytest.raises(ValueError, match="larger"):
        shown_share(6, 5, threshold=5)
    with pytest.raises(ValueError, match="negative"):
        shown_share(-1, 5, threshold=5)


@settings(max_examples=200, deadline=None)
@given(part=st.integers(0, 40), rest=st.integers(0, 40), threshold=thresholds)
def test_a_shown_share_never_stands_on_a_small_group(part, rest, threshold) -> None:
    share = shown_share(part, part + rest, threshold=threshold)
    if share is not None:
        assert share == part / (part + rest)
        for group in (part, rest, part + rest):
            assert group == 0 or group >= threshold
        assert part + rest >= threshold


def test_medians_need_the_threshold_number_of_values() -> None:
    assert shown_median([3, 1, 2, 10], threshold=5) is None
    assert shown_median([3, 1, 2, 10, 4], threshold=5) == 3.0
    assert shown_median([3, 1, 2, 10, 4, 8], threshold=5) == 3.5
    assert shown_median([], threshold=2) is None
    assert shown_median([7, 9], threshold=2) == 8.0


# --- Forced suppression and tables protected together ---------------------------------------


def test_forced_positions_are_suppressed_like_small_ones() -> None:
    counts = [[10, 20], [30, 40]]
    assert protect(counts, threshold=5).suppressed == frozenset()
    table = protect(counts, threshold=5, forced=frozenset({(2, 0)}))  # the first column total
    assert (2, 0) in table.suppressed
    assert table.primary == frozenset()  # forced is not small: primary stays the small ones
    assert reader_problems(counts, table, 5) == []
    assert linearly_determined(counts, table) == []


def test_forcing_nothing_changes_nothing() -> None:
    counts = [[3, 9], [12, 0]]
    assert protect(counts, threshold=5, forced=frozenset()) == protect(counts, threshold=5)


def test_a_forced_zero_stays_shown() -> None:
    table = protect([[0, 8], [0, 9]], threshold=5, forced=frozenset({(0, 0), (2, 0)}))
    assert table.cells[0][0] == 0
    assert table.col_totals[0] == 0


def test_a_forced_position_outside_the_table_is_refused() -> None:
    with pytest.raises(ValueError, match="outside"):
        protect([[5]], threshold=5, forced=frozenset({(2, 0)}))


@settings(max_examples=150, deadline=None)
@given(
    counts=tables(max_rows=5, max_columns=5),
    threshold=thresholds,
    forced=st.frozensets(st.tuples(st.integers(0, 5), st.integers(0, 5)), max_size=3),
)
def test_forced_tables_are_as_safe_as_any(counts, threshold, forced) -> None:
    forced = frozenset((r, c) for r, c in forced if r <= len(counts) and c <= len(counts[0]))
    table = protect(counts, threshold=threshold, forced=forced)
    truth = full_array(counts)
    assert {p for p in forced if truth[p[0]][p[1]] > 0} <= table.suppressed
    assert reader_problems(counts, table, threshold) == []
    assert linearly_determined(counts, table) == []


def breakdowns(cases: list[tuple[int, int, int]]) -> tuple[list[list[int]], list[list[int]]]:
    """Two breakdowns of the same cases (by a, by b, each against a shared column c)."""
    first = [[0] * 3 for _ in range(3)]
    second = [[0] * 3 for _ in range(4)]
    for a, b, c in cases:
        first[a][c] += 1
        second[b][c] += 1
    return first, second


def shared_links(first: list[list[int]], second: list[list[int]], outcome_rows: int) -> list:
    r1, r2, width = len(first), len(second), len(first[0])
    grand = [(0, (r1, width)), (1, (r2, width)), (2, (outcome_rows, 0)), (2, (outcome_rows, 1))]
    return [grand] + [[(0, (r1, c)), (1, (r2, c))] for c in range(width)]


def shown_at(table: ProtectedTable, position: tuple[int, int]) -> int | None:
    return published_array(table)[position[0]][position[1]]


def test_protecting_alone_can_disagree_on_a_shared_total_and_linked_cannot() -> None:
    # The review's (d): the girls' total shown by one breakdown, withheld by the other.
    first = [[4, 2, 2, 0], [0, 0, 0, 0], [3, 2, 1, 0], [0, 0, 0, 0], [0, 0, 0, 0]]
    second = [[0, 1, 2, 0], [5, 0, 0, 0], [1, 3, 1, 0], [1, 0, 0, 0]]
    assert protect(first, threshold=5).col_totals[0] == 7
    assert protect(second, threshold=5).col_totals[0] is None
    links = [[(0, (5, c)), (1, (4, c))] for c in range(4)] + [[(0, (5, 4)), (1, (4, 4))]]
    linked = protect_linked([first, second], links, threshold=5)
    assert linked[0].col_totals[0] is None
    assert linked[1].col_totals[0] is None
    for index, counts in enumerate((first, second)):
        assert reader_problems(counts, linked[index], 5) == []
        assert linearly_determined(counts, linked[index]) == []


def test_a_grand_total_withheld_in_one_table_is_withheld_in_the_others() -> None:
    # The review's (a): five single cases; alone, the breakdown hides its total of 5.
    breakdown = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [1, 0, 0, 0]]
    outcomes = [[5], [0]]
    assert protect(breakdown, threshold=5).total is None
    assert protect(outcomes, threshold=5).total == 5
    links = [[(0, (5, 4)), (1, (2, 0)), (1, (2, 1))]]
    first, second = protect_linked([breakdown, outcomes], links, threshold=5)
    assert first.total is None
    assert second.total is None
    assert second.col_totals == (None,)
    assert second.cells[0] == (None,)  # the one part of the withheld total goes too


def test_linked_positions_must_hold_the_same_figure() -> None:
    with pytest.raises(ValueError, match="different values"):
        protect_linked([[[5]], [[6]]], [[(0, (1, 1)), (1, (1, 1))]], threshold=5)


def test_no_links_is_protecting_each_table_alone() -> None:
    tables_ = [[[3, 9], [12, 0]], [[1], [7]]]
    assert protect_linked(tables_, [], threshold=5) == [protect(t, threshold=5) for t in tables_]


@settings(max_examples=150, deadline=None)
@given(
    cases=st.lists(st.tuples(st.integers(0, 2), st.integers(0, 3), st.integers(0, 2)), max_size=40),
    still_open=st.integers(0, 40),
    threshold=st.integers(2, 6),
)
def test_linked_figures_are_shown_alike_everywhere_or_withheld_everywhere(
    cases, still_open, threshold
) -> None:
    first, second = breakdowns(cases)
    still_open = min(still_open, len(cases))
    outcomes = [[still_open], [len(cases) - still_open]]
    links = shared_links(first, second, len(outcomes))
    result = protect_linked([first, second, outcomes], links, threshold=threshold)
    for group in links:
        values = [shown_at(result[index], position) for index, position in group]
        assert all(v is None for v in values) or len(set(values)) == 1, (group, values)
    for counts, table in zip((first, second, outcomes), result, strict=True):
        assert reader_problems(counts, table, threshold) == []
        assert linearly_determined(counts, table) == []


def test_lists_without_totals_hide_only_the_small_counts() -> None:
    assert protect_list([0, 1, 4, 5, 30], threshold=5) == (0, None, None, 5, 30)
    assert protect_list([], threshold=5) == ()
    with pytest.raises(ValueError, match="negative"):
        protect_list([-1], threshold=5)
    with pytest.raises(ValueError, match="threshold"):
        protect_list([3], threshold=1)


def test_circulation_audit_closes_a_cycle_for_a_lone_suppressed_edge() -> None:
    # a -> b -> c -> a, and a shortcut a -> c. Only edge 0 suppressed: it lies on no cycle of
    # suppressed edges, so the cheapest other edges that close one are added.
    edges = [("a", "b", 3), ("b", "c", 9), ("c", "a", 12), ("a", "c", 20)]
    assert audit_circulation(edges, frozenset({0})) == frozenset({1, 2})
    assert audit_circulation(edges, frozenset({0, 1, 2})) == frozenset()


def test_circulation_audit_knows_that_ones_may_only_grow() -> None:
    # Two parallel edges a -> b of value 1 each cannot trade: one would have to go to 0.
    edges = [("a", "b", 1), ("a", "b", 1), ("b", "a", 2), ("b", "a", 30)]
    added = audit_circulation(edges, frozenset({0, 1}))
    assert added == frozenset({2})  # the return edge closes a cycle in which both may grow
