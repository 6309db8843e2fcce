"""The screen's case-finding, latest-result, work-up and risk-factor queries over tables
registered once: tiny hand-built tables, hand-computed rows, boundaries 1 µs apart, and the
same answer when the input rows come in reverse order."""

from __future__ import annotations

import pandas as pd

from helpers import RULES
from hyposcreen.screen.cofactors import lab_table
from hyposcreen.screen.engine import Tables
from hyposcreen.screen.finding import find_cases, missing_workup
from hyposcreen.screen.listing import risk_factors_of
from hyposcreen.screen.serial import latest_and_previous


def moments(values: list[str]) -> pd.Series:
    return pd.Series([pd.Timestamp(v) for v in values]).astype("datetime64[us]")


def reversed_rows(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.iloc[::-1].reset_index(drop=True)


# ------------------------------------------------------------------ §7 cases and index results

RESULTS = pd.DataFrame(
    [
        # P1: 128 twice, 1 µs apart → the earlier is the index; the 125 outside the window is no
        # candidate; two low results in the window
        ("P1", "2026-11-20 10:00", 128.0, None, "", 128.0, True, True, "mild", "mild"),
        ("P1", "2026-11-20 09:59:59.999999", 128.0, None, "", 128.0, True, True, "mild", "mild"),
        ("P1", "2026-11-19 10:00", 125.0, None, "", 125.0, True, False, "moderate", "moderate"),
        # P2: corrected 130 twice at the same time: 128 with glucose 225 (128 + 1.6 × 125 / 100
        # = 130) and a plain 130 → the lower measured value
        ("P2", "2026-11-20 08:00", 130.0, None, "", 130.0, True, True, "mild", "mild"),
        ("P2", "2026-11-20 08:00", 128.0, 225.0, "", 130.0, True, True, "mild", "mild"),
        # P3: equal in everything but censoring → the exact value ("" before "<")
        ("P3", "2026-11-20 08:00", 118.0, None, "<", 118.0, True, True, "severe", "severe"),
        ("P3", "2026-11-20 08:00", 118.0, None, "", 118.0, True, True, "severe", "severe"),
        # P4: two glucoses tie everything else → the lower glucose
        ("P4", "2026-11-20 08:00", 120.0, 110.0, "", 120.16, True, True, "moderate", "moderate"),
        ("P4", "2026-11-20 08:00", 120.0, None, "", 120.16, True, True, "moderate", "moderate"),
        # P5: low only outside the window, or in the window but not hyponatremic → no case
        ("P5", "2026-11-19 08:00", 120.0, None, "", 120.0, True, False, "moderate", "moderate"),
        ("P5", "2026-11-20 08:00", 131.0, 400.0, "", 135.8, False, True, None, None),
    ],
    columns=[
        "patient_id", "specimen_time", "value_num", "glucose_mg_dl", "censored",
        "corrected_sodium", "hyponatremic", "in_window", "severity", "level",
    ],
).assign(specimen_time=lambda f: moments(list(f["specimen_time"])))  # fmt: skip


def test_find_cases_hand_computed() -> None:
    expected = pd.DataFrame(
        {
            "patient_id": ["P1", "P2", "P3", "P4"],
            "index_time": moments(
                [
                    "2026-11-20 09:59:59.999999",
                    "2026-11-20 08:00",
                    "2026-11-20 08:00",
                    "2026-11-20 08:00",
                ]
            ),
            "index_sodium": [128.0, 128.0, 118.0, 120.0],
            "corrected_sodium": [128.0, 130.0, 118.0, 120.16],
            "index_glucose": [float("nan"), 225.0, float("nan"), 110.0],
            "index_censored": ["", "", "", ""],
            "severity": ["mild", "mild", "severe", "moderate"],
            "level": ["mild", "mild", "severe", "moderate"],
            "n_low_results": [2, 2, 2, 2],
        }
    ).astype({c: "str" for c in ("patient_id", "index_censored", "severity", "level")})
    expected["nadir_time"] = expected["index_time"]
    for frame in (RESULTS, reversed_rows(RESULTS)):
        pd.testing.assert_frame_equal(find_cases(frame), expected)


def test_find_cases_of_no_low_result_is_empty_with_its_columns() -> None:
    cases = find_cases(RESULTS.loc[RESULTS["patient_id"] == "P5"])
    assert cases.empty
    assert list(cases.columns)[:2] == ["patient_id", "index_time"]
    assert "nadir_time" in cases and "n_low_results" in cases


# ------------------------------------------------------------------ §8 latest result


def test_latest_results_hand_computed() -> None:
    results = pd.DataFrame(
        {
            "patient_id": ["P1", "P1", "P1", "P2", "P2", "P3"],
            "specimen_time": moments(
                [
                    "2026-11-20 10:00",  # P1: two at the latest time → the lower
                    "2026-11-20 10:00",
                    "2026-11-20 09:00",
                    "2026-11-20 10:00",
                    "2026-11-20 10:00:00.000001",  # P2: 1 µs later is the latest
                    "2026-11-20 11:00",  # P3 is not a case
                ]
            ),
            "corrected_sodium": [130.0, 128.0, 120.0, 125.0, 140.0, 120.0],
        }
    )
    cases = pd.DataFrame(
        {
            "patient_id": pd.Series(["P2", "P1"], dtype="str"),
            "index_time": moments(["2026-11-20 10:00"] * 2),
        }
    )
    expected = pd.DataFrame(
        {
            "patient_id": pd.Series(["P1", "P2"], dtype="str"),
            "latest_time": moments(["2026-11-20 10:00", "2026-11-20 10:00:00.000001"]),
            "latest_sodium": [128.0, 140.0],
        }
    )
    for frame in (results, reversed_rows(results)):
        with Tables({"results": frame}) as db:
            got = latest_and_previous(db, cases, 48)
        pd.testing.assert_frame_equal(got[list(expected.columns)], expected)


# ------------------------------------------------------------------ §8 work-up


def test_missing_workup_hand_computed() -> None:
    # index 11-20 12:00; the work-up counts from 24 h before (11-19 12:00) to 48 h after
    # (11-22 12:00), both inclusive
    cases = pd.DataFrame(
        {
            "patient_id": pd.Series(["P3", "P1", "P2"], dtype="str"),
            "index_time": moments(["2026-11-20 12:00"] * 3),
        }
    )
    labs = pd.DataFrame(
        [
            ("P1", "serum_osmolality", "2026-11-19 12:00"),  # exactly 24 h before: counts
            ("P1", "urine_osmolality", "2026-11-22 12:00:00.000001"),  # 1 µs beyond 48 h
            ("P1", "urine_sodium", "2026-11-22 12:00"),  # exactly 48 h after: counts
            ("P1", "potassium", "2026-11-20 12:00"),  # not a work-up analyte
            ("P2", "serum_osmolality", "2026-11-19 11:59:59.999999"),  # 1 µs too early
            ("P3", "serum_osmolality", "2026-11-20 12:00"),
            ("P3", "urine_osmolality", "2026-11-20 13:00"),
            ("P3", "urine_sodium", "2026-11-20 13:00"),
            ("P3", "urine_sodium", "2026-11-20 14:00"),  # twice: still present once
            ("P4", "urine_sodium", "2026-11-20 12:00"),  # not a case
        ],
        columns=["patient_id", "analyte", "specimen_time"],
    ).assign(specimen_time=lambda f: moments(list(f["specimen_time"])), value_num=1.0)
    everything = "serum_osmolality;urine_osmolality;urine_sodium"
    for frame in (labs, reversed_rows(labs)):
        with Tables({"labs": lab_table(frame)}) as db:
            got = missing_workup(db, cases, RULES)
        assert got.tolist() == ["", "urine_osmolality", everything]  # in the cases' order


# ------------------------------------------------------------------ §7/§10 risk-factor lists


def test_risk_factors_of_hand_computed() -> None:
    factors = pd.DataFrame(
        {
            "patient_id": ["P2", "P1", "P1", "P1", "P1", "P3"],
            # P1: ssri twice (counted once), names joined in name order; alcohol use disorder is
            # correction-risk only (no vocabulary entry) and is left out; P3 has none that count
            "risk_factor": [
                "hypokalemia", "ssri", "cirrhosis", "ssri", "alcohol_use_disorder",
                "alcohol_use_disorder",
            ],
        }
    )  # fmt: skip
    expected = pd.DataFrame(
        {
            "patient_id": ["P1", "P2"],
            "risk_factors": ["cirrhosis;ssri", "hypokalemia"],
            "n_risk_factors": [2, 1],
        }
    ).astype({"patient_id": "str", "risk_factors": "str"})
    vocabulary = tuple(RULES.risk_factor_vocabulary)
    for frame in (factors, reversed_rows(factors)):
        pd.testing.assert_frame_equal(risk_factors_of(frame, vocabulary), expected)


# ------------------------------------------------------------------ tables registered once


def test_tables_are_registered_once_and_queried_many_times() -> None:
    labs = pd.DataFrame({"patient_id": pd.Series(["P1", "P2"], dtype="str"), "x": [1.0, 2.0]})
    with Tables({"labs": labs}) as db:
        first = db.query("SELECT sum(x) AS s FROM labs")
        # a query's own small frame is registered beside the big one, and replaced next time
        one = db.query(
            "SELECT sum(x) AS s FROM labs JOIN cases USING (patient_id)",
            frames={"cases": pd.DataFrame({"patient_id": ["P1"]})},
        )
        two = db.query(
            "SELECT sum(x) AS s FROM labs JOIN cases USING (patient_id)",
            frames={"cases": pd.DataFrame({"patient_id": ["P2"]})},
        )
        assert str(db.dtype("labs", "x")) == "float64"
    assert (first["s"].item(), one["s"].item(), two["s"].item()) == (3.0, 1.0, 2.0)


def test_text_comes_back_as_pandas_str() -> None:
    frame = pd.DataFrame({"t": pd.Series(["a", None], dtype="str")})
    with Tables({"f": frame}) as db:
        got = db.query("SELECT t FROM f ORDER BY t NULLS LAST")
    assert str(got["t"].dtype) == "str" and got["t"].iloc[0] == "a" and pd.isna(got["t"].iloc[1])
