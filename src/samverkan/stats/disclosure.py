"""Statistical disclosure control for the council's statistics (DESIGN rule 13).

Every figure the council sees is a count of young people or cases. A count of 1 up to
``threshold - 1`` could point at a person in a small municipality, so such counts are never
shown. This module is pure: it takes plain integers and returns the table as it may be
published. It never touches the database.

The table is seen together with its margins as an ``(R + 1) x (C + 1)`` array: cell ``(r, c)``
for ``r < R`` and ``c < C``, the row totals in column ``C``, the column totals in row ``R`` and
the grand total at ``(R, C)``. A *line* is one row or one column of that array; its last entry
is its total. Every entry lies on exactly one row line and one column line.

1. **Primary suppression.** Every entry (cell or margin) whose value is ``1 .. threshold - 1``
   is suppressed. Zeros are shown: a true zero says nothing about a person, and showing zeros
   keeps empty categories readable.
2. **Group disclosure.** When ``group_threshold`` is given, a *small group* is a row or
   column of the body (not a margin) whose total is ``1 .. group_threshold - 1`` and whose
   members all fall in one cell: the zeros beside that cell would tell everyone in the group
   shares its outcome (all the 16–17-year-olds raised were boys), whatever the cell shows. Every
   cell of such a line is suppressed, the zeros included, except the cells whose other line
   totals zero (nobody at all has that outcome, which says nothing about the group). When
   fewer than two cells are left the whole table shares the outcome and its margins say so:
   that is not a small group and nothing is added. Suppressed zeros take part in steps 3 and 4
   like any suppressed entry that may only grow, so a reader who knows that a suppressed value
   may be zero learns no more than one who does not.
3. **Complementary suppression.** A line with exactly one suppressed entry would give it away
   as ``total - shown others``. While such a line exists, the smallest non-zero shown cell of
   that line is suppressed as well (preferring a cell whose other line has exactly one
   suppression, then one whose other line already has some; ties by position); a line with no
   such cell gives up its total instead, which carries the problem into the totals row or
   column, and in the end to the grand total. Complements are never zero: a suppressed zero
   adds no uncertainty, because readers know that zeros are shown (outside small groups).
4. **Audit.** Every line having 0 or at least 2 suppressed entries is not enough on its own:
   two lines can be combined (a cell that is the only link between two groups of suppressed
   cells follows from the totals), and because zeros are shown a reader knows every suppressed
   value is at least 1 (a row ``1, 1, 20`` with total 22 reveals two ones). The audit therefore
   checks, for every suppressed entry, that another table exists with the same shown values,
   every suppressed value at least 1 (a suppressed zero at least 0), and a different value in
   that entry. It does so on the
   graph whose vertices are the lines and whose edges are the suppressed entries: an
   alternative table is a flow round a cycle, and an entry whose value is 0 or 1 may only grow. An
   entry that lies on no such cycle gets the cheapest set of extra suppressions that closes
   one (fewest entries, then the smallest sum), and the audit runs until every suppressed
   entry is safe. Suppressing every non-zero entry is always safe, so this terminates.

The guarantee: no suppressed value can be worked out exactly from the published table, under
the public knowledge that zeros are shown (outside the lines of step 2, where a suppressed
value may be zero), no shown value is between 1 and ``threshold - 1``, and, with
``group_threshold``, no small group is shown to share one outcome. Shown values are the true
values. The guarantee does not cover two tables read together on its own; ``protect_linked``
protects tables that show the same figure (a total shared by two breakdowns) together, so that
the figure is shown in all of them or hidden in all of them. Two periods read together are not
covered: see docs/statistics.md.
"""

from __future__ import annotations

import heapq
import statistics
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

SUPPRESSED = None

Position = tuple[int, int]
_Cost = tuple[int, int]  # (number of new suppressions, their sum)
_Grid = list[list[int]]


@dataclass(frozen=True)
class ProtectedTable:
    """A table ready for publication; ``None`` (``SUPPRESSED``) marks a suppressed value.

    ``primary`` holds the positions suppressed because ``1 <= n < threshold``, in the
    coordinates of the array with margins: ``(r, C)`` is the total of row ``r``, ``(R, c)`` the
    total of column ``c`` and ``(R, C)`` the grand total. Show every suppressed value with the
    same mark: telling primary from complementary suppressions apart would tell readers which
    suppressed values are small.
    """

    cells: tuple[tuple[int | None, ...], ...]
    row_totals: tuple[int | None, ...]
    col_totals: tuple[int | None, ...]
    total: int | None
    primary: frozenset[Position]
    # Cells suppressed because a small group shares one outcome (step 2), zeros included.
    group: frozenset[Position] = frozenset()

    @property
    def suppressed(self) -> frozenset[Position]:
        """Every suppressed position, primary and complementary, margins included."""
        rows = len(self.cells)
        columns = len(self.col_totals)
        found = {(r, c) for r, row in enumerate(self.cells) for c, v in enumerate(row) if v is None}
        found |= {(r, columns) for r, v in enumerate(self.row_totals) if v is None}
        found |= {(rows, c) for c, v in enumerate(self.col_totals) if v is None}
        if self.total is None:
            found.add((rows, columns))
        return frozenset(found)


def protect(
    counts: Sequence[Sequence[int]],
    *,
    threshold: int,
    forced: frozenset[Position] = frozenset(),
    group_threshold: int | None = None,
) -> ProtectedTable:
    """Suppress small counts and enough complements that none can be recovered.

    ``counts`` is ``R`` rows of ``C`` non-negative integers; a one-dimensional breakdown is an
    ``R x 1`` table. ``forced`` names positions (in the coordinates with margins) to suppress
    as if they were small, for example because the same figure is withheld in another table;
    a forced zero stays shown (only step 2 withholds zeros). ``primary`` still
    holds only the small ones. ``group_threshold`` turns on step 2: a row or column of the body
    totalling less than it whose members all share one cell is suppressed whole (its zeros
    too; ``group`` lists them). Raises ``ValueError`` for a threshold below 2, a negative count,
    rows of different lengths or a forced position outside the table, and ``TypeError`` for
    values that are not integers.
    """
    _check_threshold(threshold)
    rows = [list(row) for row in counts]
    width = len(rows[0]) if rows else 0
    for row in rows:
        if len(row) != width:
            raise ValueError("every row of the table must have the same number of cells")
        for value in row:
            _check_count(value)
    grid = _with_margins(rows, width)
    primary = {
        (r, c)
        for r, line in enumerate(grid)
        for c, value in enumerate(line)
        if 0 < value < threshold
    }
    suppressed = set(primary)
    for r, c in forced:
        if not (0 <= r < len(grid) and 0 <= c < len(grid[0])):
            raise ValueError(f"forced position {(r, c)} is outside the table")
        if grid[r][c] > 0:
            suppressed.add((r, c))
    group: frozenset[Position] = frozenset()
    if group_threshold is not None:
        _check_threshold(group_threshold)
        group = _small_groups(grid, group_threshold)
        suppressed |= group
    if suppressed:
        _complete_lines(grid, suppressed)
        _audit(grid, suppressed)
    return _publish(grid, suppressed, frozenset(primary), group)


Link = Sequence[tuple[int, Position]]


def protect_linked(
    tables: Sequence[Sequence[Sequence[int]]],
    links: Sequence[Link],
    *,
    threshold: int,
    forced: Sequence[frozenset[Position]] | None = None,
    group_threshold: int | None = None,
) -> list[ProtectedTable]:
    """Protect tables that show some of the same figures, together.

    ``links`` is a list of groups; each group lists ``(table index, position)`` pairs that hold
    the same figure (a grand total shown in several tables, a column total shared by two
    breakdowns). Each table is protected on its own, then again with the positions whose twin
    is suppressed anywhere forced, until nothing changes: a figure ends up shown with the same
    value everywhere or withheld everywhere, so no table gives away what another withholds.
    Suppressions only grow and are bounded by the number of entries, so this terminates.
    ``forced`` optionally names positions to suppress in each table from the start;
    ``group_threshold`` is passed to each ``protect``. Raises
    ``ValueError`` when a group links positions of different values.
    """
    _check_threshold(threshold)
    grids = [_with_margins([list(row) for row in t], len(t[0]) if t else 0) for t in tables]
    for group in links:
        values = {grids[index][r][c] for index, (r, c) in group}
        if len(values) > 1:
            raise ValueError(f"linked positions hold different values: {sorted(values)}")
    forcing: list[set[Position]] = [set(f) for f in forced] if forced else [set() for _ in tables]
    while True:
        result = [
            protect(t, threshold=threshold, forced=frozenset(f), group_threshold=group_threshold)
            for t, f in zip(tables, forcing, strict=True)
        ]
        changed = False
        for group in links:
            if any(position in result[index].suppressed for index, position in group):
                for index, position in group:
                    if position not in forcing[index]:
                        forcing[index].add(position)
                        changed = True
        if not changed:
            return result


Vertex = Hashable


def audit_circulation(
    edges: Sequence[tuple[Vertex, Vertex, int]], suppressed: frozenset[int]
) -> frozenset[int]:
    """The extra edges to suppress so that no suppressed edge of a network can be worked out.

    Several tables joined by shared totals are one system of equations; when that system is a
    circulation (every figure an edge from ``tail`` to ``head``, and at every vertex what comes
    in goes out), the audit of step 3 applies to it as a whole: a suppressed edge is safe when
    it lies on a cycle of suppressed edges that each may move in the cycle's direction (an edge
    whose value is 1 may only grow, because readers know suppressed values are at least 1).
    ``suppressed`` holds edge indices; the result holds the indices of shown non-zero edges to
    suppress as well (the fewest, then the smallest, per unsafe edge), and is empty when every
    suppressed edge is already safe.
    """
    added: set[int] = set()
    hidden = set(suppressed)
    pending = sorted(hidden)
    heapq.heapify(pending)
    safe: set[int] = set()
    incident: dict[Vertex, list[tuple[int, Vertex, bool]]] = {}
    for index, (tail, head, _value) in enumerate(edges):
        incident.setdefault(tail, []).append((index, head, True))
        incident.setdefault(head, []).append((index, tail, False))
    while pending:
        entry = heapq.heappop(pending)
        if entry in safe:
            continue
        tail, head, value = edges[entry]
        options = [(head, tail)] + ([(tail, head)] if value >= 2 else [])
        best: tuple[_Cost, list[int]] | None = None
        for start, goal in options:
            found = _network_path(edges, incident, hidden, entry, start, goal)
            if found is not None and (best is None or found[0] < best[0]):
                best = found
        if best is None:  # pragma: no cover - suppressing everything non-zero is always safe
            raise RuntimeError("no complementary suppression protects an edge")
        for index in best[1]:
            hidden.add(index)
            added.add(index)
            heapq.heappush(pending, index)
        safe.add(entry)
    return frozenset(added)


def _network_path(
    edges: Sequence[tuple[Vertex, Vertex, int]],
    incident: dict[Vertex, list[tuple[int, Vertex, bool]]],
    hidden: set[int],
    entry: int,
    start: Vertex,
    goal: Vertex,
) -> tuple[_Cost, list[int]] | None:
    # One more unit runs from start to goal (and the entry closes the cycle): an edge walked
    # from its tail to its head grows by one, an edge walked backwards shrinks by one.
    distance: dict[Vertex, _Cost] = {start: (0, 0)}
    came_from: dict[Vertex, tuple[Vertex, int]] = {}
    queue: list[tuple[int, int, int, Vertex]] = [(0, 0, 0, start)]
    counter = 1
    while queue:
        added, total, _, vertex = heapq.heappop(queue)
        if (added, total) != distance[vertex]:
            continue
        if vertex == goal:
            path: list[int] = []
            while vertex != start:
                vertex, index = came_from[vertex]
                if index not in hidden:
                    path.append(index)
            return (added, total), sorted(path)
        for index, neighbour, forward in incident.get(vertex, []):
            if index == entry:
                continue
            value = edges[index][2]
            if index in hidden:
                if not forward and value < 2:
                    continue  # it would have to shrink below 1
                step = (added, total)
            elif value > 0:
                step = (added + 1, total + value)
            else:
                continue
            if neighbour not in distance or step < distance[neighbour]:
                distance[neighbour] = step
                came_from[neighbour] = (vertex, index)
                heapq.heappush(queue, (step[0], step[1], counter, neighbour))
                counter += 1
    return None


def protect_list(values: Sequence[int], *, threshold: int) -> tuple[int | None, ...]:
    """Counts shown side by side with no total (they overlap, or are not additive).

    With no total to subtract from, nothing but the small counts themselves needs hiding:
    each value from 1 to ``threshold - 1`` is ``None``.
    """
    _check_threshold(threshold)
    for value in values:
        _check_count(value)
    return tuple(SUPPRESSED if _is_small(v, threshold) else v for v in values)


def shown_share(part: int, whole: int, *, threshold: int) -> float | None:
    """``part / whole`` as a fraction, or ``None`` when showing it would reveal a small count.

    The share is shown only when ``whole`` is at least ``threshold`` and both ``part`` and the
    rest (``whole - part``) are either 0 or at least ``threshold``: a share of 6 out of 10
    would otherwise give away the 4 who are not in the part.
    """
    _check_threshold(threshold)
    _check_count(part)
    _check_count(whole)
    if part > whole:
        raise ValueError("the part of a share cannot be larger than the whole")
    if whole < threshold or _is_small(part, threshold) or _is_small(whole - part, threshold):
        return None
    return part / whole


def shown_median(values: Sequence[int], *, threshold: int, minimum: int = 0) -> float | None:
    """The median of ``values``, or ``None`` when fewer than ``threshold`` values, or fewer
    than ``minimum``, lie behind it: a median of a few values is close to one person's value
    (of three, it is one of them), so medians take more values than counts (setting
    ``STATS_MEDIAN_MINIMUM``)."""
    _check_threshold(threshold)
    if len(values) < max(threshold, minimum):
        return None
    return float(statistics.median(values))


def _check_threshold(threshold: int) -> None:
    if isinstance(threshold, bool) or not isinstance(threshold, int):
        raise TypeError("the threshold must be an integer")
    if threshold < 2:
        raise ValueError("the threshold must be at least 2")


def _check_count(value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("counts must be integers")
    if value < 0:
        raise ValueError("counts cannot be negative")


def _is_small(value: int, threshold: int) -> bool:
    return 0 < value < threshold


def _with_margins(rows: list[list[int]], width: int) -> _Grid:
    column_totals = [sum(row[c] for row in rows) for c in range(width)]
    grid = [[*row, sum(row)] for row in rows]
    grid.append([*column_totals, sum(column_totals)])
    return grid


def _small_groups(grid: _Grid, limit: int) -> frozenset[Position]:
    """Step 2: the cells of every body line that is a small group (fewer cases than ``limit``):
    such a group may share one outcome, and the pattern of what is withheld must not say
    whether it does."""
    last_row = len(grid) - 1
    last_column = len(grid[0]) - 1
    found: set[Position] = set()
    lines = [[(r, c) for c in range(last_column)] for r in range(last_row)] + [
        [(r, c) for r in range(last_row)] for c in range(last_column)
    ]
    for index, parts in enumerate(lines):
        by_row = index < last_row
        total = sum(grid[r][c] for r, c in parts)
        # Every small line, however its cases are spread: were only the lines that share one
        # outcome withheld, "every cell withheld, the total shown" would itself say that they do.
        if not 0 < total < limit:
            continue
        # Where nobody at all has the outcome the zero is no news about the group.
        telling = [
            (r, c) for r, c in parts if (grid[last_row][c] if by_row else grid[r][last_column])
        ]
        if len(telling) >= 2:
            found.update(telling)
    return frozenset(found)


def _publish(
    grid: _Grid,
    suppressed: set[Position],
    primary: frozenset[Position],
    group: frozenset[Position] = frozenset(),
) -> ProtectedTable:
    last_row = len(grid) - 1
    last_column = len(grid[0]) - 1

    def shown(r: int, c: int) -> int | None:
        return SUPPRESSED if (r, c) in suppressed else grid[r][c]

    return ProtectedTable(
        cells=tuple(tuple(shown(r, c) for c in range(last_column)) for r in range(last_row)),
        row_totals=tuple(shown(r, last_column) for r in range(last_row)),
        col_totals=tuple(shown(last_row, c) for c in range(last_column)),
        total=shown(last_row, last_column),
        primary=primary,
        group=group,
    )


# Step 2: no line may have exactly one suppressed entry.


def _complete_lines(grid: _Grid, suppressed: set[Position]) -> None:
    last_row = len(grid) - 1
    last_column = len(grid[0]) - 1
    in_row = [0] * (last_row + 1)
    in_column = [0] * (last_column + 1)
    for r, c in suppressed:
        in_row[r] += 1
        in_column[c] += 1
    while True:
        lone_row = next((r for r, n in enumerate(in_row) if n == 1), None)
        if lone_row is not None:
            parts = [(lone_row, c) for c in range(last_column)]
            chosen = _complement(
                grid, suppressed, parts, (lone_row, last_column), lambda p: in_column[p[1]]
            )
        else:
            lone_column = next((c for c, n in enumerate(in_column) if n == 1), None)
            if lone_column is None:
                return
            parts = [(r, lone_column) for r in range(last_row)]
            chosen = _complement(
                grid, suppressed, parts, (last_row, lone_column), lambda p: in_row[p[0]]
            )
        suppressed.add(chosen)
        in_row[chosen[0]] += 1
        in_column[chosen[1]] += 1


def _complement(
    grid: _Grid,
    suppressed: set[Position],
    parts: list[Position],
    total: Position,
    crossing: Callable[[Position], int],
) -> Position:
    candidates = [p for p in parts if p not in suppressed and grid[p[0]][p[1]] > 0]
    if candidates:
        # A cell whose other line has one suppression mends two lines; one whose other line
        # already has several costs nothing more there; otherwise the smallest, then the first.
        return min(candidates, key=lambda p: (_tier(crossing(p)), grid[p[0]][p[1]], p))
    # The one suppressed entry is a part, so the total is at least its value and still shown.
    if total in suppressed or grid[total[0]][total[1]] == 0:  # pragma: no cover - impossible
        raise RuntimeError("no complement available for a line")
    return total


def _tier(suppressed_in_other_line: int) -> int:
    if suppressed_in_other_line == 1:
        return 0
    return 1 if suppressed_in_other_line else 2


# Step 3: the audit. Vertices are lines: row line r is vertex r, column line c is R + 1 + c.
# A change d to the suppressed entries that keeps every shown value is, after multiplying the
# entries of the totals row and the totals column by -1, a flow round cycles of that graph: a
# positive flow runs from the row line to the column line. An entry whose value is 1 may only
# grow, so it carries flow in one direction only.


def _audit(grid: _Grid, suppressed: set[Position]) -> None:
    pending = sorted(suppressed)
    heapq.heapify(pending)
    safe: set[Position] = set()
    while pending:
        entry = heapq.heappop(pending)
        if entry in safe:
            continue
        best: tuple[_Cost, list[Position]] | None = None
        for tail, head in _arcs(grid, entry):
            found = _cheapest_return(grid, suppressed, entry, start=head, goal=tail)
            if found is not None and (best is None or found[0] < best[0]):
                best = found
        if best is None:  # pragma: no cover - suppressing everything non-zero is always safe
            raise RuntimeError("no complementary suppression protects an entry")
        for position in best[1]:
            suppressed.add(position)
            heapq.heappush(pending, position)
        # Adding suppressions only adds cycles, so an entry once safe stays safe.
        safe.add(entry)


def _arcs(grid: _Grid, position: Position) -> list[tuple[int, int]]:
    last_row = len(grid) - 1
    last_column = len(grid[0]) - 1
    r, c = position
    row_vertex, column_vertex = r, last_row + 1 + c
    if grid[r][c] >= 2:
        return [(row_vertex, column_vertex), (column_vertex, row_vertex)]
    sign = (-1 if r == last_row else 1) * (-1 if c == last_column else 1)
    return [(row_vertex, column_vertex)] if sign > 0 else [(column_vertex, row_vertex)]


def _incident(grid: _Grid, vertex: int) -> list[tuple[Position, int]]:
    last_row = len(grid) - 1
    if vertex <= last_row:
        return [((vertex, c), last_row + 1 + c) for c in range(len(grid[0]))]
    c = vertex - last_row - 1
    return [((r, c), r) for r in range(last_row + 1)]


def _cheapest_return(
    grid: _Grid, suppressed: set[Position], entry: Position, *, start: int, goal: int
) -> tuple[_Cost, list[Position]] | None:
    """The cheapest path from ``start`` to ``goal`` that avoids ``entry``.

    Suppressed entries are free but only in their allowed direction; a shown non-zero entry
    costs one suppression and its value, in either direction (it is at least the threshold,
    so it can move both ways). Shown zeros never take part. Returns the cost and the entries
    to suppress, or ``None`` when there is no path.
    """
    distance: dict[int, _Cost] = {start: (0, 0)}
    came_from: dict[int, tuple[int, Position]] = {}
    queue: list[tuple[int, int, int]] = [(0, 0, start)]
    while queue:
        added, total, vertex = heapq.heappop(queue)
        if (added, total) != distance[vertex]:
            continue
        if vertex == goal:
            path: list[Position] = []
            while vertex != start:
                vertex, position = came_from[vertex]
                if position not in suppressed:
                    path.append(position)
            return (added, total), sorted(path)
        for position, neighbour in _incident(grid, vertex):
            if position == entry:
                continue
            value = grid[position[0]][position[1]]
            if position in suppressed:
                if (vertex, neighbour) not in _arcs(grid, position):
                    continue
                step = (added, total)
            elif value > 0:
                step = (added + 1, total + value)
            else:
                continue
            if neighbour not in distance or step < distance[neighbour]:
                distance[neighbour] = step
                came_from[neighbour] = (vertex, position)
                heapq.heappush(queue, (step[0], step[1], neighbour))
    return None
