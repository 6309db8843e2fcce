"""`--source omop` on exports written the way real CDM 5.4 databases write them: upper-case
tab-delimited tables in `cdm/`, Athena vocabulary files in `vocab/`, date-only columns next to
datetime ones, database numbers with three decimals. Each test states the spec's answer,
computed by hand."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from hyposcreen.clean import clean_labs, clean_medications
from omop_extract import RULES, WINDOW, extract, measurement, read

# ------------------------------------------------------------------ drug end dates


def _drug(**values: str) -> dict[str, str]:
    row = {"person_id": "7", "drug_concept_id": "0", "drug_source_value": "Furosemide 40 mg"}
    return {**row, **values}


def test_an_end_date_without_time_lasts_to_the_end_of_that_day(tmp_path: Path) -> None:
    """OMOP end dates are inclusive. A single administration charted with a start datetime
    (08:00) and only an end date (the same day) was active that day: it is not an order
    stopped before it began, and with the 7-day grace it is active at an index 7 days later
    in the afternoon (spec §6: start <= index <= end + 7 days)."""
    drugs = [
        _drug(drug_exposure_start_datetime="2026-11-13 08:00:00",
              drug_exposure_start_date="2026-11-13", drug_exposure_end_date="2026-11-13"),
        _drug(drug_exposure_start_date="2026-11-10", verbatim_end_date="2026-11-12"),
        # an ETL that writes the date as midnight in the datetime column
        _drug(drug_exposure_start_datetime="2026-11-13 08:00:00",
              drug_exposure_end_datetime="2026-11-13 00:00:00"),
        # a real stop time stays as it is
        _drug(drug_exposure_start_datetime="2026-11-13 08:00:00",
              drug_exposure_end_datetime="2026-11-14 10:30:00"),
    ]  # fmt: skip
    frame = read(extract(tmp_path, drugs=drugs), "medications").frame
    assert list(frame["end_time"]) == [
        pd.Timestamp("2026-11-13 23:59:59"),
        pd.Timestamp("2026-11-12 23:59:59"),
        pd.Timestamp("2026-11-13 23:59:59"),
        pd.Timestamp("2026-11-14 10:30:00"),
    ]
    meds, matches = clean_medications(frame, RULES, WINDOW)
    assert "end_before_start" not in " ".join(meds["reason"].dropna().astype(str))
    assert len(matches) == 4 and set(matches["drug_class"]) == {"loop_diuretic"}
