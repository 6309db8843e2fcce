"""The screen's DuckDB queries of §4 (glucose pairing) and §8 (previous result, over-correction
pairs), each on a tiny hand-built table with hand-computed rows (ties included), and each
independent of the order of its input rows."""

from __future__ import annotations

import pandas as pd

from helpers import RULES
from hyposcreen.config import Window
from hyposcreen.screen.cofactors import lab_table
from hyposcreen.screen.engine import Tables
from hyposcreen.screen.serial import latest_and_previous, overcorrection_pairs
from hyposcreen.screen.sodium import pair_glucose, pair_registered_glucose
from query_tables import at, moments, shuffled, times

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


def registered_labs(order: list[int]) -> pd.DataFrame:
    """SODIUM and GLUCOSE as one table of usable labs, rows interleaved and then taken in
    `order` (positions in the interleaved table)."""
    sodium = SODIUM.drop(columns="row").assign(analyte="sodium", value_num=130.0)
    glucose = GLUCOSE.rename(
        columns={"glucose_time": "specimen_time", "glucose_mg_dl": "value_num"}
    ).assign(analyte="glucose")
    both = pd.concat([glucose, sodium], ignore_index=True)
    interleaved = both.iloc[[0, 9, 1, 10, 2, 11, 3, 12, 4, 13, 5, 6, 7, 8]]
    return interleaved.iloc[order].reset_index(drop=True)


def test_pair_registered_glucose_numbers_rows_among_the_sodium_results() -> None:
    # the sodium rows keep their order among the labs: rows 0-4 as in SODIUM
    with Tables({"labs": lab_table(registered_labs(list(range(14))))}) as db:
        pd.testing.assert_frame_equal(pair_registered_glucose(db, 60.0), PAIRED)
    # reversed, sodium row i of SODIUM is the (4 - i)-th sodium result
    with Tables({"labs": lab_table(registered_labs(list(range(13, -1, -1))))}) as db:
        got = pair_registered_glucose(db, 60.0)
    expected = PAIRED.assign(row=4 - PAIRED["row"]).sort_values("row").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected)


def test_pair_glucose_of_empty_tables() -> None:
    got = pair_glucose(SODIUM.iloc[:0], GLUCOSE.iloc[:0], 60.0)
    assert got.empty and list(got.columns) == ["row", "glucose_time", "glucose_mg_dl"]


# ------------------------------------------------------------------ §8 previous result (delta)


def test_previous_result_hand_computed() -> None:
    # P3 has no earlier result: none (null), the case kept
    cases = pd.DataFrame(
        {"patient_id": ["P1", "P2", "P3"], "index_time": times(["12:00", "12:00", "12:00"])}
    )
    results = pd.DataFrame(
        {
            "patient_id": ["P1", "P1", "P1", "P1", "P2", "P2", "P3"],
            "specimen_time": pd.Series(
                [
                    at("11:00"),  # P1: the latest before the index, twice → the lower
                    at("11:00"),
                    at("12:00"),  # P1: the index itself (gap 0) is not earlier
                    at("10:00"),
                    pd.Timestamp("2026-11-18 12:00"),  # P2: exactly 48 h before: counts
                    pd.Timestamp("2026-11-18 11:59:59.999999"),  # beyond 48 h
                    at("13:00"),  # P3: only after the index
                ]
            ).astype("datetime64[us]"),
            "corrected_sodium": [130.0, 128.0, 125.0, 131.0, 133.0, 134.0, 120.0],
        }
    )
    expected = pd.DataFrame(
        {
            "patient_id": ["P1", "P2", "P3"],
            "previous_time": pd.Series(
                [at("11:00"), pd.Timestamp("2026-11-18 12:00"), pd.NaT]
            ).astype("datetime64[us]"),
            "previous_sodium": [128.0, 133.0, None],
        }
    )
    for frame in (results, shuffled(results)):
        with Tables({"results": frame}) as db:
            got = latest_and_previous(db, cases, 48)
        pd.testing.assert_frame_equal(got[list(expected.columns)], expected)


# ------------------------------------------------------------------ §8 over-correction pairs

OC_WINDOW = Window(pd.Timestamp("2026-11-20"), pd.Timestamp("2026-11-22"))  # context from 11-17


OC_RESULTS = pd.DataFrame(
    [
        # P1: two rises of 9 → the earlier a (06:00); 09:00 → 11-21 08:00 rises 10 but 119 is
        # not hyponatremic here; 10:00 → 11-21 08:00 rises exactly 8, not more than the limit
        ("P1", "2026-11-20 06:00", 125.0, True),
        ("P1", "2026-11-20 07:00", 134.0, False),
        ("P1", "2026-11-20 09:00", 119.0, False),
        ("P1", "2026-11-20 10:00", 121.0, True),
        ("P1", "2026-11-21 08:00", 129.0, False),
        # P2: 129.3 - 121.3 is 8.000000000000014 in binary; rounded, exactly 8 → no pair
        ("P2", "2026-11-20 08:00", 121.3, True),
        ("P2", "2026-11-20 09:00", 129.3, False),
        # P3: not a case
        ("P3", "2026-11-20 08:00", 120.0, True),
        ("P3", "2026-11-20 09:00", 140.0, False),
        # P4: a at exactly window start - 72 h counts, 1 µs earlier does not; b at window end
        # does not
        ("P4", "2026-11-16 23:59:59.999999", 110.0, True),
        ("P4", "2026-11-17 00:00", 120.0, True),
        ("P4", "2026-11-17 01:00", 130.0, False),
        ("P4", "2026-11-21 23:00", 110.0, True),
        ("P4", "2026-11-22 00:00", 140.0, False),
        # P5: exactly 24 h later counts, 1 µs more does not
        ("P5", "2026-11-20 08:00", 120.0, True),
        ("P5", "2026-11-21 08:00", 129.0, False),
        ("P5", "2026-11-21 08:00:00.000001", 140.0, False),
    ],
    columns=["patient_id", "specimen_time", "corrected_sodium", "hyponatremic"],
).assign(specimen_time=lambda f: moments(list(f["specimen_time"])))
OC_CASES = pd.DataFrame({"patient_id": ["P1", "P2", "P4", "P5"], "limit": [8.0] * 4})
OC_EXPECTED = pd.DataFrame(
    {
        "patient_id": ["P1", "P4", "P5"],
        "oc_from_time": moments(["2026-11-20 06:00", "2026-11-17 00:00", "2026-11-20 08:00"]),
        "oc_from_sodium": [125.0, 120.0, 120.0],
        "oc_to_time": moments(["2026-11-20 07:00", "2026-11-17 01:00", "2026-11-21 08:00"]),
        "oc_to_sodium": [134.0, 130.0, 129.0],
        "oc_rise": [9.0, 10.0, 9.0],
    }
)


def oc_pairs(cases: pd.DataFrame, results: pd.DataFrame) -> pd.DataFrame:
    with Tables({"results": results}) as db:
        return overcorrection_pairs(db, cases, OC_WINDOW, RULES)


def test_overcorrection_pairs_hand_computed() -> None:
    pd.testing.assert_frame_equal(oc_pairs(OC_CASES, OC_RESULTS), OC_EXPECTED)


def test_overcorrection_pairs_ignore_input_order() -> None:
    pd.testing.assert_frame_equal(oc_pairs(shuffled(OC_CASES), shuffled(OC_RESULTS)), OC_EXPECTED)


def test_overcorrection_limit_is_per_case() -> None:
    cases = OC_CASES.assign(limit=[8.0, 7.9, 8.0, 9.0])  # P2's rise of 8 counts; P5's 9 not
    got = oc_pairs(cases, OC_RESULTS)
    assert got["patient_id"].tolist() == ["P1", "P2", "P4"]
    assert got["oc_rise"].tolist() == [9.0, 8.0, 10.0]
