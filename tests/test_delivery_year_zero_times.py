"""Times before the year 1: ISO 8601 reads `-0` and `-1` (a sign and a digit left in a date
column) as the years 0 and -1, and Parquet's typed times hold them too. A diagnosis dated so
reached the evidence, whose date no display can write (Python's calendar starts at the year
1): the night ended as an internal error (exit 70). Such a time names no time of any record:
it does not read (quarantined missing_key, and the unreadable-time warning says so)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from hyposcreen.ingest.timeparse import parse_times
from sample_delivery import SAMPLE, screen


def test_a_diagnosis_dated_minus_zero_does_not_read(tmp_path: Path) -> None:
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    diagnoses = pd.read_csv(folder / "diagnoses.csv", dtype=str, keep_default_na=False)
    cirrhosis = diagnoses.index[diagnoses["code"] == "K74.60"][0]  # P027's, line 4
    diagnoses.loc[cirrhosis, "recorded_time"] = "-0"
    diagnoses.to_csv(folder / "diagnoses.csv", index=False)
    status, night = screen(folder)
    assert status == 4
    manifest = json.loads((night / "run_manifest.json").read_text("utf-8"))
    assert manifest["reconciliation"]["diagnoses"]["reasons"]["quarantined"]["missing_key"] == 1
    assert "diagnoses.csv:4" in json.dumps(manifest["warnings"])


def test_times_before_the_year_one_are_none() -> None:
    texts = pd.Series(["-0", "-1", "0000-06-01T00:00:00", "0001-01-01", "2026-11-20T06:10"])
    read = parse_times(texts, "Europe/Berlin")
    assert read.isna().tolist() == [True, True, True, False, False]
    typed = pd.Series(np.array(["0000-01-01", "2026-01-01"], dtype="datetime64[us]"))
    assert parse_times(typed, "UTC").isna().tolist() == [True, False]
    assert parse_times(typed.dt.tz_localize("UTC"), "Europe/Berlin").isna().tolist() == [
        True,
        False,
    ]
