"""Great Expectations suites of the canonical tables and the review list (real GX, no mocks)."""

from __future__ import annotations

import csv
import json
import socket
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from hyposcreen.errors import ConfigError, InputError
from hyposcreen.ingest.canonical import SCHEMAS, IngestedTable
from hyposcreen.report.review_list import REVIEW_COLUMNS
from hyposcreen.rules.loader import RULES_DIR, load_rules, normalize_unit
from hyposcreen.validate import gx as v
from hyposcreen.validate.rule_values import rule_parameters
from hyposcreen.validate.suites import filled_expectations

WINDOW_END = pd.Timestamp("2026-11-21 00:00:00")
PARAMS = {  # the run-time parameters validate_tables fills in besides the rules' values
    "window_end": WINDOW_END,
    "max_duplicate_rate": 0.2,
    "max_non_numeric_sodium_rate": 0.05,
    "duplicate_mostly": 0.8,
    "numeric_sodium_mostly": 0.95,
}
VOCABULARY = [
    "thiazide_diuretic",
    "loop_diuretic",
    "potassium_sparing_diuretic",
    "ssri",
    "other_antidepressant",
    "antiepileptic",
    "antipsychotic",
    "cirrhosis",
    "heart_failure",
    "ckd",
    "siadh",
    "hypokalemia",
    "hypomagnesemia",
    "hypocalcemia",
    "cramp_documented",
]

# analyte, loinc, unit, value
LAB_ROWS = [
    ("sodium", "2951-2", "mmol/L", 128.0),
    ("sodium", "2951-2", "mEq/L", 133.0),
    ("sodium", "2951-2", "mmol/L", 141.0),
    ("glucose", "2345-7", "mg/dL", 180.0),
    ("potassium", "2823-3", "mmol/L", 3.2),
    ("magnesium", "19123-9", "mg/dL", 1.6),
    ("calcium_total", "17861-6", "mg/dL", 8.1),
    ("calcium_ionized", "1994-3", "mmol/L", 1.05),
    ("albumin", "1751-7", "g/dL", 3.1),
    ("serum_osmolality", "2692-2", "mOsm/kg", 262.0),
    ("urine_osmolality", "2695-5", "mOsm/kg H2O", 410.0),
    ("urine_sodium", "2955-3", "mmol/L", 20.0),
    ("tsh", "3016-3", "mIU/L", 2.1),
]


def _str(values: Sequence[Any]) -> pd.Series:
    return pd.Series(values, dtype="str")


def _times(texts: Sequence[str | None]) -> tuple[pd.Series, pd.Series]:
    raw = _str(texts)
    parsed = pd.to_datetime(raw, errors="coerce", format="ISO8601").astype("datetime64[us]")
    return parsed, raw


def make_labs(n_copies: int = 1) -> pd.DataFrame:
    """A clean labs frame as ingest hands it over (all canonical columns, provenance, analyte)."""
    rows = LAB_ROWS * n_copies
    n = len(rows)
    times = [f"2026-11-20T{(i % 20):02d}:{(i * 7) % 60:02d}:00" for i in range(n)]
    specimen_time, specimen_raw = _times(times)
    values = [r[3] for r in rows]
    frame = pd.DataFrame(
        {
            "patient_id": _str([f"P{i % 7:03d}" for i in range(n)]),
            "specimen_time": specimen_time,
            "specimen_time_raw": specimen_raw,
            "value_raw": _str([f"{x:g}" for x in values]),
            "unit": _str([r[2] for r in rows]),
            "loinc": _str([r[1] for r in rows]),
            "lab_name": _str([r[0].replace("_", " ").title() for r in rows]),
            "encounter_id": _str([None] * n),
            "specimen_id": _str([f"S{i:04d}" for i in range(n)]),
            "result_time": specimen_time,
            "value": np.full(n, np.nan),
            "ref_low": np.full(n, np.nan),
            "ref_high": np.full(n, np.nan),
            "status": _str(["final"] * n),
            "specimen_type": _str(["serum"] * n),
            "source_row": _str([str(i + 2) for i in range(n)]),
            "source_file": _str(["labs.csv"] * n),
            "analyte": _str([r[0] for r in rows]),
            "value_num": np.array(values, dtype="float64"),
            "unit_ok": np.ones(n, dtype=bool),
        }
    )
    return frame


def make_medications() -> pd.DataFrame:
    start, start_raw = _times(["2026-05-12T09:00:00", "2026-10-01T09:00:00", "2026-11-01T08:00:00"])
    end, end_raw = _times([None, "2026-11-15T09:00:00", ""])
    return pd.DataFrame(
        {
            "patient_id": _str(["P001", "P002", "P003"]),
            "start_time": start,
            "start_time_raw": start_raw,
            "drug_name": _str(["Furosemide 40mg tab", "Zoloft 50 mg tablet", "Lasix"]),
            "rxnorm": _str([None, None, None]),
            "atc": _str([None, None, None]),
            "end_time": end,
            "end_time_raw": end_raw,
            "status": _str(["active", "active", "active"]),
            "route": _str(["oral"] * 3),
            "encounter_id": _str(["E1", "E2", "E3"]),
            "source_row": _str(["2", "3", "4"]),
            "source_file": _str(["medications.csv"] * 3),
        }
    )


def make_diagnoses() -> pd.DataFrame:
    recorded, recorded_raw = _times(["2025-06-15T10:00:00", "2024-02-01T10:00:00"])
    return pd.DataFrame(
        {
            "patient_id": _str(["P005", "P011"]),
            "code": _str(["N18.3", "428.0"]),
            "code_system": _str(["ICD-10-CM", "ICD-9-CM"]),
            "recorded_time": recorded,
            "recorded_time_raw": recorded_raw,
            "status": _str(["active", "active"]),
            "encounter_id": _str(["E5", "E11"]),
            "description": _str(["CKD 3", "CHF"]),
            "source_row": _str(["2", "3"]),
            "source_file": _str(["diagnoses.csv"] * 2),
        }
    )


def make_patients() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "patient_id": _str(["P001", "P002"]),
            "mrn": _str(["M1", "M2"]),
            "source_row": _str(["2", "3"]),
            "source_file": _str(["patients.csv"] * 2),
        }
    )


def make_frames() -> dict[str, pd.DataFrame]:
    return {
        "labs": make_labs(),
        "medications": make_medications(),
        "diagnoses": make_diagnoses(),
        "patients": make_patients(),
    }


def make_review(n: int = 3) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "rank": np.arange(1, n + 1),
            "tier": np.array([1, 2, 3] * n)[:n],
            "patient_id": _str([f"P{i:03d}" for i in range(n)]),
            "index_time": pd.Series([WINDOW_END - pd.Timedelta(hours=i + 1) for i in range(n)]),
            "index_sodium": np.linspace(118, 132, n),
            "corrected_sodium": np.linspace(118, 132, n),
            "severity": _str(["severe", "moderate", "mild"] * n)[:n],
            "latest_sodium": np.linspace(120, 133, n),
            "delta_48h": np.full(n, np.nan),
            "overcorrection": np.zeros(n, dtype=bool),
            "risk_factors": _str(["loop_diuretic;ssri", "", "cirrhosis"] * n)[:n],
            "correction_risk": np.zeros(n, dtype=bool),
            "missing_workup": _str(["urine_sodium"] * n),
            "evidence": _str(["{}"] * n),
            "considerations": _str(["review a contributing diuretic"] * n),
            "profile": _str(["seed"] * n),
            "rules_version": _str(["2026.11.1"] * n),
            "run_id": _str(["run-1"] * n),
            "unit": _str(["5 North"] * n),  # an allowed extra column after the contract
        }
    )


def validate(frames: dict[str, Any], **kwargs: Any) -> v.ValidationReport:
    return v.validate_tables(frames, window_end=WINDOW_END, **kwargs)


def failed(report: v.ValidationReport, table: str, reason: str) -> list[v.ExpectationOutcome]:
    return [o for o in report.outcomes if o.table == table and o.reason == reason and not o.success]


@pytest.fixture(autouse=True, scope="module")
def no_network() -> Any:
    """GX must not reach out: any socket connection fails the test."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"network access attempted: {args!r}")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", refuse)
        patch.setattr(socket, "create_connection", refuse)
        yield


# --------------------------------------------------------------------------- clean data


def test_clean_tables_pass_every_suite(capfd: pytest.CaptureFixture[str]) -> None:
    report = validate(make_frames())
    assert report.critical_failures() == []
    assert [o for o in report.outcomes if not o.success] == []
    assert report.skipped == []
    assert {o.table for o in report.outcomes} == {"labs", "medications", "diagnoses", "patients"}
    assert report.warning_rows("labs") == {}
    summary = report.summary()
    assert summary["passed"] is True
    assert json.loads(json.dumps(summary))["tables"]["labs"]["failed"] == 0
    captured = capfd.readouterr()
    assert "Calculating Metrics" not in captured.err + captured.out  # no progress bars
    report.raise_for_critical()  # no-op


def test_clean_review_list_passes() -> None:
    report = v.validate_review_list(make_review(5), VOCABULARY)
    assert [o for o in report.outcomes if not o.success] == []
    empty = v.validate_review_list(make_review(0), VOCABULARY)
    assert empty.critical_failures() == []


def test_ingested_table_is_accepted_with_its_present_columns() -> None:
    frames: dict[str, Any] = make_frames()
    meds = frames["medications"]
    present = tuple(c for c in meds.columns if c != "start_time")
    frames["medications"] = IngestedTable(
        name="medications", frame=meds, rows_in=len(meds), present_columns=present
    )
    failures = validate(frames).critical_failures()
    assert [(o.table, o.column) for o in failures] == [("medications", "start_time")]


# --------------------------------------------------------------------------- contract (critical)


def test_missing_required_column_is_critical_and_named() -> None:
    frames = make_frames()
    frames["labs"] = frames["labs"].drop(columns=["unit"])
    report = validate(frames)
    failures = report.critical_failures()
    assert [(o.table, o.column, o.reason) for o in failures] == [
        ("labs", "unit", "required_column")
    ]
    assert failures[0].detail == "required column(s) missing: unit"
    # the unit check that needs the column is reported as skipped, not as passed
    assert [s["missing_columns"] for s in report.skipped] == ["analyte_unit"]
    with pytest.raises(InputError, match="required column\\(s\\) missing: unit") as info:
        report.raise_for_critical()
    assert info.value.column == "unit"


def test_column_absent_in_source_counts_as_missing_even_if_ingest_filled_it() -> None:
    frames = make_frames()
    present = [c for c in SCHEMAS["diagnoses"].columns if c not in ("code_system", "code")]
    report = validate(frames, present_columns={"diagnoses": present})
    assert [(o.table, o.column) for o in report.critical_failures()] == [
        ("diagnoses", "code, code_system")
    ]


def test_one_of_columns_missing_table_and_time_dtype() -> None:
    frames = make_frames()
    frames["labs"] = frames["labs"].drop(columns=["loinc", "lab_name"])
    frames["diagnoses"]["recorded_time"] = frames["diagnoses"]["recorded_time_raw"]
    del frames["medications"]
    report = validate(frames)
    names = {(o.table, o.expectation, o.column) for o in report.critical_failures()}
    assert names == {
        ("labs", "hyposcreen.columns_one_of", "loinc|lab_name"),
        ("medications", "hyposcreen.table_present", None),
        ("diagnoses", "hyposcreen.column_dtype", "recorded_time"),
    }


# --------------------------------------------------------------------------- rows (warnings)


def _label(labs: pd.DataFrame, analyte: str, nth: int = 0) -> int:
    return int(labs.index[labs["analyte"] == analyte][nth])


@pytest.fixture(scope="module")
def dirty() -> tuple[dict[str, pd.DataFrame], v.ValidationReport]:
    """One set of tables with one row-level problem per row, validated once."""
    frames = make_dirty_frames()
    return frames, validate(frames)


def make_dirty_frames() -> dict[str, pd.DataFrame]:
    """The tables with one row-level problem per row."""
    frames = make_frames()
    labs = frames["labs"]
    labs.loc[_label(labs, "sodium", 1), ["value_raw", "value_num"]] = ["250", 250.0]
    labs.loc[_label(labs, "potassium"), "value_num"] = -1.0  # no measured value is <= 0
    labs.loc[_label(labs, "glucose"), "unit"] = "g/L"
    labs.loc[_label(labs, "sodium", 0), "unit"] = " MMOL/l "  # spelling: accepted like the rules
    labs.loc[_label(labs, "sodium", 2), "patient_id"] = None
    labs.loc[_label(labs, "magnesium"), "patient_id"] = "  "
    labs.loc[_label(labs, "calcium_total"), ["specimen_time", "specimen_time_raw"]] = [
        pd.NaT,
        "20/13/2026",
    ]
    labs.loc[_label(labs, "albumin"), "specimen_time"] = WINDOW_END  # at the end: outside
    labs.loc[_label(labs, "tsh"), "specimen_time"] = WINDOW_END + pd.Timedelta(days=3650)
    labs.loc[_label(labs, "urine_sodium"), "specimen_time"] = WINDOW_END - pd.Timedelta(
        microseconds=1
    )
    labs.loc[_label(labs, "urine_osmolality"), ["value_raw", "value_num", "unit"]] = [
        "See Comments",
        np.nan,
        "g/L",
    ]
    meds = frames["medications"]
    meds.loc[1, "end_time"] = pd.Timestamp("2026-09-01 09:00")
    meds.loc[2, ["end_time", "end_time_raw"]] = [pd.NaT, "next week"]
    frames["diagnoses"].loc[0, "code_system"] = "http://hl7.org/fhir/sid/icd-10-cm"  # an alias
    frames["diagnoses"].loc[1, "code_system"] = "ICPC-2"
    frames["patients"].loc[1, "patient_id"] = "P001"
    return frames


def test_row_problems_are_warnings_not_critical(dirty: Any) -> None:
    _, report = dirty
    assert report.critical_failures() == []
    assert all(o.severity == "warning" for o in report.failed_warnings())
    assert report.summary()["tables"]["labs"]["warning_rows"] == 9


def test_implausible_sodium_is_a_row_warning_with_label_and_file_row(dirty: Any) -> None:
    frames, report = dirty
    labs = frames["labs"]
    label = _label(labs, "sodium", 1)
    outcome = next(o for o in failed(report, "labs", "implausible") if "sodium" in o.detail)
    assert outcome.severity == "warning"
    assert outcome.column == "value_num"
    assert outcome.row_labels == [label]
    assert outcome.unexpected_count == 1
    assert outcome.example_rows == [f"labs.csv:{labs.loc[label, 'source_row']}"]
    assert outcome.detail == "sodium outside [80, 200] mmol/L"
    assert report.warning_rows("labs")[label] == "expect_column_values_to_be_between"
    assert report.warning_reasons("labs")[label] == "implausible"


def test_sodium_bounds_are_inclusive() -> None:
    frames = make_frames()
    labs = frames["labs"]
    labs.loc[_label(labs, "sodium", 0), "value_num"] = 80.0
    labs.loc[_label(labs, "sodium", 1), "value_num"] = 200.0
    labs.loc[_label(labs, "sodium", 2), "value_num"] = 79.9
    report = validate(frames)
    assert failed(report, "labs", "implausible")[0].row_labels == [_label(labs, "sodium", 2)]


def test_other_analyte_bounds_and_units_per_analyte(dirty: Any) -> None:
    frames, report = dirty
    labs = frames["labs"]
    potassium, glucose = _label(labs, "potassium"), _label(labs, "glucose")
    (implausible_k,) = [o for o in failed(report, "labs", "implausible") if "<= 0" in o.detail]
    assert implausible_k.row_labels == [potassium]
    assert implausible_k.detail == "value <= 0 (1 distinct value of analyte in the rows cited)"
    (unit,) = failed(report, "labs", "bad_unit")
    osmolality = _label(labs, "urine_osmolality")
    assert unit.row_labels == [glucose, osmolality]  # " MMOL/l " for sodium is accepted
    assert unit.detail == (
        "unit not accepted for the analyte (2 distinct values of analyte, unit in the rows cited)"
    )


def test_non_numeric_row_wins_over_its_bad_unit(dirty: Any) -> None:
    frames, report = dirty
    label = _label(frames["labs"], "urine_osmolality")
    assert report.warning_reasons("labs")[label] == "non_numeric"
    (outcome,) = failed(report, "labs", "non_numeric")
    assert outcome.detail == (
        "value_raw is not a number (1 distinct value of value_raw in the rows cited)"
    )
    assert label in failed(report, "labs", "bad_unit")[0].row_labels


def test_missing_patient_and_unparseable_time_are_missing_key_rows(dirty: Any) -> None:
    frames, report = dirty
    labs = frames["labs"]
    reasons = report.warning_reasons("labs")
    for label in (
        _label(labs, "sodium", 2),
        _label(labs, "magnesium"),
        _label(labs, "calcium_total"),
    ):
        assert reasons[label] == "missing_key"


def test_end_time_before_start_time(dirty: Any) -> None:
    _, report = dirty
    (outcome,) = failed(report, "medications", "end_before_start")
    assert outcome.severity == "warning"
    assert outcome.row_labels == [1]
    assert outcome.example_rows == ["medications.csv:3"]
    assert report.warning_reasons("medications") == {1: "end_before_start", 2: "bad_time"}
    (bad_time,) = failed(report, "medications", "bad_time")
    assert bad_time.detail == (
        "end_time given but unparseable (1 distinct value of end_time_raw in the rows cited)"
    )
    assert "next week" not in bad_time.detail  # the extract's text stays out of the manifest


def test_result_at_or_after_window_end(dirty: Any) -> None:
    frames, report = dirty
    labs = frames["labs"]
    (outcome,) = failed(report, "labs", "outside_window")
    assert outcome.row_labels == [_label(labs, "albumin"), _label(labs, "tsh")]
    assert str(WINDOW_END) in outcome.detail
    # against a later window end the same rows pass: the bound is the argument, not the clock
    later = v.validate_tables(frames, window_end=WINDOW_END + pd.Timedelta(days=3651))
    assert failed(later, "labs", "outside_window") == []


def test_far_future_dates_beyond_nanosecond_range_still_validate() -> None:
    frames = make_frames()
    frames["labs"].loc[0, "specimen_time"] = pd.Timestamp("2500-01-01").as_unit("us")
    report = validate(frames)
    assert failed(report, "labs", "outside_window")[0].row_labels == [0]
    assert report.critical_failures() == []
    later = v.validate_tables(frames, window_end=pd.Timestamp("2600-01-01").as_unit("us"))
    assert later.failed_warnings() == []


def test_code_system_and_duplicate_patients(dirty: Any) -> None:
    _, report = dirty
    assert report.warning_reasons("diagnoses") == {1: "bad_code_system"}  # aliases are fine
    (outcome,) = failed(report, "diagnoses", "bad_code_system")
    assert outcome.detail.endswith("(1 distinct value of code_system in the rows cited)")
    assert report.warning_reasons("patients") == {0: "duplicate_key", 1: "duplicate_key"}


# --------------------------------------------------------------------------- table-level rates


def test_too_many_non_numeric_sodium_values_is_critical() -> None:
    frames = make_frames()
    labs = frames["labs"]
    sodium = labs.index[labs["analyte"] == "sodium"]
    labs.loc[sodium[0], ["value_raw", "value_num"]] = ["HEMOLYZED", np.nan]
    labs.loc[sodium[1], ["value_raw", "value_num"]] = ["<120", 120.0]  # censored: numeric
    report = validate(frames)
    (outcome,) = failed(report, "labs", "non_numeric_rate")
    assert outcome.severity == "critical"
    assert outcome.unexpected_count == 1
    assert outcome.unexpected_percent == pytest.approx(100 / 3)
    assert outcome.example_rows == [f"labs.csv:{labs.loc[sodium[0], 'source_row']}"]
    assert outcome.row_labels == []  # critical: the run stops, rows are not quarantined
    # a site that tolerates it raises the threshold
    relaxed = validate(frames, thresholds={"max_non_numeric_sodium_rate": 0.5})
    assert relaxed.critical_failures() == []


def test_non_numeric_share_counts_empty_values_and_sodium_rows_only() -> None:
    frames = make_frames()
    labs = make_labs(n_copies=10)  # 30 sodium rows
    sodium = labs.index[labs["analyte"] == "sodium"]
    labs.loc[sodium[0], ["value_raw", "value_num"]] = [None, np.nan]
    glucose = labs.index[labs["analyte"] == "glucose"]
    labs.loc[glucose, ["value_raw", "value_num"]] = ["___", np.nan]  # not sodium: not counted
    frames["labs"] = labs
    outcome = next(o for o in validate(frames).outcomes if o.reason == "non_numeric_rate")
    assert outcome.success and outcome.unexpected_count == 1
    assert outcome.unexpected_percent == pytest.approx(100 / 30)


def test_duplicate_rate_threshold() -> None:
    frames = make_frames()
    labs = frames["labs"]
    frames["labs"] = pd.concat([labs, labs.iloc[:4]], ignore_index=True)  # 4 of 17 = 23.5 %
    report = validate(frames)
    (outcome,) = failed(report, "labs", "duplicate_rate")
    assert outcome.severity == "critical"
    assert outcome.unexpected_count == 4
    assert "23.5%" in outcome.detail
    at_limit = validate(frames, thresholds={"max_duplicate_rate": 4 / 17})
    assert at_limit.critical_failures() == []  # a share exactly at the limit passes


def test_non_numeric_follows_the_cleaning_parser() -> None:
    frames = make_frames()
    labs = make_labs(n_copies=10)  # 30 sodium rows
    sodium = labs.index[labs["analyte"] == "sodium"]
    labs.loc[sodium[0], "value_raw"] = "≤ 5"  # censored: a number
    labs.loc[sodium[1], "value_raw"] = "GREATER THAN 180"
    labs.loc[sodium[2], ["value_raw", "value"]] = ["See Comments", 139.0]  # source parsed it
    labs.loc[sodium[3], ["value_raw", "value_num"]] = ["cancelled", np.nan]
    frames["labs"] = labs
    report = validate(frames)
    assert report.warning_reasons("labs") == {sodium[3]: "non_numeric"}


def test_labs_without_ingest_columns_is_a_programming_error() -> None:
    frames = make_frames()
    frames["labs"] = frames["labs"].drop(columns=["value_num"])
    with pytest.raises(ValueError, match="value_num"):
        validate(frames)


def test_unknown_threshold_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="max_dup"):
        validate(make_frames(), thresholds={"max_dup": 0.1})


# --------------------------------------------------------------------------- review list


def test_review_list_bad_tier_duplicate_rank_and_unknown_risk_factor() -> None:
    review = make_review(4)
    review.loc[1, "tier"] = 4
    review.loc[3, "rank"] = 3
    review.loc[2, "risk_factors"] = "loop_diuretic;bupropion"
    report = v.validate_review_list(review, VOCABULARY)
    failures = {(o.reason, o.expectation) for o in report.critical_failures()}
    assert ("tier", "expect_column_values_to_be_in_set") in failures
    assert ("rank", "expect_column_values_to_be_unique") in failures
    assert ("risk_factor_vocabulary", "expect_column_values_to_match_regex") in failures
    tier = next(o for o in report.critical_failures() if o.reason == "tier")
    assert tier.example_rows == ["review_list:2"]
    with pytest.raises(InputError):
        report.raise_for_critical()


def test_review_list_rank_must_be_1_to_n_and_columns_in_contract_order() -> None:
    review = make_review(3)
    review["rank"] = [1, 2, 5]
    report = v.validate_review_list(review, VOCABULARY)
    assert any(o.detail == "rank outside 1..3" for o in report.critical_failures())

    swapped = make_review(3)[["tier", "rank", *REVIEW_COLUMNS[2:]]]
    report = v.validate_review_list(swapped, VOCABULARY)
    assert [o.reason for o in report.critical_failures()] == ["column_contract"]

    missing = make_review(3).drop(columns=["run_id"])
    reasons = {o.reason for o in v.validate_review_list(missing, VOCABULARY).critical_failures()}
    assert "column_contract" in reasons


def test_review_list_rank_must_be_integer() -> None:
    review = make_review(3)
    review["rank"] = [1.0, 2.0, 2.5]
    report = v.validate_review_list(review, VOCABULARY)
    assert ("rank", "dtype") in {(o.column, o.reason) for o in report.critical_failures()}


# --------------------------------------------------------------------------- suites and docs


def test_suites_are_well_formed_and_match_the_rules_data() -> None:
    for name in (*v.TABLES, v.REVIEW_LIST):
        spec = v.load_suite_spec(name)
        assert spec["name"] == name
    labs = v.load_suite_spec("labs")
    # the suite holds no copy of the rules: units, presence-only analytes and ranges are filled
    # in from the loaded rules for each run
    (raw_unit_check,) = [e for e in labs["expectations"] if e["meta"]["reason"] == "bad_unit"]
    assert raw_unit_check["kwargs"]["value_set"] == {"$PARAMETER": "accepted_analyte_units"}
    filled = filled_expectations(labs, {**PARAMS, **rule_parameters(load_rules())})
    (unit_check,) = [e for e in filled if e["meta"]["reason"] == "bad_unit"]
    units: dict[str, set[str]] = {}
    for pair in unit_check["kwargs"]["value_set"]:
        analyte, unit = pair.split("|")
        units.setdefault(analyte, set()).add(unit)
    with (RULES_DIR / "analyte_units.csv").open(encoding="utf-8") as handle:
        expected: dict[str, set[str]] = {}
        for row in csv.DictReader(handle):
            expected.setdefault(row["analyte"], set()).add(normalize_unit(row["unit"]))
    assert units == expected
    with (RULES_DIR / "analytes.csv").open(encoding="utf-8") as handle:
        analytes = list(csv.DictReader(handle))
    presence_only = {r["analyte"] for r in analytes if r["canonical_unit"] == "*"}
    assert set(unit_check["kwargs"]["row_condition"]["parameter"]) == presence_only
    # every plausible range the rules define (today: sodium 80-200) is the suite's range
    implausible = [e for e in filled if e["meta"]["reason"] == "implausible"]
    # spec §3: a value <= 0 of any analyte, for every row (no row condition)
    (non_positive,) = [e for e in implausible if "row_condition" not in e["kwargs"]]
    assert non_positive["kwargs"] == {"column": "value_num", "min_value": 0, "strict_min": True}
    suite_bounds = {
        e["kwargs"]["row_condition"]["parameter"]: (
            e["kwargs"]["min_value"],
            e["kwargs"]["max_value"],
        )
        for e in implausible
        if "row_condition" in e["kwargs"]
    }
    ruled = {
        r["analyte"]: (float(r["plausible_low"]), float(r["plausible_high"]))
        for r in analytes
        if r["plausible_low"]
    }
    assert ruled and suite_bounds == ruled  # no range in the suite that the rules lack
    assert implausible[0]["meta"]["detail"] == "sodium outside [80, 200] mmol/L"
    review = v.load_suite_spec("review_list")
    assert tuple(review["expectations"][0]["kwargs"]["column_list"]) == tuple(REVIEW_COLUMNS)


def test_normalize_units_matches_the_rules_loader() -> None:
    samples = ["mmol/L", " MEQ/l", "mOsm/kg H2O", "µmol/L", "μg/dL", "mmol/(24.h)"]
    assert v.normalize_units(_str([*samples, None])).tolist() == [
        *[normalize_unit(s) for s in samples],
        "",
    ]


def test_data_docs_are_built_into_the_given_folder(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    frames = make_frames()
    frames["labs"].loc[0, "value_num"] = 10.0
    report = validate(frames, docs_dir=tmp_path / "docs")
    assert report.docs_index == tmp_path / "docs" / "index.html"
    assert report.docs_index.is_file()
    pages = {
        p.parent.parent.parent.name for p in (tmp_path / "docs" / "validations").rglob("*.html")
    }
    assert pages == {"labs", "medications", "diagnoses", "patients"}
    assert failed(report, "labs", "implausible")[0].row_labels == [0]
    captured = capfd.readouterr()
    assert "Calculating Metrics" not in captured.err + captured.out
