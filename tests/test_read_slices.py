"""A window's rows cut from one read: a slice of the read when they are consecutive, the same
frame a copy of those rows gives (recipe_read.rows_kept)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hyposcreen.recipe_read import rows_in_range, rows_kept


def _read(times: list[str | None]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "specimen_time": pd.to_datetime(pd.Series(times)).astype("datetime64[us]"),
            "patient_id": pd.Series([f"P{i}" for i in range(len(times))], dtype="str"),
            "value": np.arange(len(times), dtype="float64"),
        }
    )


@pytest.mark.parametrize(
    "times",
    [
        # in time order: the window's rows are consecutive (a slice)
        ["2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04", "2026-11-05"],
        # an undated row inside the range of kept rows: still consecutive
        ["2026-11-01", "2026-11-02", None, "2026-11-03", "2026-11-06"],
        # an undated row far from the window and rows out of order: not consecutive (a copy)
        [None, "2026-11-05", "2026-11-02", "2026-11-01", "2026-11-03"],
        # no row in the window
        ["2026-10-01", "2026-10-02"],
    ],
)
def test_a_cut_is_the_rows_in_range_whether_sliced_or_copied(times: list[str | None]) -> None:
    read = _read(times)
    keep = rows_in_range(
        read, "specimen_time", pd.Timestamp("2026-11-02"), pd.Timestamp("2026-11-04")
    )
    cut = rows_kept(read, keep)
    expected = read.loc[keep].reset_index(drop=True)
    pd.testing.assert_frame_equal(cut, expected)
    assert isinstance(cut.index, pd.RangeIndex)
    # hand-checked: every kept row is undated or dated in [2 Nov, 4 Nov)
    dated = cut["specimen_time"].dropna()
    assert ((dated >= "2026-11-02") & (dated < "2026-11-04")).all()


def test_a_sliced_cut_changes_nothing_in_the_read() -> None:
    read = _read(["2026-11-01", "2026-11-02", "2026-11-03", "2026-11-05"])
    keep = rows_in_range(
        read, "specimen_time", pd.Timestamp("2026-11-02"), pd.Timestamp("2026-11-04")
    )
    cut = rows_kept(read, keep)
    assert cut["patient_id"].tolist() == ["P1", "P2"]
    cut["value"] = -1.0
    cut.loc[0, "patient_id"] = "changed"
    assert read["value"].tolist() == [0.0, 1.0, 2.0, 3.0]
    assert read["patient_id"].tolist() == ["P0", "P1", "P2", "P3"]
