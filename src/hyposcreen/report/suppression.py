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

import numpy as np
from scipy.optimize import linprog

from hyposcreen.report.suppression_problem import Cell, Ordering, Problem, build_problem

__all__ = ["Cell", "Ordering", "Problem", "build_problem", "determined", "suppress"]

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


def determined(
    problem: Problem, hidden: np.ndarray, quantity: np.ndarray, need: float | None = None
) -> bool:
    """True when `quantity` follows from the shown cells and the relations: by linear algebra
    alone, or once the bounds a reader knows are used (a `<k` cell is 1 to k-1, a `hidden`
    one at least k): two `<11` cells of a relation whose hidden part sums to 2 are both 1;
    a `<11` and a `hidden` cell summing to 12 are 1 and 11. Narrowed to a range shorter than
    `need` (default problem.protection_range) counts as determined too."""
    need = problem.protection_range if need is None else need
    return _spanned(problem, hidden, quantity) or _pinned(problem, hidden, quantity, need)


def _pinned(problem: Problem, hidden: np.ndarray, quantity: np.ndarray, need: float) -> bool:
    """The lowest and the highest value of `quantity` over every table consistent with what
    is shown (linear programming, HiGHS) are the same, or closer than `need`. A `<2` cell is
    1 by its mark alone: nothing further can hide it, so it does not count as pinned."""
    if problem.min_cell <= 2 and np.count_nonzero(quantity) == 1:
        if problem.primary[quantity != 0].all():
            return False
    return _spread(problem, hidden, quantity) < max(0.5, need)


def _needs(problem: Problem) -> list[float]:
    """Per protected quantity, the range it must keep: problem.protection_range, or less when
    even hiding every non-zero cell leaves it narrower (a total of two `<5` months is 2 to 4
    whatever else is hidden): hiding more cannot help there."""
    everything = (problem.values != 0) | problem.primary
    return [
        min(problem.protection_range, _spread(problem, everything, quantity))
        for quantity in problem.protected
    ]


def _spread(problem: Problem, hidden: np.ndarray, quantity: np.ndarray) -> float:
    """Highest minus lowest value of `quantity` over every table consistent with what is
    shown (linear programming, HiGHS); infinite when unbounded."""
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
            return float("inf")
        spans.append(sign * found.fun)
    return float(abs(spans[0] - spans[1]))


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
    needs = _needs(problem)
    for quantity, need in zip(problem.protected, needs, strict=True):
        if not quantity[hidden].any():  # a small difference of two shown cells
            _hide_one(problem, hidden, quantity, order)
        while determined(problem, hidden, quantity, need):
            support = hidden | (quantity != 0)
            touching = connected[connected[:, support].any(axis=1)].any(axis=0) & ~hidden
            # a zero is never hidden: a reader may then take every `hidden` cell to be >= k
            candidates = [i for i in order if touching[i] and problem.values[i] != 0]
            if not candidates:  # every related cell is hidden already
                break
            # a cell that protects on its own; else the cheapest one that widens what is
            # unknown (a pair of them may be needed: a rectangle over tiers and months)
            helpful = next(
                (
                    i
                    for i in candidates
                    if not determined(problem, _with(hidden, i), quantity, need)
                ),
                next((i for i in candidates if _useful(problem, hidden, i)), candidates[0]),
            )
            hidden[helpful] = True
    _prune(problem, hidden, order, needs)
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


def _prune(problem: Problem, hidden: np.ndarray, order: np.ndarray, needs: list[float]) -> None:
    """Show again, costliest first, every complementary cell the protection does not need."""
    for i in order[::-1]:
        if not hidden[i] or problem.primary[i]:
            continue
        hidden[i] = False
        seeds = np.zeros_like(hidden)
        seeds[i] = True
        near = _component(problem, _with(hidden, i), seeds, problem.all_links)
        affected = [
            (q, need)
            for q, need in zip(problem.protected, needs, strict=True)
            if (q[near] != 0).any()
        ]
        if any(_spanned(problem, hidden, q) for q, _ in affected) or any(
            _pinned(problem, hidden, q, need) for q, need in affected
        ):
            hidden[i] = True


def _with(hidden: np.ndarray, index: int) -> np.ndarray:
    more = hidden.copy()
    more[index] = True
    return more
