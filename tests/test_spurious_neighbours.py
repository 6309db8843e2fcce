"""The spec §8 delta check found with one sort of the results (screen/neighbours.py) flags
the same results, with the same neighbouring rows, as the window query it stands in for
(serial._SPURIOUS_SQL): results at the same time, missing values, times and patients,
neighbours just inside and outside the window, drops of exactly the limit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hyposcreen.rules.loader import load_rules
from hyposcreen.screen import serial
from hyposcreen.screen.engine import Tables, microseconds
from hyposcreen.screen.neighbours import spurious_of_table


def _results(seed: int, count: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    start = np.datetime64("2026-11-01T00:00:00", "us")
    hours = rng.choice([0, 1, 2, 23, 24, 25, 48, 72], size=count).cumsum() % 400
    minutes = rng.choice([0, 0, 0, 30, 59], size=count)
    times = start + (hours * 60 + minutes).astype("timedelta64[m]")
    times[rng.random(count) < 0.03] = np.datetime64("NaT")
    value = rng.choice([120.0, 130.0, 134.2 + 0.8, 140.0, 135.0, 125.0, 145.0], size=count)
    value[rng.random(count) < 0.05] = np.nan
    patient = rng.choice(["p1", "p2", " p3", "p4"], size=count).astype(object)
    patient[rng.random(count) < 0.03] = None
    return pd.DataFrame(
        {
            "patient_id": pd.Series(patient, dtype="str"),
            "specimen_time": pd.Series(times),
            "corrected_sodium": value,
        }
    ).assign(row=np.arange(count))


@pytest.mark.parametrize("seed", range(8))
def test_the_sorted_check_flags_as_the_window_query_does(seed: int) -> None:
    rules = load_rules()
    frame = _results(seed, 400)
    window_us = microseconds(pd.Timedelta(hours=rules.windows.spurious_neighbour_hours))
    drop = float(rules.limits.spurious_drop_mmol_l)
    with Tables({"results": frame}) as db:
        by_query = db.query(
            serial._SPURIOUS_SQL,
            {"window_us": window_us, "drop": drop},
            {"row": "int64", "before_row": "int64", "after_row": "int64"},
        )
        table = db.arrow("results")
        assert table is not None
        by_sort = spurious_of_table(table, window_us, drop)
        assert by_sort is not None
        pd.testing.assert_frame_equal(by_sort, by_query.reset_index(drop=True))
        found = serial.spurious_neighbours(db, rules)
    pd.testing.assert_frame_equal(found, by_query.reset_index(drop=True))
    assert len(by_query)  # the data has flagged results


def test_times_in_nanoseconds_are_left_to_the_query() -> None:
    rules = load_rules()
    frame = _results(1, 50)
    frame["specimen_time"] = frame["specimen_time"].astype("datetime64[ns]")
    with Tables({"results": frame}) as db:
        table = db.arrow("results")
        assert table is not None
        assert spurious_of_table(table, 1, 10.0) is None
        assert list(serial.spurious_neighbours(db, rules).columns) == [
            "row",
            "before_row",
            "after_row",
        ]


def test_a_nan_that_is_no_null_is_left_to_the_query() -> None:
    import pyarrow as pa

    from hyposcreen.screen.engine import ArrowFrame

    rules = load_rules()
    frame = _results(2, 80)
    table = pa.Table.from_pandas(frame, preserve_index=False).set_column(
        2, "corrected_sodium", pa.array(frame["corrected_sodium"].to_numpy(), from_pandas=False)
    )
    assert spurious_of_table(table, 1, 10.0) is None
    with Tables({"results": ArrowFrame(table, frame.dtypes)}) as db:
        found = serial.spurious_neighbours(db, rules)
        by_query = db.query(
            serial._SPURIOUS_SQL,
            {
                "window_us": microseconds(
                    pd.Timedelta(hours=rules.windows.spurious_neighbour_hours)
                ),
                "drop": float(rules.limits.spurious_drop_mmol_l),
            },
            {"row": "int64", "before_row": "int64", "after_row": "int64"},
        )
    pd.testing.assert_frame_equal(found, by_query)
