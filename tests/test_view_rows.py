"""The windows of one read validate rows of the read's labs: while a loop remembers, a night's
view is cut from the view of the read (validate/view_rows.py), with the values, dtypes and
categories (in first-appearance order, unused ones dropped) that building the night's view
gives, and the contracts' outcomes of the night are those of a lone run. Real GX."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from gx_tables import WINDOW_END, make_dirty_frames
from hyposcreen.validate import gx as v
from hyposcreen.validate import run
from hyposcreen.validate.remembered import remembering_results
from hyposcreen.validate.suites import load_suite_spec
from hyposcreen.validate.view_rows import rows_of_view, view_of_rows
from hyposcreen.validate.views import table_view


def _read_labs() -> pd.DataFrame:
    """The dirty labs four times over, each copy's rows in another order (so that the
    categories of a cut first appear in another order than in the read) with the clean
    stage's reason as the pipeline validates it."""
    labs = make_dirty_frames()["labs"]
    copies = [labs.iloc[np.random.default_rng(n).permutation(len(labs))] for n in range(4)]
    read = pd.concat(copies, ignore_index=True)
    reasons = np.resize(np.array([None, "duplicate", None, "non_numeric", None]), len(read))
    return read.assign(reason=pd.Categorical(reasons))


def _view(frame: pd.DataFrame) -> Any:
    return table_view("labs", frame, None, load_suite_spec("labs"), None)


def _same_view(cut: pd.DataFrame, built: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(cut, built, check_categorical=True, check_exact=True)
    for column, series in built.items():
        if isinstance(series.dtype, pd.CategoricalDtype):
            assert cut[column].cat.categories.tolist() == series.cat.categories.tolist()
            assert cut[column].cat.categories.dtype == series.cat.categories.dtype
            assert cut[column].cat.codes.dtype == series.cat.codes.dtype


@pytest.mark.parametrize("rows", ["run", "scattered", "one", "none"])
def test_a_nights_view_cut_from_the_reads_is_the_view_built_of_its_rows(rows: str) -> None:
    read = _read_labs()
    positions = {
        "run": np.arange(9, 30),
        "scattered": np.flatnonzero(np.arange(len(read)) % 3 != 1),
        "one": np.array([17]),
        "none": np.array([], dtype=np.int64),
    }[rows]
    night = read.iloc[positions].reset_index(drop=True)
    view, _, _ = _view(read)
    built, _, _ = _view(night)
    assert any(isinstance(d, pd.CategoricalDtype) for d in built.dtypes)
    _same_view(rows_of_view(view, positions, night.index), built)


def test_a_loop_builds_the_reads_view_once_and_every_night_validates_as_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    read = _read_labs()
    built: list[int] = []
    monkeypatch.setattr(run, "table_view", lambda *a, **k: built.append(len(a[1])) or _view(a[1]))
    nights = [np.arange(0, 20), np.arange(13, 40), np.flatnonzero(np.arange(len(read)) % 2)]
    with remembering_results():
        for positions in nights:
            night = read.iloc[positions].reset_index(drop=True)
            alone = v.validate_tables({"labs": night}, window_end=WINDOW_END).outcomes
            cut = v.validate_tables(
                {"labs": night}, window_end=WINDOW_END, read_rows={"labs": (read, positions)}
            ).outcomes
            assert [o.as_dict() for o in cut] == [o.as_dict() for o in alone]
    # each night alone builds its view; the cut nights build the read's view once
    assert built.count(len(read)) == 1
    assert sorted(n for n in built if n != len(read)) == sorted(len(p) for p in nights)


def test_a_view_is_not_cut_outside_a_loop_nor_from_a_column_held_as_a_categorical() -> None:
    read = _read_labs()
    positions = np.arange(5, 25)
    night = read.iloc[positions].reset_index(drop=True)
    spec = load_suite_spec("labs")
    assert view_of_rows("labs", read, positions, night, spec, (), _view) is None  # no loop
    with remembering_results():
        assert view_of_rows("labs", read, positions, night, spec, (), _view) is not None
        # patient ids held as a categorical keep every category in the night's view
        held = read.assign(patient_id=read["patient_id"].astype("category"))
        assert view_of_rows("labs", held, positions, night, spec, (), _view) is None
