"""A table to validate of which only some columns are in memory.

A partitioned run validates the whole tables, gathered from their partitions' files. Of a
table's columns validation reads every value of only a few (those its checks read and those
the derived columns come from: `columns_read`); of the others it needs the names and dtypes
(the column-set and one-of checks, the time dtype checks) and, for the few rows a failing
check cites, the values its examples and details quote (`file:row`, `detail_columns`). A
PartialTable holds just that: the columns read, every column as a frame without rows, and a
way to read given rows of any column. 20M lab rows validate without gathering the 6 of 13
columns that no check reads row by row (~0.25 GB at 20M rows).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from hyposcreen.validate.batches import NAMES_ONLY
from hyposcreen.validate.derived import BLANK_AS_MISSING, derived_inputs, value_inputs
from hyposcreen.validate.outcomes import MAX_EXAMPLES
from hyposcreen.validate.results import index_labels
from hyposcreen.validate.suites import load_suite_spec, referenced_columns

NOT_NULL = "expect_column_values_to_not_be_null"


@dataclass(frozen=True)
class PartialTable:
    """`frame`: the columns validation reads row by row (at least `columns_read`), indexed by
    the rows' labels; `columns`: every column of the table, in order, as a frame without
    rows (names and dtypes); `rows(labels, names)`: the columns `names` at the row labels
    `labels`, indexed by them."""

    frame: pd.DataFrame
    columns: pd.DataFrame
    rows: Callable[[list[int], list[str]], pd.DataFrame]


def columns_read(table: str, names: list[str], suites_dir: Path | None = None) -> set[str]:
    """The columns of `names` whose every value validating `table` reads: what its checks
    other than the column-name checks name, and the inputs of its derived columns."""
    spec = load_suite_spec(table, suites_dir)
    read: set[str] = set()
    for expectation in spec["expectations"]:
        if expectation["type"] not in NAMES_ONLY:
            read |= referenced_columns(expectation)
    return (read | derived_inputs(table, set(names))) & set(names)


def presence_read(table: str, names: list[str], suites_dir: Path | None = None) -> set[str]:
    """The columns of `names` validation reads only as present or missing (blank text counts
    as missing, derived.BLANK_AS_MISSING): each checked by `expect_column_values_to_not_be_null`
    alone, without a row condition, named by no other check and read by no derived column."""
    spec = load_suite_spec(table, suites_dir)
    have = set(names)
    found = (set(BLANK_AS_MISSING.get(table, ())) & have) - value_inputs(table, have)
    for expectation in spec["expectations"]:
        kind, kwargs = expectation["type"], expectation.get("kwargs", {})
        if kind in NAMES_ONLY or (kind == NOT_NULL and not kwargs.get("row_condition")):
            continue
        found -= referenced_columns(expectation)
    return found


def cited_labels(suite_result: Any) -> list[int]:
    """The row labels a suite result's outcomes quote: the first MAX_EXAMPLES failing rows of
    each failed expectation (validate/results.py)."""
    cited: set[int] = set()
    for result in suite_result.results:
        if not result.success:
            found = index_labels((result.result or {}).get("unexpected_index_list"))
            cited.update(found[:MAX_EXAMPLES])
    return sorted(cited)
