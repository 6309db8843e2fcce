"""The missing_keys warning names, as its examples, rows whose key is empty: a delivery with two
medications whose start does not read (rows 2 and 3, named by the unreadable_times warning) and
twenty without a patient id after them must not give those two time rows as examples of an
empty key, where the engineer would look for a column mapped from the wrong place."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from hyposcreen.cli import main

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"
DAY = "2026-11-20"


def test_empty_key_examples_are_rows_with_an_empty_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "delivery"
    shutil.copytree(SAMPLE, folder)
    meds = pd.read_csv(folder / "medications.csv", dtype=str, keep_default_na=False)
    meds.loc[:1, "start_time"] = "12.05.2026 09:00"  # file rows 2 and 3
    meds.loc[2:21, "patient_id"] = ""  # file rows 4 to 23
    meds.to_csv(folder / "medications.csv", index=False)
    out = tmp_path / "out"
    status = main(
        ["run", "--no-flow", "--input", str(folder), "--out", str(out), "--window-start", DAY]
    )
    err = capsys.readouterr().err
    assert status == 4, err
    (unread,) = [line for line in err.splitlines() if "does not read" in line]
    assert "e.g. medications.csv:2, medications.csv:3;" in unread
    (empty,) = [line for line in err.splitlines() if "have an empty key" in line]
    assert "e.g. medications.csv:4, medications.csv:5, medications.csv:6;" in empty, empty
