"""A SQL client's export writes an absent value as `NULL` (SSMS, bcp), `(null)` or `\\N`.
Read as text, `NULL` in an ongoing medication's end_time was a time that does not read: 28 of
the sample's 33 medications were quarantined by the end-time contract, 16 of its 35 cases lost
their drug and left the list, and the night exited 0. The words of rules/null_words.csv are now
read as empty cells: the same delivery screens as the sample does."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from tests.sample_delivery import SAMPLE, screen


def written_with(tmp_path: Path, word: str) -> Path:
    """The sample with every empty cell of its three tables written as `word`."""
    folder = tmp_path / "delivery"
    shutil.copytree(SAMPLE, folder)
    for name in ("labs", "medications", "diagnoses"):
        frame = pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False)
        frame = frame.mask(frame == "", word)
        frame.to_csv(folder / f"{name}.csv", index=False)
    return folder


@pytest.mark.parametrize("word", ["NULL", "null", "(null)", "\\N"])
def test_an_export_writing_null_for_empty_cells_screens_as_the_sample(
    tmp_path: Path, word: str
) -> None:
    medications = pd.read_csv(SAMPLE / "medications.csv", dtype=str, keep_default_na=False)
    assert (medications["end_time"] == "").sum() >= 20  # ongoing drugs: the word's cells
    status, night = screen(written_with(tmp_path, word))
    expected_status, expected = screen(_copy(tmp_path))
    assert status == expected_status == 0
    for name in ("review_list.csv", "evidence.csv"):
        got = pd.read_csv(night / name, dtype=str).drop(columns=["run_id"], errors="ignore")
        want = pd.read_csv(expected / name, dtype=str).drop(columns=["run_id"], errors="ignore")
        pd.testing.assert_frame_equal(got, want)
    counts = json.loads((night / "run_manifest.json").read_text())["reconciliation"]
    sample = json.loads((expected / "run_manifest.json").read_text())["reconciliation"]
    assert counts == sample


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "sample"
    shutil.copytree(SAMPLE, folder)
    return folder


def test_a_patient_id_written_null_is_a_missing_key_not_a_patient(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    labs = pd.read_csv(folder / "labs.csv", dtype=str, keep_default_na=False)
    labs.loc[0, "patient_id"] = "NULL"
    labs.to_csv(folder / "labs.csv", index=False)
    status, night = screen(folder)
    assert status == 0
    review = pd.read_csv(night / "review_list.csv", dtype=str)
    assert "NULL" not in set(review["patient_id"])
    counts = json.loads((night / "run_manifest.json").read_text())["reconciliation"]["labs"]
    assert counts["reasons"]["quarantined"]["missing_key"] == 3  # the sample's 2, and this row
