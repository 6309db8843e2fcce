"""The screen's DuckDB queries, each on a tiny hand-built table with hand-computed rows
(ties included), and each independent of the order of its input rows."""

from __future__ import annotations

import pandas as pd

from hyposcreen.screen.sodium import pair_glucose


def at(text: str) -> pd.Timestamp:
    return pd.Timestamp(f"2026-11-20 {text}")


def times(values: list[str]) -> pd.Series:
    return pd.Series([at(v) for v in values]).astype("datetime64[us]")


def shuffled(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.iloc[::-1].reset_index(drop=True)


# ------------------------------------------------------------------ §4 glucose pairing

SODIUM = pd.DataFrame(
    {
        "row": [0, 1, 2, 3, 4],
        "patient_id": ["P1", "P1", "P1", "P2", "P1"],
        "specimen_id": ["S1", None, "S9", None, "S4"],
        "specimen_time": times(["10:00", "12:00", "15:00", "10:00", "20:00"]),
    }
)
GLUCOSE = pd.DataFrame(
    {
        "patient_id": ["P1", "P1", "P1", "P1", "P1", "P1", "P2", "P1", "P1"],
        "specimen_id": ["S1", "G", None, None, None, None, None, "S4", "S4"],
        "glucose_time": times(
            [
                "10:40",  # same specimen as row 0, 40 min away: wins over the nearer one
                "10:05",  # nearer to row 0, another specimen
                "11:00",  # row 1: exactly 60 min before (inclusive)
                "13:00",  # row 1: exactly 60 min after; equal distance → the earlier wins
                "15:20",  # row 2: two glucoses at the same time → the lower
                "15:20",
                "11:00:00.000001",  # row 3 (P2): 1 µs beyond 60 min → no pair
                "19:30",  # row 4: same specimen, both 30 min away → the earlier
                "20:30",
            ]
        ),
        "glucose_mg_dl": [200.0, 300.0, 150.0, 140.0, 180.0, 170.0, 400.0, 250.0, 210.0],
    }
)
PAIRED = pd.DataFrame(
    {
        "row": [0, 1, 2, 4],
        "glucose_time": times(["10:40", "11:00", "15:20", "19:30"]),
        "glucose_mg_dl": [200.0, 150.0, 170.0, 250.0],
    }
)


def test_pair_glucose_hand_computed() -> None:
    got = pair_glucose(SODIUM, GLUCOSE, 60.0)
    pd.testing.assert_frame_equal(got, PAIRED)


def test_pair_glucose_ignores_input_order() -> None:
    got = pair_glucose(shuffled(SODIUM), shuffled(GLUCOSE), 60.0)
    pd.testing.assert_frame_equal(got, PAIRED)


def test_pair_glucose_window_is_a_parameter() -> None:
    got = pair_glucose(SODIUM, GLUCOSE, 10.0)  # only same-specimen pairs are left
    pd.testing.assert_frame_equal(got, PAIRED.iloc[[0, 3]].reset_index(drop=True))


def test_pair_glucose_of_empty_tables() -> None:
    got = pair_glucose(SODIUM.iloc[:0], GLUCOSE.iloc[:0], 60.0)
    assert got.empty and list(got.columns) == ["row", "glucose_time", "glucose_mg_dl"]
