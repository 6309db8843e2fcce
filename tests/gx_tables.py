"""Tables and helpers for the tests of the Great Expectations suites: clean canonical frames as
ingest hands them over, a review list, `validate` with the run-time parameters, and a fixture
that fails any network access while GX runs, and a keeper of every batch result GX returns."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pytest

from hyposcreen.validate import gx as v

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


def text_series(values: Sequence[Any]) -> pd.Series:
    return pd.Series(values, dtype="str")


def parsed_times(texts: Sequence[str | None]) -> tuple[pd.Series, pd.Series]:
    raw = text_series(texts)
    parsed = pd.to_datetime(raw, errors="coerce", format="ISO8601").astype("datetime64[us]")
    return parsed, raw


def make_labs(n_copies: int = 1) -> pd.DataFrame:
    """A clean labs frame as ingest hands it over (all canonical columns, provenance, analyte)."""
    rows = LAB_ROWS * n_copies
    n = len(rows)
    times = [f"2026-11-20T{(i % 20):02d}:{(i * 7) % 60:02d}:00" for i in range(n)]
    specimen_time, specimen_raw = parsed_times(times)
    values = [r[3] for r in rows]
    frame = pd.DataFrame(
        {
            "patient_id": text_series([f"P{i % 7:03d}" for i in range(n)]),
            "specimen_time": specimen_time,
            "specimen_time_raw": specimen_raw,
            "value_raw": text_series([f"{x:g}" for x in values]),
            "unit": text_series([r[2] for r in rows]),
            "loinc": text_series([r[1] for r in rows]),
            "lab_name": text_series([r[0].replace("_", " ").title() for r in rows]),
            "encounter_id": text_series([None] * n),
            "specimen_id": text_series([f"S{i:04d}" for i in range(n)]),
            "result_time": specimen_time,
            "value": np.full(n, np.nan),
            "ref_low": np.full(n, np.nan),
            "ref_high": np.full(n, np.nan),
            "status": text_series(["final"] * n),
            "specimen_type": text_series(["serum"] * n),
            "source_row": text_series([str(i + 2) for i in range(n)]),
            "source_file": text_series(["labs.csv"] * n),
            "analyte": text_series([r[0] for r in rows]),
            "value_num": np.array(values, dtype="float64"),
            "unit_ok": np.ones(n, dtype=bool),
        }
    )
    return frame


def make_medications() -> pd.DataFrame:
    start, start_raw = parsed_times(
        ["2026-05-12T09:00:00", "2026-10-01T09:00:00", "2026-11-01T08:00:00"]
    )
    end, end_raw = parsed_times([None, "2026-11-15T09:00:00", ""])
    return pd.DataFrame(
        {
            "patient_id": text_series(["P001", "P002", "P003"]),
            "start_time": start,
            "start_time_raw": start_raw,
            "drug_name": text_series(["Furosemide 40mg tab", "Zoloft 50 mg tablet", "Lasix"]),
            "rxnorm": text_series([None, None, None]),
            "atc": text_series([None, None, None]),
            "end_time": end,
            "end_time_raw": end_raw,
            "status": text_series(["active", "active", "active"]),
            "route": text_series(["oral"] * 3),
            "encounter_id": text_series(["E1", "E2", "E3"]),
            "source_row": text_series(["2", "3", "4"]),
            "source_file": text_series(["medications.csv"] * 3),
        }
    )


def make_diagnoses() -> pd.DataFrame:
    recorded, recorded_raw = parsed_times(["2025-06-15T10:00:00", "2024-02-01T10:00:00"])
    return pd.DataFrame(
        {
            "patient_id": text_series(["P005", "P011"]),
            "code": text_series(["N18.3", "428.0"]),
            "code_system": text_series(["ICD-10-CM", "ICD-9-CM"]),
            "recorded_time": recorded,
            "recorded_time_raw": recorded_raw,
            "status": text_series(["active", "active"]),
            "encounter_id": text_series(["E5", "E11"]),
            "description": text_series(["CKD 3", "CHF"]),
            "source_row": text_series(["2", "3"]),
            "source_file": text_series(["diagnoses.csv"] * 2),
        }
    )


def make_patients() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "patient_id": text_series(["P001", "P002"]),
            "mrn": text_series(["M1", "M2"]),
            "source_row": text_series(["2", "3"]),
            "source_file": text_series(["patients.csv"] * 2),
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
            "patient_id": text_series([f"P{i:03d}" for i in range(n)]),
            "index_time": pd.Series([WINDOW_END - pd.Timedelta(hours=i + 1) for i in range(n)]),
            "index_sodium": np.linspace(118, 132, n),
            "corrected_sodium": np.linspace(118, 132, n),
            "severity": text_series(["severe", "moderate", "mild"] * n)[:n],
            "latest_sodium": np.linspace(120, 133, n),
            "delta_48h": np.full(n, np.nan),
            "overcorrection": np.zeros(n, dtype=bool),
            "risk_factors": text_series(["loop_diuretic;ssri", "", "cirrhosis"] * n)[:n],
            "correction_risk": np.zeros(n, dtype=bool),
            "missing_workup": text_series(["urine_sodium"] * n),
            "evidence": text_series(["{}"] * n),
            "considerations": text_series(["review a contributing diuretic"] * n),
            "profile": text_series(["seed"] * n),
            "rules_version": text_series(["2026.11.1"] * n),
            "run_id": text_series(["run-1"] * n),
            "unit": text_series(["5 North"] * n),  # an allowed extra column after the contract
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


def label_of(labs: pd.DataFrame, analyte: str, nth: int = 0) -> int:
    return int(labs.index[labs["analyte"] == analyte][nth])


def make_dirty_frames() -> dict[str, pd.DataFrame]:
    """The tables with one row-level problem per row."""
    frames = make_frames()
    labs = frames["labs"]
    labs.loc[label_of(labs, "sodium", 1), ["value_raw", "value_num"]] = ["250", 250.0]
    labs.loc[label_of(labs, "potassium"), "value_num"] = -1.0  # no measured value is <= 0
    labs.loc[label_of(labs, "glucose"), "unit"] = "g/L"
    labs.loc[label_of(labs, "sodium", 0), "unit"] = " MMOL/l "  # spelling: accepted like the rules
    labs.loc[label_of(labs, "sodium", 2), "patient_id"] = None
    labs.loc[label_of(labs, "magnesium"), "patient_id"] = "  "
    labs.loc[label_of(labs, "calcium_total"), ["specimen_time", "specimen_time_raw"]] = [
        pd.NaT,
        "20/13/2026",
    ]
    labs.loc[label_of(labs, "albumin"), "specimen_time"] = WINDOW_END  # at the end: outside
    labs.loc[label_of(labs, "tsh"), "specimen_time"] = WINDOW_END + pd.Timedelta(days=3650)
    labs.loc[label_of(labs, "urine_sodium"), "specimen_time"] = WINDOW_END - pd.Timedelta(
        microseconds=1
    )
    labs.loc[label_of(labs, "urine_osmolality"), ["value_raw", "value_num", "unit"]] = [
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


def keeping_results(validate: Callable[..., Any], seen: list[str]) -> Callable[..., Any]:
    """`validate` (validate.context._validate), each GX result it returns also put in `seen`
    as sorted JSON without its meta (which holds load times)."""

    def keep(*args: Any) -> Any:
        result = validate(*args)
        as_json = result.to_json_dict()
        as_json.pop("meta")
        seen.append(json.dumps(as_json, sort_keys=True, default=str))
        return result

    return keep
