"""One suite validated as several narrow GX batches of one view, its results put back together
as the one suite result GX would have returned.

GX's pandas engine copies its batch for almost every expectation: every `row_condition` is a
filtered copy of the whole batch (made again for each metric of the expectation: its row
count, column types, map condition, failing rows), and most column checks first copy the
batch without the rows whose column is missing. On a view of ten columns each copy moves ten
columns; on a million-row lab table a suite of 20 expectations moved the whole view ~40 times,
and at 20M rows the copies were where a partitioned run reached its memory peak.

An expectation's result depends only on the columns it names (column, column pair, row
condition) and on the batch's `_row` index (its failing rows' labels), so the suite is split
by the column an expectation checks: every expectation on one column is validated, unchanged
(row conditions, `mostly`, result format), on a batch holding that column, the columns its
expectations' conditions name, and the index; expectations that read only the table's column
names (`expect_table_columns_to_match_set`, ...) run on a batch of no rows with the view's
column names. A view of fewer than NARROW_FROM_ROWS rows (the sample, the review list) is one
batch: there GX's fixed cost per batch (~10 ms) outweighs its copies. Each batch's results
come from GX's own validator; they are put back in the
suite's order with GX's statistics (`calc_validation_statistics`), as `validate_expectation_
suite` assembles them. What differs from one batch: the result's batch markers hold the first
batch's load time and no `pandas_data_fingerprint` (GX's md5 over every value of a batch,
which GX itself leaves out above 1 GB; validate/context.py turns it off).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from hyposcreen.validate.outcomes import ROW_ID
from hyposcreen.validate.suites import TABLE_LEVEL_PREFIXES, referenced_columns

# expectations that read the batch's column names only (GX metric table.columns)
NAMES_ONLY = (
    "expect_table_columns_to_match_set",
    "expect_table_columns_to_match_ordered_list",
    "expect_column_to_exist",
)
_NAMES = "\0names"  # the group of NAMES_ONLY expectations
NARROW_FROM_ROWS = 20_000  # a view with fewer rows is validated as one batch
_WHOLE = "\0whole"  # any other table-level expectation: the whole view


@dataclass(frozen=True)
class Batch:
    """A narrow batch of the view and the positions, in the suite, of the expectations it
    validates."""

    frame: pd.DataFrame
    positions: tuple[int, ...]


def suite_batches(
    expectations: Sequence[dict[str, Any]], view: pd.DataFrame, columns: Sequence[str]
) -> Iterator[Batch]:
    """The suite's expectations grouped by the column they check, each group with its batch,
    in the order of each group's first expectation. `columns` are the names the table-level
    checks see (the view's columns, and those GX never reads the values of). Made one at a
    time as they are asked for: a batch of the rows a condition keeps is a copy of them, let
    go once validated rather than held beside the batches after it."""
    if len(view) < NARROW_FROM_ROWS:  # GX's fixed cost per batch outweighs its copies
        yield Batch(_whole(view, columns), tuple(range(len(expectations))))
        return
    groups: dict[str, list[int]] = {}
    for position, expectation in enumerate(expectations):
        groups.setdefault(_group(expectation), []).append(position)
    if not groups:  # nothing to check: GX still reports the batch (meta, batch id)
        yield Batch(_names_only(view, columns), ())
        return
    for group, positions in groups.items():
        if group == _NAMES:
            yield Batch(_names_only(view, columns), tuple(positions))
            continue
        if group == _WHOLE:
            yield Batch(view, tuple(positions))
            continue
        rest = []
        for position in positions:
            selected = _rows_selected(expectations[position], view)
            if selected is None:
                rest.append(position)
                continue
            narrow = _columns_read(view, [expectations[position]])
            yield Batch(narrow.take(np.flatnonzero(selected)), (position,))
        if rest:
            yield Batch(_columns_read(view, [expectations[p] for p in rest]), tuple(rest))


def _columns_read(view: pd.DataFrame, expectations: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """The view's columns the expectations name, in the view's order (no copy)."""
    wanted: set[str] = set()
    for expectation in expectations:
        wanted |= referenced_columns(expectation)
    return view[[c for c in view.columns if c in wanted]]


def _rows_selected(expectation: dict[str, Any], view: pd.DataFrame) -> np.ndarray | None:
    """For an expectation whose row_condition is `column == value`: the rows of the view that
    satisfy it. GX keeps only these rows for every metric of the expectation (filtering its
    batch again for each); on a batch of these rows the condition keeps them all, so GX's
    result is the same, at the cost of the rows that match. None for any other expectation."""
    condition = expectation.get("kwargs", {}).get("row_condition")
    if not isinstance(condition, dict) or condition.get("type") != "comparison":
        return None
    column = condition.get("column", {}).get("name")
    value = condition.get("parameter")
    if condition.get("operator") != "==" or column not in view.columns:
        return None
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        return None
    return np.asarray(view[column] == value, dtype=bool)


def _group(expectation: dict[str, Any]) -> str:
    kind = str(expectation["type"])
    if kind in NAMES_ONLY:
        return _NAMES
    if kind.startswith(TABLE_LEVEL_PREFIXES):
        return _WHOLE
    kwargs = expectation.get("kwargs", {})
    for key in ("column", "column_A"):
        if isinstance(kwargs.get(key), str):
            return str(kwargs[key])
    return _WHOLE  # a multicolumn check: the whole view


def _whole(view: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """The view with every column of `columns`, in their order: one only a column-name check
    names (its values unread by any expectation) is a column of nulls."""
    if list(view.columns) == list(columns):
        return view
    nulls = pd.Series(None, index=view.index, dtype="object")
    frame = pd.DataFrame(
        {c: view[c] if c in view.columns else nulls for c in columns}, index=view.index, copy=False
    )
    frame.index.name = ROW_ID
    return frame


def _names_only(view: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """No rows, the given column names in their order (a column's dtype as in the view)."""
    empty = {
        c: view[c].iloc[:0] if c in view.columns else pd.Series([], dtype="object") for c in columns
    }
    frame = pd.DataFrame(empty, index=view.index[:0], copy=False)
    frame.index.name = ROW_ID
    return frame


def gx_order(expectations: Sequence[dict[str, Any]]) -> list[int]:
    """The positions of `expectations` in the order GX's validator evaluates and reports them
    (`Validator.process_expectations_for_validation`, GX 1.x): grouped by their `column`
    kwarg, the groups in order of first appearance, every expectation without a `column`
    (table-level, column pair) in one group; the suite's order within a group."""
    groups: dict[str, list[int]] = {}
    for position, expectation in enumerate(expectations):
        column = expectation.get("kwargs", {}).get("column")
        groups.setdefault(column if isinstance(column, str) else "_nocolumn", []).append(position)
    return [position for group in groups.values() for position in group]


def merged_result(
    suite: Any,
    expectations: Sequence[dict[str, Any]],
    parts: Sequence[tuple[tuple[int, ...], Any]],
) -> Any | None:
    """The batches' GX results as the one suite result GX reports for the whole suite: in its
    order (gx_order), with GX's own statistics, meta of the first batch (its markers without
    a data fingerprint). None when a batch's results do not line up with its expectations
    (an expectation GX could not evaluate may be reported out of order): the caller then
    validates the suite on its whole view. `parts`: each batch's positions in the suite and
    GX's result on it."""
    from great_expectations.core.expectation_validation_result import (
        ExpectationSuiteValidationResult,
    )
    from great_expectations.validator.validator import calc_validation_statistics

    by_position: dict[int, Any] = {}
    for positions, part in parts:
        order = gx_order([expectations[i] for i in positions])
        if len(part.results) != len(order):
            return None
        for k, result in zip(order, part.results, strict=True):
            by_position[positions[k]] = result
    results = [by_position[position] for position in gx_order(expectations)]
    if not all(_same(r.expectation_config, expectations[p]) for p, r in by_position.items()):
        return None
    statistics = calc_validation_statistics(results)
    first = parts[0][1] if parts else None
    meta = dict(first.meta) if first is not None else {}
    if "batch_markers" in meta:
        markers = {k: v for k, v in meta["batch_markers"].items() if k != "pandas_data_fingerprint"}
        meta["batch_markers"] = type(meta["batch_markers"])(markers)
    return ExpectationSuiteValidationResult(
        results=results,
        success=statistics.success,
        suite_name=suite.name,
        statistics={
            "evaluated_expectations": statistics.evaluated_expectations,
            "successful_expectations": statistics.successful_expectations,
            "unsuccessful_expectations": statistics.unsuccessful_expectations,
            "success_percent": statistics.success_percent,
        },
        meta=meta,
        batch_id=first.batch_id if first is not None else None,
    )


def _same(config: Any, expectation: dict[str, Any]) -> bool:
    """Whether GX's result is that of `expectation` (its type and the columns it checks)."""
    kwargs = expectation.get("kwargs", {})
    return config.type == expectation["type"] and all(
        config.kwargs.get(key) == kwargs.get(key) for key in ("column", "column_A", "column_B")
    )
