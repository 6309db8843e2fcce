"""The screen's DuckDB engine: in memory, no file access, pandas' rounding, typed results."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from hyposcreen.screen.engine import ArrowFrame, Tables, connect, nanoseconds, run_query


def test_connection_may_not_read_files() -> None:
    connection = connect()
    with pytest.raises(duckdb.PermissionException):
        connection.execute("SELECT * FROM read_csv('/etc/hostname')")
    connection.close()


def test_round9_rounds_like_pandas_including_halves() -> None:
    # 2.5e-9 and 0.5e-9 are exact halves at 9 decimals: pandas rounds them to even (2e-9, 0)
    values = pd.Series([2.5e-9, 0.5e-9, -1.5e-9, 135.00000000000003, 0.1 + 0.2, 134.2 + 0.8])
    got = run_query("SELECT round9(x) AS r FROM t", {"t": pd.DataFrame({"x": values})})
    assert got["r"].tolist() == values.round(9).tolist()
    assert got["r"].tolist()[:3] == [2e-9, 0.0, -2e-9]


def test_round9_agrees_with_pandas_on_differences() -> None:
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        {"a": np.round(rng.normal(130, 6, 5000), 1), "b": np.round(rng.normal(130, 6, 5000), 1)}
    )
    got = run_query("SELECT round9(b - a) AS r FROM t", {"t": frame})
    assert (got["r"].to_numpy() == (frame["b"] - frame["a"]).round(9).to_numpy()).all()


def test_run_query_binds_parameters_and_casts_dtypes() -> None:
    frame = pd.DataFrame(
        {
            "patient_id": pd.Series(["P2", "P1", "P1"], dtype="str"),
            "time": pd.Series(
                pd.to_datetime(["2026-11-20 10:00", "2026-11-20 08:00", "2026-11-20 09:00"])
            ).astype("datetime64[us]"),
        }
    )
    got = run_query(
        "SELECT patient_id, time FROM t WHERE epoch_ns(time) >= $from ORDER BY patient_id, time",
        {"t": frame},
        {"from": nanoseconds(pd.Timestamp("2026-11-20 09:00"))},
        {"time": "datetime64[us]"},
    )
    assert got["patient_id"].tolist() == ["P1", "P2"]
    assert got["time"].tolist() == [
        pd.Timestamp("2026-11-20 09:00"),
        pd.Timestamp("2026-11-20 10:00"),
    ]
    assert str(got["time"].dtype) == "datetime64[us]"


def test_empty_result_keeps_its_columns() -> None:
    frame = pd.DataFrame({"x": [1.0]})
    got = run_query("SELECT x FROM t WHERE x > 5", {"t": frame}, dtypes={"x": "float64"})
    assert got.empty and list(got.columns) == ["x"] and str(got["x"].dtype) == "float64"


def test_nanoseconds_of_times_and_durations() -> None:
    assert nanoseconds(pd.Timedelta(minutes=60)) == 3_600_000_000_000
    assert nanoseconds(pd.Timestamp("1970-01-01 00:00:01")) == 1_000_000_000


def test_queries_from_threads_see_only_their_own_tables() -> None:
    from concurrent.futures import ThreadPoolExecutor

    def total(n: int) -> float:
        frame = pd.DataFrame({"x": [float(n)] * (n + 1)})
        return float(run_query("SELECT sum(x) AS s FROM t", {"t": frame})["s"].iloc[0])

    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(total, range(40)))
    assert got == [float(n * (n + 1)) for n in range(40)]


def test_a_frame_changed_in_place_after_registering_is_registered_again() -> None:
    # the same small frame is not converted twice, but one whose values changed is
    cases = pd.DataFrame({"patient_id": pd.Series(["P1", "P2"], dtype="str"), "n": [1, 2]})
    with Tables() as db:
        db.register("cases", cases)
        db.register("cases", cases.copy())  # equal: kept as registered
        assert db.query("SELECT sum(n) AS s FROM cases")["s"].tolist() == [3]
        cases.loc[1, "n"] = 5
        db.register("cases", cases)
        assert db.query("SELECT sum(n) AS s FROM cases")["s"].tolist() == [6]
        db.register("cases", cases[["patient_id"]])  # other columns: registered again
        assert db.query("SELECT count(*) AS c FROM cases")["c"].tolist() == [2]


def test_keep_patients_registers_only_their_rows_in_order() -> None:
    labs = pd.DataFrame(
        {"patient_id": pd.Series(["P3", "P1", "P2", "P1"], dtype="str"), "v": [1, 2, 3, 4]}
    )
    with Tables({"labs": labs}) as db:
        db.keep_patients(("labs",), pd.Series(["P1", "P9", "P1"]))
        got = db.query("SELECT patient_id, v FROM labs")
        assert got["patient_id"].tolist() == ["P1", "P1"] and got["v"].tolist() == [2, 4]
        assert db.dtype("labs", "v") == "int64"


def test_an_arrow_frame_is_registered_with_its_pandas_dtypes() -> None:
    frame = pd.DataFrame({"t": pd.Series(["2026-11-20 10:00"]).astype("datetime64[us]")})
    arrow = ArrowFrame(pa.Table.from_pandas(frame, preserve_index=False), frame.dtypes)
    with Tables({"labs": arrow}) as db:
        got = db.query("SELECT t FROM labs", dtypes={"t": db.dtype("labs", "t")})
    pd.testing.assert_frame_equal(got, frame)
