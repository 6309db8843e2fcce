"""A lab row without a specimen type whose lab name names urine (`Sodium, urine` sent under
the serum LOINC 2951-2, as a laboratory system mapping every sodium to one code does) is a
urine result, as the FHIR reader reads a code text naming the fluid: a urine sodium of 110 is
never a severe serum sodium on the list. A specimen type, when there is one, still decides."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
from tests.helpers import RULES

from hyposcreen.rules.lab_identity import identify
from sample_delivery import SAMPLE, screen


def test_a_lab_name_naming_urine_stands_in_for_a_missing_specimen_type() -> None:
    frame = pd.DataFrame(
        {
            "loinc": ["2951-2", "2951-2", "2692-2", "2951-2"],
            "lab_name": ["Sodium, urine", "Sodium, urine", "Osmolality, urine", "Sodium"],
            "specimen_type": [None, "Serum", None, None],
        },
        dtype="str",
    )
    analyte, _ = identify(frame, RULES)
    # the specimen type, when given, decides
    assert analyte.tolist() == ["urine_sodium", "sodium", "urine_osmolality", "sodium"]


def test_a_urine_sodium_under_the_serum_loinc_does_not_list_a_patient(tmp_path: Path) -> None:
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    labs = pd.read_csv(folder / "labs.csv", dtype=str, keep_default_na=False)
    p001 = labs[labs["patient_id"] == "P001"].iloc[[0]].copy()
    p001[["specimen_id", "specimen_time", "lab_name", "specimen_type", "value_raw"]] = [
        "S001-99", "2026-11-20T09:00:00", "Sodium, urine", "", "110"
    ]  # fmt: skip
    pd.concat([labs, p001]).to_csv(folder / "labs.csv", index=False)
    status, night = screen(folder)
    assert status == 0
    review = pd.read_csv(night / "review_list.csv", dtype=str).set_index("patient_id")
    assert review.loc["P001", ["tier", "index_sodium", "latest_sodium"]].tolist() == [
        "3", "135.0", "135.0"
    ]  # fmt: skip
    assert review.loc["P001", "missing_workup"] == "serum_osmolality;urine_osmolality"
