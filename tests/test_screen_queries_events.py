"""The screen's DuckDB queries of §6 (co-factors near the index, the nearest albumin, active
medication records, counted diagnoses), each on a tiny hand-built table with hand-computed rows
(ties included), and each independent of the order of its input rows."""

from __future__ import annotations

import pandas as pd

from helpers import RULES
from hyposcreen.screen.cofactors import lab_table, near_index
from hyposcreen.screen.conditions import counted_diagnoses
from hyposcreen.screen.engine import Tables
from hyposcreen.screen.exposure import active_records
from query_tables import moments, shuffled, times

# ------------------------------------------------------------------ §6 co-factors


def test_near_index_hand_computed() -> None:
    cases = pd.DataFrame({"patient_id": ["P1", "P2"], "index_time": times(["12:00", "12:00"])})
    rows = pd.DataFrame(
        {
            "patient_id": ["P1", "P1", "P1", "P2", "P3", "P1", "P1", "P1"],
            "analyte": ["potassium"] * 6 + ["magnesium", "albumin"],
            "specimen_time": moments(
                [
                    "2026-11-21 12:00",  # exactly 24 h after: counts
                    "2026-11-19 12:00",  # exactly 24 h before: counts
                    "2026-11-21 12:00:00.000001",  # 1 µs beyond
                    "2026-11-20 13:00",
                    "2026-11-20 12:00",  # P3 is not a case
                    "2026-11-19 12:00",  # same time as the second, lower value
                    "2026-11-20 12:00",  # another analyte: ordered by analyte first
                    "2026-11-20 12:00",  # not a co-factor
                ]
            ),
            "value_num": [3.1, 3.4, 2.0, 1.5, 1.0, 3.3, 1.2, 3.0],
        }
    )
    expected = pd.DataFrame(
        {
            "patient_id": ["P1", "P1", "P1", "P1", "P2"],
            "analyte": ["magnesium"] + ["potassium"] * 4,
            "index_time": times(["12:00"] * 5),
            "specimen_time": moments(
                [
                    "2026-11-20 12:00",
                    "2026-11-19 12:00",
                    "2026-11-19 12:00",
                    "2026-11-21 12:00",
                    "2026-11-20 13:00",
                ]
            ),
            "value_num": [1.2, 3.3, 3.4, 3.1, 1.5],
            "censored": [""] * 5,  # exact values (no censoring operator given)
            "albumin": [None] * 5,  # albumin only for a total calcium
            "albumin_time": moments([None] * 5),
        }
    ).astype({"censored": "str", "albumin": "float64"})
    for frame in (rows, shuffled(rows)):
        with Tables({"labs": lab_table(frame)}) as db:
            pd.testing.assert_frame_equal(near_index(db, cases, 24, 24), expected)


def test_nearest_albumin_hand_computed() -> None:
    # every index at 11-20 12:00; the total calcium results (the first four rows) near it
    labs = pd.DataFrame(
        {
            "patient_id": ["P1", "P1", "P2", "P3"] + ["P1"] * 4 + ["P2"] * 2 + ["P3", "P1"],
            "analyte": ["calcium_total"] * 4 + ["albumin"] * 7 + ["potassium"],
            "specimen_time": moments(
                [
                    "2026-11-20 12:00",  # P1's first calcium
                    "2026-11-20 20:00",  # P1's second calcium
                    "2026-11-20 12:00",  # P2's calcium
                    "2026-11-20 12:00",  # P3's calcium
                    "2026-11-20 11:00",  # P1 first: 1 h before and
                    "2026-11-20 13:00",  # 1 h after → the earlier
                    "2026-11-20 19:00",  # P1 second: two at the same time → the higher
                    "2026-11-20 19:00",
                    "2026-11-21 12:00",  # P2: exactly 24 h after counts
                    "2026-11-19 11:59:59.999999",  # 1 µs beyond 24 h
                    "2026-11-19 11:59:59.999999",  # P3: none within 24 h
                    "2026-11-20 12:00",  # P1 first: nearest of all, but no albumin
                ]
            ),
            "value_num": [8.0, 8.1, 8.2, 8.3, 3.0, 2.5, 2.8, 3.2, 3.5, 4.0, 2.0, 1.0],
        }
    )
    cases = pd.DataFrame(
        {"patient_id": ["P1", "P2", "P3"], "index_time": times(["12:00", "12:00", "12:00"])}
    )
    expected = pd.DataFrame(
        {
            "value_num": [8.0, 8.1, 8.2, 8.3],
            "albumin": [3.0, 3.2, 3.5, None],
            "albumin_time": moments(
                ["2026-11-20 11:00", "2026-11-20 19:00", "2026-11-21 12:00", None]
            ),
        }
    )
    for frame in (labs, shuffled(labs)):
        with Tables({"labs": lab_table(frame)}) as db:
            near = near_index(db, cases, 24, 24)
        calcium = near.loc[near["analyte"] == "calcium_total"].reset_index(drop=True)
        pd.testing.assert_frame_equal(calcium[list(expected.columns)], expected)


# ------------------------------------------------------------------ §6 medications, conditions


def test_active_records_hand_computed() -> None:
    cases = pd.DataFrame({"patient_id": ["P1"], "index_time": times(["12:00"])})
    meds = pd.DataFrame(
        [
            # grace 7 days: ended 11-13 12:00 is active at 11-20 12:00, 1 µs earlier is not
            ("P1", "a", "2026-11-01 00:00", "2026-11-13 12:00", "active"),
            ("P1", "b", "2026-11-01 00:00", "2026-11-13 11:59:59.999999", "active"),
            # started exactly at the index and ongoing: active; 1 µs later: not yet
            ("P1", "c", "2026-11-20 12:00", None, "active"),
            ("P1", "d", "2026-11-20 12:00:00.000001", None, "active"),
            # stopped without an end: active until start + 30 days, inclusive
            ("P1", "e", "2026-10-21 12:00", None, "stopped"),
            ("P1", "f", "2026-10-21 11:59:59.999999", None, "completed"),
            ("P2", "g", "2026-11-01 00:00", None, "active"),  # not a case
        ],
        columns=["patient_id", "drug_name", "start_time", "end_time", "status_norm"],
        index=[10, 11, 12, 13, 14, 15, 16],
    ).assign(
        start_time=lambda f: pd.to_datetime(f["start_time"], format="ISO8601").astype(
            "datetime64[us]"
        ),
        end_time=lambda f: pd.to_datetime(f["end_time"], format="ISO8601").astype("datetime64[us]"),
        rxnorm=None,
        atc=None,
    )
    matches = pd.DataFrame(
        {
            "row": [10, 11, 12, 12, 13, 14, 15, 16, 99],
            "drug_class": ["thiazide"] * 3 + ["ssri"] + ["thiazide"] * 5,
            "ingredient": ["x"] * 9,
            "matched_by": ["name"] * 9,
        }
    )
    got = active_records(cases, meds, matches, RULES)
    assert got["drug_name"].tolist() == ["a", "c", "c", "e"]
    assert got["drug_class"].tolist() == ["thiazide", "ssri", "thiazide", "thiazide"]
    again = active_records(cases, meds.iloc[::-1], shuffled(matches), RULES)  # labels kept
    pd.testing.assert_frame_equal(again, got)


def test_counted_diagnoses_hand_computed() -> None:
    cases = pd.DataFrame({"patient_id": ["P1"], "index_time": times(["12:00"])})
    diagnoses = pd.DataFrame(
        [
            ("P1", "cirrhosis", "K74.60", "2026-11-20 12:00"),  # at the index: counts
            ("P1", "ckd", "N18.3", "2026-11-20 12:00:00.000001"),  # after it: not
            ("P1", "muscle_cramp", "R25.2", "2026-12-20 12:00"),  # +30 days: counts
            ("P1", "muscle_cramp", "R25.2", "2026-10-21 11:59:59.999999"),  # beyond -30 days
            ("P1", None, "E11.9", "2026-11-01 00:00"),  # not a listed condition
            ("P2", "cirrhosis", "K74.60", "2026-11-01 00:00"),  # not a case
        ],
        columns=["patient_id", "condition", "code", "recorded_time"],
    ).assign(
        recorded_time=lambda f: pd.to_datetime(f["recorded_time"], format="ISO8601").astype(
            "datetime64[us]"
        ),
        code_system_norm="icd10",
    )
    expected = pd.DataFrame(
        {
            "patient_id": ["P1", "P1"],
            "condition": ["cirrhosis", "muscle_cramp"],
            "code": ["K74.60", "R25.2"],
            "code_system_norm": ["icd10", "icd10"],
            "recorded_time": moments(["2026-11-20 12:00", "2026-12-20 12:00"]),
        }
    )
    got = counted_diagnoses(cases, diagnoses, RULES)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    pd.testing.assert_frame_equal(counted_diagnoses(cases, shuffled(diagnoses), RULES), got)
