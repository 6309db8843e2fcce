"""The audit's suppression problem: the published cells, their true values and what a
reader knows of them: the relations (tiers add up to the listed cases, months to the total),
the orderings of subset counts (usable <= read results, ...) and the quantities that must stay
unknown (every count from 1 to min_cell-1, small differences of two published counts).
report.suppression decides which cells to hide.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

Cell = tuple[str, str]  # (period, name)
# (smaller, larger): cell names, or several summed on either side
Ordering = tuple[str | tuple[str, ...], str | tuple[str, ...]]


@dataclass(frozen=True)
class Problem:
    """The published cells, their true values and the relations between them."""

    cells: list[Cell]
    values: np.ndarray
    relations: np.ndarray  # one row per relation: coefficients over `cells`, sum == 0
    orderings: np.ndarray  # one row per known inequality: coefficients over `cells`, sum <= 0
    protected: list[np.ndarray]  # quantities (coefficient vectors) that must stay unknown
    primary: np.ndarray  # cells counting 1 to min_cell-1
    min_cell: int
    # how far apart the lowest and highest value a reader can work out for a protected
    # quantity must stay (never more than a `<k` cell's own spread, k-2)
    protection_range: float = 0.0

    @cached_property
    def equality_links(self) -> np.ndarray:
        """relation x cell: True where the cell is in the relation."""
        return np.abs(self.relations) > 0

    @cached_property
    def all_links(self) -> np.ndarray:
        """(relations, then orderings) x cell: True where the cell takes part."""
        return np.vstack([self.equality_links, np.abs(self.orderings) > 0])


def build_problem(
    counts: dict[str, dict[str, int]],
    total: str,
    partitions: list[tuple[tuple[str, ...], str]],
    differences: list[tuple[str, str]],
    min_cell: int,
    orderings: list[Ordering] | None = None,
    protection_range: int = 0,
) -> Problem:
    """`counts[period][name]`, with the total period under `total`; `partitions` are
    (members, whole) relations within every period; `differences` are (larger, smaller)
    pairs whose difference is itself a count of patients or results; `orderings` are
    (smaller, larger) pairs a reader knows to hold (cases with a risk factor <= listed
    cases), used in the bounds check wherever the true counts obey them in every period;
    `protection_range`: how far apart the bounds a reader can work out for a protected
    quantity must stay (capped at min_cell - 2, the spread `<k` itself leaves)."""
    periods = list(counts)
    names = sorted({n for values in counts.values() for n in values})
    cells = [(p, n) for p in periods for n in names if n in counts[p]]
    position = {cell: i for i, cell in enumerate(cells)}
    values = np.array([counts[p][n] for p, n in cells], dtype=float)
    rows: list[np.ndarray] = []

    def relation(terms: list[tuple[Cell, float]]) -> None:
        if all(cell in position for cell, _ in terms):
            row = np.zeros(len(cells))
            for cell, sign in terms:
                row[position[cell]] += sign
            rows.append(row)

    for period in periods:
        for members, whole in partitions:
            relation([((period, m), 1.0) for m in members] + [((period, whole), -1.0)])
    months = [p for p in periods if p != total]
    for name in names:
        relation([((p, name), 1.0) for p in months] + [((total, name), -1.0)])
    primary = (values > 0) & (values < min_cell)
    protected = [np.eye(len(cells))[i] for i in np.flatnonzero(primary)]
    for period in periods:
        for larger, smaller in differences:
            if (period, larger) in position and (period, smaller) in position:
                gap = counts[period][larger] - counts[period][smaller]
                if 0 < gap < min_cell:
                    row = np.zeros(len(cells))
                    row[position[(period, larger)]], row[position[(period, smaller)]] = 1, -1
                    protected.append(row)
    matrix = np.array(rows) if rows else np.zeros((0, len(cells)))
    ordering = _ordering_rows(periods, position, values, orderings or [])
    spread = float(min(max(protection_range, 0), min_cell - 2))
    return Problem(cells, values, matrix, ordering, protected, primary, min_cell, spread)


def _ordering_rows(
    periods: list[str], position: dict[Cell, int], values: np.ndarray, orderings: list[Ordering]
) -> np.ndarray:
    """Rows `smaller - larger <= 0` of the orderings the true counts obey in every period
    (either side may be several cells, summed). Slack ones too: they do not pin a quantity,
    but they narrow the range a reader can work out for it."""
    size = len(values)
    rows: list[np.ndarray] = []
    for smaller, larger in orderings:
        terms = [(name, 1.0) for name in _names(smaller)]
        terms += [(name, -1.0) for name in _names(larger)]
        found = []
        for period in periods:
            if all((period, name) in position for name, _ in terms):
                row = np.zeros(size)
                for name, sign in terms:
                    row[position[(period, name)]] += sign
                found.append(row)
        if all(row @ values <= 0 for row in found):  # what a reader knows holds everywhere
            rows += found
    return np.array(rows) if rows else np.zeros((0, size))


def _names(side: str | tuple[str, ...]) -> tuple[str, ...]:
    return (side,) if isinstance(side, str) else side
