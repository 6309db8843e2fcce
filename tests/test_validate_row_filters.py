"""GX's row-condition filter made once per batch frame and condition (validate/gx_speedups.py):
the same filtered rows GX makes, never the rows of another frame or another condition."""

from __future__ import annotations

import contextlib
from typing import Any

import pandas as pd
import pytest

from gx_tables import WINDOW_END, keeping_results, make_dirty_frames
from hyposcreen.validate import batches, context
from hyposcreen.validate import gx as v
from hyposcreen.validate.gx_import import import_gx
from hyposcreen.validate.gx_speedups import install, memoized_configurations

EQUALS_X = {"type": "comparison", "column": {"name": "a"}, "operator": "==", "parameter": "x"}
EQUALS_Y = {**EQUALS_X, "parameter": "y"}


def _engine() -> Any:
    import_gx()
    assert install()
    from great_expectations.execution_engine import PandasExecutionEngine

    return PandasExecutionEngine()


def test_a_filter_is_made_once_per_frame_and_condition_only_while_memoised() -> None:
    engine = _engine()
    frame = pd.DataFrame({"a": ["x", "y", "x"], "v": [1, 2, 3]})
    same_values = frame.copy()
    other = pd.DataFrame({"a": ["y", "y", "x"], "v": [1, 2, 3]})
    with memoized_configurations():
        first = engine._apply_row_condition_filter(frame, EQUALS_X, {})
        assert list(first.index) == [0, 2]
        assert engine._apply_row_condition_filter(frame, EQUALS_X, {}) is first
        # another condition on the same frame, the same condition on another frame: filtered
        assert list(engine._apply_row_condition_filter(frame, EQUALS_Y, {}).index) == [1]
        assert list(engine._apply_row_condition_filter(other, EQUALS_X, {}).index) == [2]
        copy = engine._apply_row_condition_filter(same_values, EQUALS_X, {})
        assert copy is not first and list(copy.index) == [0, 2]
    outside = engine._apply_row_condition_filter(frame, EQUALS_X, {})
    assert outside is not first and list(outside.index) == [0, 2]  # GX's own: anew each time


def _counted_queries(monkeypatch: pytest.MonkeyPatch, memo: bool) -> tuple[int, list[str]]:
    """How many times pandas' query ran validating the dirty tables in narrow batches, and
    every batch result GX returned (meta left out: it holds load times)."""
    queries, seen = [0], []
    query, validate = pd.DataFrame.query, context._validate

    def counted(self: pd.DataFrame, *args: Any, **kwargs: Any) -> Any:
        queries[0] += 1
        return query(self, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(pd.DataFrame, "query", counted)
        patch.setattr(context, "_validate", keeping_results(validate, seen))
        patch.setattr(batches, "NARROW_FROM_ROWS", 0)
        if not memo:
            patch.setattr(context, "memoized_configurations", contextlib.nullcontext)
        v.validate_tables(make_dirty_frames(), window_end=WINDOW_END)
    return queries[0], seen


def test_row_conditions_filter_once_per_expectation_with_gx_results(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The labs suite has row conditions (the unit check, a range per analyte): without the
    memo GX filters each batch once per metric, with it once per expectation; the results
    are GX's either way, failing rows included."""
    once, with_memo = _counted_queries(monkeypatch, memo=True)
    every_metric, without = _counted_queries(monkeypatch, memo=False)
    assert with_memo == without
    assert any('"success": false' in result for result in with_memo)
    conditions = sum(result.count('"row_condition"') for result in with_memo)
    assert 0 < once <= conditions < every_metric
