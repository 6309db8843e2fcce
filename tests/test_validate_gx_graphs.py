"""GX's metric plans kept over a loop of windows (validate/gx_graphs.py) give the results GX
gives planning every validation anew."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from gx_tables import VOCABULARY, WINDOW_END, keeping_results, make_dirty_frames, make_review
from hyposcreen.validate import batches, context, gx_graphs
from hyposcreen.validate import gx as v
from hyposcreen.validate.remembered import remembering_results


def _nights() -> list[tuple[dict[str, pd.DataFrame], pd.Timestamp, pd.DataFrame]]:
    """Three nights whose every table differs from the night before (no result is reused:
    every table is validated, its plans kept or not), the second one's review list broken."""
    nights = []
    for night in range(3):
        frames = {name: frame.iloc[night:] for name, frame in make_dirty_frames().items()}
        review = make_review(3 + night)
        if night == 1:
            review["rank"] = [1, 1, 3, 9]  # ranks 1..n: failing rows
        nights.append((frames, WINDOW_END + pd.Timedelta(days=night), review))
    return nights


def _gx_results(monkeypatch: pytest.MonkeyPatch, narrow: bool) -> list[str]:
    """Every batch result GX returned over the nights (meta left out: it holds load times),
    and every outcome the reports hold."""
    seen: list[str] = []
    validate = context._validate

    with monkeypatch.context() as patch:
        patch.setattr(context, "_validate", keeping_results(validate, seen))
        if narrow:
            patch.setattr(batches, "NARROW_FROM_ROWS", 0)
        for frames, window_end, review in _nights():
            tables = v.validate_tables(frames, window_end=window_end)
            checked = v.validate_review_list(review, VOCABULARY)
            for report in (tables, checked):
                seen += [json.dumps(o.as_dict(), sort_keys=True) for o in report.outcomes]
    return seen


@pytest.mark.parametrize("narrow", [False, True])
def test_kept_plans_give_gx_results_unchanged(
    monkeypatch: pytest.MonkeyPatch, narrow: bool
) -> None:
    """Every suite over three nights, failing rows of every kind, whole and narrow batches,
    pass/fail only and complete results, the night's window_end: the same results with the
    plans kept over the nights as planned anew every validation."""
    plain = _gx_results(monkeypatch, narrow)
    assert not gx_graphs._GRAPHS  # no loop: nothing kept
    with remembering_results():  # the nights as one loop
        kept = _gx_results(monkeypatch, narrow)
        planned = len(gx_graphs._GRAPHS)
        assert planned and gx_graphs._DEPENDENCIES
        _gx_results(monkeypatch, narrow)  # the same nights again (some results reused)
        assert len(gx_graphs._GRAPHS) == planned  # every plan known: none made anew
    assert not gx_graphs._GRAPHS and not gx_graphs._DEPENDENCIES  # the loop left: forgotten
    assert len(kept) == len(plain) >= 12
    assert kept == plain
    assert any('"success": false' in result for result in kept)


def test_typed_keys_tell_values_of_other_types_apart() -> None:
    import datetime

    values: list[Any] = [1, 1.0, True, "1", np.float64(1.0), None, "None", [1], (1,), {"a": 1}]
    values += [{1}, frozenset({1}), datetime.date(2026, 11, 21), pd.Timestamp("2026-11-21")]
    keys = [gx_graphs.typed_key(value) for value in values]
    assert len(set(keys)) == len(values)
    assert gx_graphs.typed_key({"a": [1, {"b": None}]}) == gx_graphs.typed_key(
        {"a": [1, {"b": None}]}
    )


@pytest.mark.parametrize(
    "value", [np.arange(2000), pd.Series([1, 2]), {"value_set": [object()]}, [pd.DataFrame()]]
)
def test_a_value_whose_text_may_leave_values_out_is_not_keyed(value: Any) -> None:
    """(an array's text leaves out the middle of a long one: two arrays could read alike)"""
    with pytest.raises(gx_graphs.Unkeyable):
        gx_graphs.typed_key(value)
    assert gx_graphs.configuration_key(_Configuration(value)) is None


class _Configuration:
    def __init__(self, value: Any) -> None:
        self._kwargs = {"value_set": value}
