"""Patient ids that a database export padded (CHAR columns: trailing NUL bytes) or that carry
a zero-width character: the labs, medications and diagnoses of one patient still meet, so the
night screens as the sample does (its list, quarantine rows and reconciliation)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from sample_delivery import SAMPLE, assert_screens_as_the_sample


def test_padded_and_zero_width_ids_screen_as_the_plain_ids(tmp_path: Path) -> None:
    folder = tmp_path / "delivery"
    shutil.copytree(SAMPLE, folder)
    labs = pd.read_csv(folder / "labs.csv", dtype=str, keep_default_na=False)
    padded = labs["patient_id"] != ""  # (a row without a patient stays without one)
    labs.loc[padded, "patient_id"] += "\x00\x00"  # CHAR(6) padding of 'P004'
    labs.to_csv(folder / "labs.csv", index=False)
    medications = pd.read_csv(folder / "medications.csv", dtype=str, keep_default_na=False)
    medications.loc[medications["patient_id"] != "", "patient_id"] = (
        "\u200b" + medications["patient_id"]
    )
    medications.to_csv(folder / "medications.csv", index=False)
    assert "\x00" in (folder / "labs.csv").read_text(encoding="utf-8")
    assert_screens_as_the_sample(folder, tmp_path)
