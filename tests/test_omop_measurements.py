"""`--source omop`, MEASUREMENT: concepts to LOINC and units, values with operators, dates and
times, source-value fallbacks, letter case, delimiters and Parquet, malformed lines."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from hyposcreen.clean import clean_labs
from hyposcreen.ingest.frames import date_alone_column
from omop_extract import RULES, extract, measurement, read, write

# ------------------------------------------------------------------ measurements


def test_measurement_maps_concepts_units_times_and_keys_from_the_shipped_map(
    tmp_path: Path,
) -> None:
    """Without a concept table, 3019550 is LOINC 2951-2 (sodium), 8753 is mmol/L."""
    labs = read(extract(tmp_path), "labs").frame
    row = labs.iloc[0]
    assert (row["loinc"], row["analyte"], row["unit"]) == ("2951-2", "sodium", "mmol/L")
    assert (row["patient_id"], row["encounter_id"], row["value_raw"]) == ("7", "701", "128")
    assert row["specimen_time"] == pd.Timestamp("2026-11-20 08:00")
    assert (row["ref_low"], row["ref_high"]) == (135.0, 145.0)
    assert (row["source_file"], row["source_row"]) == ("measurement.csv", "2")


def test_operator_concepts_make_censored_values_and_text_values_stay_as_text(
    tmp_path: Path,
) -> None:
    labs = [
        measurement(measurement_id="1", measurement_concept_id="3023103", value_as_number="3.0",
                    operator_concept_id="4171756", value_source_value=""),
        measurement(measurement_id="2", measurement_concept_id="3004501", value_as_number="500",
                    operator_concept_id="4172704", unit_concept_id="8840", value_source_value=""),
        measurement(measurement_id="3", value_as_number="", value_source_value="HEMOLYZED"),
        measurement(measurement_id="4", measurement_concept_id="3004501", value_as_number="100",
                    unit_concept_id="8840", value_source_value="<100"),
    ]  # fmt: skip
    frame = read(extract(tmp_path, labs), "labs").frame
    assert list(frame["value_raw"]) == ["<3.0", ">500", "HEMOLYZED", "<100"]
    cleaned = clean_labs(frame, RULES)
    assert list(cleaned["censored"]) == ["<", ">", "", "<"]
    assert list(cleaned["reason"].fillna("")) == ["", "", "non_numeric", ""]


def test_date_only_measurement_and_separate_time_column(tmp_path: Path) -> None:
    labs = [
        measurement(measurement_datetime=""),
        measurement(measurement_datetime="", measurement_time="13:45"),
    ]
    frame = read(extract(tmp_path, labs), "labs").frame
    assert list(frame["specimen_time"]) == [
        pd.Timestamp("2026-11-20 00:00"),
        pd.Timestamp("2026-11-20 13:45"),
    ]


def test_source_value_fallbacks_and_unknown_loinc_concepts_are_counted(tmp_path: Path) -> None:
    """Concept 0 falls back to measurement_source_value: a LOINC, else a lab name for the
    dictionary. A standard LOINC concept outside spec §2 is dropped in Arrow (unknown_loinc)."""
    concepts = [
        {"concept_id": "3016723", "concept_name": "Creatinine", "vocabulary_id": "LOINC",
         "concept_class_id": "Lab Test", "concept_code": "2160-0"},
        {"concept_id": "2000000001", "concept_name": "Osmolality", "vocabulary_id": "LOINC",
         "concept_class_id": "Lab Test", "concept_code": "2692-2"},
    ]  # fmt: skip
    labs = [
        measurement(measurement_id="1", measurement_concept_id="0",
                    measurement_source_value="2823-3", unit_concept_id="0",
                    unit_source_value="mEq/L", value_as_number="3.2"),
        measurement(measurement_id="2", measurement_concept_id="0",
                    measurement_source_value="Sodium, urine", value_as_number="40"),
        measurement(measurement_id="3", measurement_concept_id="3016723", value_as_number="1.1"),
        measurement(measurement_id="4", measurement_concept_id="2000000001", unit_concept_id="0",
                    unit_source_value="mOsm/kg", value_as_number="260"),
        measurement(measurement_id="5", measurement_concept_id="0", measurement_source_value="",
                    value_as_number="1"),
    ]  # fmt: skip
    folder = extract(tmp_path, labs)
    write(folder, "concept", concepts)
    table = read(folder, "labs")
    assert list(table.frame["analyte"]) == ["potassium", "urine_sodium", "serum_osmolality"]
    assert list(table.frame["unit"]) == ["mEq/L", "mmol/L", "mOsm/kg"]
    assert table.not_relevant == {"unknown_loinc": 1, "no_lab_identifier": 1}
    counts = table.source_counts["measurement"]
    assert (counts["read"], counts["mapped"], counts["unmapped"]) == (5, 3, 2)
    assert table.rows_in == 5


def test_a_concept_name_opening_a_quote_does_not_swallow_the_next_concepts(
    tmp_path: Path,
) -> None:
    """Athena files are tab-delimited without quoting (a quoted header is still read)."""
    folder = extract(tmp_path, [measurement(measurement_concept_id="2000000002")])
    (folder / "concept.csv").write_text(
        '"concept_id"\t"concept_name"\t"vocabulary_id"\t"concept_class_id"\t"concept_code"\n'
        '2000000001\t"Quoted 5" thing\tSNOMED\tClinical Finding\t1234567\n'
        "2000000002\tSodium serum\tLOINC\tLab Test\t2951-2\n"
    )
    assert read(folder, "labs").frame.loc[0, "loinc"] == "2951-2"


def test_upper_case_tab_delimited_and_parquet_extracts_read_the_same(tmp_path: Path) -> None:
    lower = read(extract(tmp_path / "lower", sep=","), "labs").frame
    upper = read(extract(tmp_path / "upper", upper=True), "labs").frame
    assert (tmp_path / "upper" / "MEASUREMENT.csv").is_file()
    parquet = tmp_path / "parquet"
    extract(parquet)
    frame = pd.read_csv(parquet / "measurement.csv", sep="\t", dtype=str)
    (parquet / "measurement.csv").unlink()
    folder = parquet / "measurement"
    folder.mkdir()
    frame.astype({"person_id": "int64", "value_as_number": "float64"}).to_parquet(
        folder / "part-0.parquet"
    )
    from_parquet = read(parquet, "labs").frame
    columns = ["patient_id", "loinc", "analyte", "value_raw", "unit", "specimen_time"]
    pd.testing.assert_frame_equal(lower[columns], upper[columns])
    assert from_parquet.loc[0, "patient_id"] == "7"
    assert float(from_parquet.loc[0, "value_raw"]) == 128.0
    assert from_parquet.loc[0, "source_row"] == "1"


def test_a_malformed_line_is_quarantined_and_counted(tmp_path: Path) -> None:
    folder = extract(tmp_path, sep=",")
    with (folder / "measurement.csv").open("a") as handle:
        handle.write("9,7,3019550\n")
    table = read(folder, "labs")
    cleaned = clean_labs(table.frame, RULES)
    assert table.rows_in == 2
    assert list(cleaned["reason"].fillna("")) == ["", "malformed_row"]
    assert table.source_counts["measurement"]["unmapped_malformed_row"] == 1


def test_a_datetime_filled_from_the_date_takes_the_clock_of_measurement_time(
    tmp_path: Path,
) -> None:
    """An ETL that had only the date writes measurement_datetime `2026-11-20` or
    `2026-11-20 00:00:00` and keeps the clock in measurement_time (`13:45`). Before, all three
    rows below were read at midnight, 13 h 45 min early (another night near its start, another
    glucose, another 24 h pair), the first marked as dated by its date alone. A datetime with
    its own clock keeps it; 00:00 in both columns is midnight; a date alone stays marked."""
    labs = [
        measurement(measurement_datetime="2026-11-20", measurement_time="13:45"),
        measurement(measurement_datetime="2026-11-20 00:00:00", measurement_time="13:45"),
        measurement(measurement_datetime="2026-11-20T00:00:00", measurement_time="13:45:00"),
        measurement(measurement_datetime="2026-11-20 08:30:00", measurement_time="13:45"),
        measurement(measurement_datetime="2026-11-20 00:00:00", measurement_time="00:00"),
        measurement(measurement_datetime="2026-11-20", measurement_time=""),
    ]
    frame = read(extract(tmp_path, labs), "labs").frame
    at = pd.Timestamp
    assert list(frame["specimen_time"]) == [
        at("2026-11-20 13:45"), at("2026-11-20 13:45"), at("2026-11-20 13:45"),
        at("2026-11-20 08:30"), at("2026-11-20 00:00"), at("2026-11-20 00:00"),
    ]  # fmt: skip
    assert list(frame[date_alone_column("specimen_time")]) == [False] * 5 + [True]


def test_a_measurement_time_that_is_no_clock_time_leaves_the_datetime_as_it_is(
    tmp_path: Path,
) -> None:
    """`measurement_time` `25:99` or `24:00` beside a datetime of `2026-11-20` is no clock
    time of that day. Before, it was joined to the date anyway (`2026-11-20 25:99`), which
    reads as no time at all: the row, dated by its datetime, lost its specimen time (NaT) and
    was quarantined (missing_key), a sodium among them missing from the list. It is now read
    as the datetime says (midnight, marked dated by its date alone when it is a date), as
    before measurement_time was consulted; a real clock time still counts."""
    labs = [
        measurement(measurement_datetime="2026-11-20", measurement_time="25:99"),
        measurement(measurement_datetime="2026-11-20 00:00:00", measurement_time="24:00"),
        measurement(measurement_datetime="2026-11-20", measurement_time="23:59:59"),
    ]
    frame = read(extract(tmp_path, labs), "labs").frame
    at = pd.Timestamp
    assert list(frame["specimen_time"]) == [
        at("2026-11-20 00:00"), at("2026-11-20 00:00"), at("2026-11-20 23:59:59"),
    ]  # fmt: skip
    assert list(frame[date_alone_column("specimen_time")]) == [True, False, False]
