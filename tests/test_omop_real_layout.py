"""`--source omop` on exports written the way real CDM 5.4 databases write them: upper-case
tab-delimited tables in `cdm/`, Athena vocabulary files in `vocab/`, date-only columns next to
datetime ones, database numbers with three decimals. Each test states the spec's answer,
computed by hand."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from hyposcreen.adapters import omop
from hyposcreen.clean import clean_labs, clean_medications, lab_row_filter
from hyposcreen.config import SiteMapping
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


# ------------------------------------------------------------------ decimal commas


def test_database_numbers_keep_their_decimal_point_at_a_decimal_comma_site(
    tmp_path: Path,
) -> None:
    """A site with `csv: {decimal: ","}` writes its result text with commas (`3,2`), but
    `value_as_number` is a database number: `135.000` is 135 and `8.125` is 8.125, never
    thousands. Hand-computed: sodium 135.000 -> 135.0 (used, not `implausible` 135000);
    calcium 8.125 mg/dL -> 8.125 (hypocalcemia < 8.5, not 8125); potassium text `3,2` with no
    number -> 3.2; a localized export's `131,500` -> 131.5; `<` + `3.000` -> censored 3.0."""
    labs = [
        measurement(measurement_id="1", value_as_number="135.000", value_source_value=""),
        measurement(measurement_id="2", measurement_concept_id="3006906",
                    value_as_number="8.125", unit_concept_id="8840", value_source_value="8,125"),
        measurement(measurement_id="3", measurement_concept_id="3023103",
                    value_as_number="", value_source_value="3,2"),
        measurement(measurement_id="4", value_as_number="131,500", value_source_value=""),
        measurement(measurement_id="5", measurement_concept_id="3023103",
                    value_as_number="3.000", operator_concept_id="4171756"),
    ]  # fmt: skip
    folder = extract(tmp_path, labs)
    mapping = SiteMapping(decimal=",")
    table = omop.read_table(folder, "labs", mapping, RULES, WINDOW, lab_row_filter(RULES, WINDOW))
    cleaned = clean_labs(table.frame, RULES, ",")
    assert list(cleaned["reason"].fillna("")) == ["", "", "", "", ""]
    assert list(cleaned["value_num"]) == [135.0, 8.125, 3.2, 131.5, 3.0]
    assert list(cleaned["censored"]) == ["", "", "", "", "<"]
