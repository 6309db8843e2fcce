"""Small-cell suppression of the audit tables: primary, then complementary over all relations.

The audit publishes counts per month and for the whole period, and those counts are tied by
linear relations anyone can write down: the tiers add up to the listed cases, listed and not
listed add up to the cases, and every month's cells add up to the total. A hidden cell is safe
only if no sum or difference of shown cells gives it back.

- Primary suppression hides every count from 1 to min_cell-1. Some differences of two
  published cells are counts too (results dropped between two funnel steps, cases without a
  risk factor); when such a difference is small, it is protected the same way.
- Complementary suppression then hides more cells until no protected quantity lies in the
  span of the published relations and the shown cells. Linear algebra decides that: with S
  the hidden cells and A the relations, a quantity f is determined iff f restricted to S lies
  in the row space of A restricted to S (the shown cells are known, so they drop out).
  Bounds a reader knows are used too (linear programming): a `<k` cell is 1 to k-1, a cell
  marked `hidden` is at least k (zeros are shown and small counts say `<k`, so a complementary
  cell is never small, and a zero is never hidden), and published counts are ordered
  (results usable <= results read, cases with a risk factor <= listed cases, ...). A
  protected quantity is safe only when its lowest and highest values over every table
  consistent with what is shown lie at least `protection_range` apart: a `<11` cell worked
  out to be 1 or 2 is as good as shown.
- The complementary cells are chosen to lose the least: the smallest non-zero count first,
  month cells before totals, and the top of the funnel (results read, usable results, cases,
  listed) only when nothing else protects the cell.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy.optimize import linprog

Cell = tuple[str, str]  # (period, name)
# (smaller, larger): cell names, or several summed on either side
Ordering = tuple[str | tuple[str, ...], str | tuple[str, ...]]

PRIMARY = "primary"
COMPLEMENTARY = "complementary"
# cells that keep the funnel readable: hidden only as a last resort
FUNNEL_TOP = frozenset(
    {
        "cases",
        "listed",
        "attrition_sodium_results_in_window",
        "attrition_usable_results",
        "attrition_hyponatremic_results",
    }
)
_FUNNEL_COST = 1e6
_TOTAL_COST = 1e3


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


def determined(problem: Problem, hidden: np.ndarray, quantity: np.ndarray) -> bool:
    """True when `quantity` follows from the shown cells and the relations: by linear algebra
    alone, or once the bounds a reader knows are used (a `<k` cell is 1 to k-1, a `hidden`
    one at least k): two `<11` cells of a relation whose hidden part sums to 2 are both 1;
    a `<11` and a `hidden` cell summing to 12 are 1 and 11. Narrowed to a range shorter than
    problem.protection_range counts as determined too."""
    return _spanned(problem, hidden, quantity) or _pinned(problem, hidden, quantity)


def _pinned(problem: Problem, hidden: np.ndarray, quantity: np.ndarray) -> bool:
    """The lowest and the highest value of `quantity` over every table consistent with what
    is shown (linear programming, HiGHS) are the same, or closer than
    problem.protection_range. A `<2` cell is 1 by its mark alone: nothing further can hide
    it, so it does not count as pinned."""
    if problem.min_cell <= 2 and np.count_nonzero(quantity) == 1:
        if problem.primary[quantity != 0].all():
            return False
    component = _component(problem, hidden, (quantity != 0) & hidden, problem.all_links)
    columns = np.flatnonzero(component)
    rows = problem.relations[:, columns]
    touching = np.abs(rows).sum(axis=1) > 0
    rows = rows[touching]
    # the right-hand side: minus the shown cells' part of each relation
    shown = problem.relations[touching][:, ~component] @ problem.values[~component]
    limits = problem.orderings[:, columns]
    limiting = np.abs(limits).sum(axis=1) > 0
    limits = limits[limiting]
    limit_shown = problem.orderings[limiting][:, ~component] @ problem.values[~component]
    primary = problem.primary[columns]
    # a `hidden` (complementary) cell is never small: the reader knows it is at least k
    bounds = [(1, problem.min_cell - 1) if p else (problem.min_cell, None) for p in primary]
    objective = quantity[columns]
    spans = []
    for sign in (1.0, -1.0):
        found = linprog(
            sign * objective,
            A_ub=limits if len(limits) else None,
            b_ub=-limit_shown if len(limits) else None,
            A_eq=rows if len(rows) else None,
            b_eq=-shown if len(rows) else None,
            bounds=bounds,
            method="highs",
        )
        if found.status != 0:  # unbounded: far from pinned
            return False
        spans.append(sign * found.fun)
    return bool(abs(spans[0] - spans[1]) < max(0.5, problem.protection_range))


def _component(
    problem: Problem, hidden: np.ndarray, seeds: np.ndarray, links: np.ndarray | None = None
) -> np.ndarray:
    """The hidden cells linked to `seeds` through relations (and, with `links` =
    problem.all_links, orderings) that hold two hidden cells; an LP over them alone gives
    the same bounds as one over every hidden cell."""
    links = problem.equality_links if links is None else links
    component = seeds.copy()
    while True:
        rows = links[:, component].any(axis=1)
        grown = component | (links[rows].any(axis=0) & hidden)
        if (grown == component).all():
            return component
        component = grown


def _spanned(problem: Problem, hidden: np.ndarray, quantity: np.ndarray) -> bool:
    if not quantity[hidden].any():
        return True
    # the hidden cells linked to the quantity: other relations cannot involve it
    component = _component(problem, hidden, (quantity != 0) & hidden)
    target = quantity[component]
    restricted = problem.relations[:, component]
    restricted = restricted[np.abs(restricted).sum(axis=1) > 0]
    if restricted.shape[0] == 0:
        return False
    rank = np.linalg.matrix_rank(restricted)
    return bool(np.linalg.matrix_rank(np.vstack([restricted, target])) == rank)


def _costs(problem: Problem, total: str) -> np.ndarray:
    costs = problem.values.copy()
    for i, (period, name) in enumerate(problem.cells):
        if name in FUNNEL_TOP:
            costs[i] += _FUNNEL_COST
        if period == total:
            costs[i] += _TOTAL_COST
    return costs


def suppress(problem: Problem, total: str) -> dict[Cell, str]:
    """Hidden cells, each marked primary or complementary."""
    size = len(problem.cells)
    primary = problem.primary
    hidden = primary.copy()
    order = np.lexsort((np.arange(size), _costs(problem, total)))
    connected = problem.all_links
    for quantity in problem.protected:
        if not quantity[hidden].any():  # a small difference of two shown cells
            _hide_one(problem, hidden, quantity, order)
        while determined(problem, hidden, quantity):
            support = hidden | (quantity != 0)
            touching = connected[connected[:, support].any(axis=1)].any(axis=0) & ~hidden
            # a zero is never hidden: a reader may then take every `hidden` cell to be >= k
            candidates = [i for i in order if touching[i] and problem.values[i] != 0]
            if not candidates:  # every related cell is hidden already
                break
            # a cell that protects on its own; else the cheapest one that widens what is
            # unknown (a pair of them may be needed: a rectangle over tiers and months)
            helpful = next(
                (i for i in candidates if not determined(problem, _with(hidden, i), quantity)),
                next((i for i in candidates if _useful(problem, hidden, i)), candidates[0]),
            )
            hidden[helpful] = True
    _prune(problem, hidden, order)
    return {
        cell: PRIMARY if primary[i] else COMPLEMENTARY
        for i, cell in enumerate(problem.cells)
        if hidden[i]
    }


def _hide_one(
    problem: Problem, hidden: np.ndarray, quantity: np.ndarray, order: np.ndarray
) -> None:
    """Of two shown cells with a small difference, hide the one that costs less."""
    for i in order:
        if quantity[i] != 0 and problem.values[i] != 0:
            hidden[i] = True
            return


def _useful(problem: Problem, hidden: np.ndarray, index: int) -> bool:
    """Hiding a cell the shown ones determine anyway protects nothing."""
    return not _spanned(problem, _with(hidden, index), np.eye(len(hidden))[index])


def _prune(problem: Problem, hidden: np.ndarray, order: np.ndarray) -> None:
    """Show again, costliest first, every complementary cell the protection does not need."""
    for i in order[::-1]:
        if not hidden[i] or problem.primary[i]:
            continue
        hidden[i] = False
        seeds = np.zeros_like(hidden)
        seeds[i] = True
        near = _component(problem, _with(hidden, i), seeds, problem.all_links)
        affected = [q for q in problem.protected if (q[near] != 0).any()]
        if any(_spanned(problem, hidden, q) for q in affected) or any(
            _pinned(problem, hidden, q) for q in affected
        ):
            hidden[i] = True


def _with(hidden: np.ndarray, index: int) -> np.ndarray:
    more = hidden.copy()
    more[index] = True
    return more
