"""Spec §4 pairs a sodium with the glucose "from the same specimen_id", else the nearest glucose
within ±60 min. A blank specimen id names no specimen: an export that writes the absent id as
spaces (a fixed-width CHAR column) or a Parquet file holding empty strings in its text column
made every sodium and glucose of a patient "one specimen", so a glucose taken hours (or days)
apart corrected the sodium and a hyponatremic result could leave the list. Specimen ids are
compared as patient ids are: without surrounding spaces, and a blank one is none."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from tests.sample_delivery import DAY, screen

_LAB = {"encounter_id": "E1", "result_time": "", "status": "final", "specimen_type": "Serum"}
_SODIUM = {"loinc": "2951-2", "lab_name": "Sodium", "unit": "mmol/L"}
_GLUCOSE = {"loinc": "2345-7", "lab_name": "Glucose", "unit": "mg/dL"}


def _lab(patient: str, specimen: str, time: str, value: str, analyte: dict) -> dict:
    return {"patient_id": patient, "specimen_id": specimen, "specimen_time": f"{DAY}T{time}",
            "value_raw": value, **analyte, **_LAB}  # fmt: skip


def _delivery(folder: Path, labs: list[dict], parquet: bool = False) -> Path:
    folder.mkdir()
    patients = sorted({row["patient_id"] for row in labs})
    medications = pd.DataFrame(
        {"patient_id": patients, "drug_name": "Hydrochlorothiazide 25 mg",
         "start_time": "2026-05-01T09:00:00", "end_time": "", "status": "active"}
    )  # fmt: skip
    diagnoses = pd.DataFrame(
        {"patient_id": ["Z9"], "code": ["N18.3"], "code_system": ["ICD-10-CM"],
         "recorded_time": ["2025-01-01T00:00:00"]}
    )  # fmt: skip
    frame = pd.DataFrame(labs)
    if parquet:  # a text column holding empty strings, as pandas and Spark write them
        frame.astype("str").to_parquet(folder / "labs.parquet", index=False)
    else:
        frame.to_csv(folder / "labs.csv", index=False)
    medications.to_csv(folder / "medications.csv", index=False)
    diagnoses.to_csv(folder / "diagnoses.csv", index=False)
    return folder


def _listed(folder: Path) -> pd.DataFrame:
    status, night = screen(folder)
    assert status == 0
    review = pd.read_csv(night / "review_list.csv", dtype=str, keep_default_na=False)
    return review.set_index("patient_id")


@pytest.mark.parametrize(("blank", "parquet"), [(" ", False), ("", True), ("  ", True)])
def test_a_blank_specimen_id_pairs_no_glucose_hours_apart(
    tmp_path: Path, blank: str, parquet: bool
) -> None:
    # Na 131 at 20:00, glucose 400 mg/dL at 08:00, both with a blank specimen id: 12 h apart,
    # so no pair (±60 min): corrected = 131.0 ≤ 135 → mild, listed with its thiazide.
    # Paired, it read 131 + 1.6 × (400 − 100) / 100 = 135.8 > 135: no case, not listed.
    labs = [
        _lab("P1", blank, "20:00:00", "131", _SODIUM),
        _lab("P1", blank, "08:00:00", "400", _GLUCOSE),
    ]
    review = _listed(_delivery(tmp_path / "delivery", labs, parquet))
    assert review.loc["P1", "corrected_sodium"] == "131.0"
    assert review.loc["P1", "index_glucose"] == ""


def test_a_specimen_id_written_with_spaces_is_that_specimen(tmp_path: Path) -> None:
    # the same specimen "S1" (once written "S1 "): paired although 5 h apart (spec §4: the same
    # specimen first) → 131 + 1.6 × 3 = 135.8 > 135, no case; P2's specimen "S2" has no glucose
    labs = [
        _lab("P1", "S1 ", "13:00:00", "131", _SODIUM),
        _lab("P1", "S1", "08:00:00", "400", _GLUCOSE),
        _lab("P2", "S2", "13:00:00", "131", _SODIUM),
    ]
    review = _listed(_delivery(tmp_path / "delivery", labs))
    assert list(review.index) == ["P2"]


def test_of_two_duplicate_results_the_one_with_a_specimen_id_is_used(tmp_path: Path) -> None:
    # two rows of one result (P1, sodium, 13:00, 131): one with the blank id " ", one with "S1",
    # whose glucose 400 (08:00, same specimen) corrects it to 135.8 > 135 → no case. The rules
    # keep the row with a specimen id (clean.lab_sql KEEP_ORDER); " " sorted before "S1" and was
    # kept, no glucose was paired and P1 was listed at 131.0.
    labs = [
        _lab("P1", " ", "13:00:00", "131", _SODIUM),
        _lab("P1", "S1", "13:00:00", "131", _SODIUM),
        _lab("P1", "S1", "08:00:00", "400", _GLUCOSE),
        *(_lab(f"P{n}", f"S{n}", "13:00:00", "131", _SODIUM) for n in range(2, 6)),
    ]  # P2-P5: one duplicate in 8 rows stays under the contract's 20 % (no warning)
    review = _listed(_delivery(tmp_path / "delivery", labs))
    assert list(review.index) == ["P2", "P3", "P4", "P5"]
