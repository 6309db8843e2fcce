"""An OMOP `drug_exposure` whose ETL had only the end date writes it twice: `end_date`
2026-11-13 and `end_datetime` 2026-11-13 00:00:00. Both say the last day of exposure is the
13th (CDM end dates are inclusive), so the record ends at 23:59:59 that day either way; read
as 00:00 the datetime ended it a day early.

By hand (spec §6): sodium 128 at 2026-11-20 15:00, furosemide started 2026-11-01; the end
13th 23:59:59 + 7 days of grace is 20th 23:59:59 >= the index: loop diuretic, listed tier 3.
An end at 00:00 + 7 days (20th 00:00) is before the index: no risk factor, not listed."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from hyposcreen.cli import main
from omop_extract import extract, measurement


def test_a_midnight_end_datetime_on_the_end_date_is_that_whole_day(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    drug = {
        "person_id": "7",
        "drug_concept_id": "0",
        "drug_source_value": "Furosemide 40 mg tab",
        "drug_exposure_start_date": "2026-11-01",
        "drug_exposure_start_datetime": "2026-11-01 08:00:00",
        "drug_exposure_end_date": "2026-11-13",
        "drug_exposure_end_datetime": "2026-11-13 00:00:00",
    }
    lab = measurement(measurement_datetime="2026-11-20 15:00:00")
    folder = extract(tmp_path / "omop", labs=[lab], drugs=[drug])
    out = tmp_path / "out"
    argv = ["run", "--no-flow", "--source", "omop", "--input", str(folder), "--out", str(out)]
    status = main([*argv, "--window-start", "2026-11-20", "--window-end", "2026-11-21"])
    assert status in (0, 4), capsys.readouterr().err
    review = pd.read_csv(out / "2026-11-20" / "review_list.csv", dtype=str)
    got = review[["tier", "patient_id", "corrected_sodium", "risk_factors"]].values.tolist()
    assert got == [["3", "7", "128.0", "loop_diuretic"]]
