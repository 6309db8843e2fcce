"""`--source omop` on exports written the way real CDM 5.4 databases write them: upper-case
tab-delimited tables in `cdm/`, Athena vocabulary files in `vocab/`, date-only columns next to
datetime ones, database numbers with three decimals. Each test states the spec's answer,
computed by hand."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest

from hyposcreen.adapters import omop
from hyposcreen.clean import clean_diagnoses, clean_labs, clean_medications, lab_row_filter
from hyposcreen.cli import main
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


# ------------------------------------------------------------------ a whole export, CLI

_MEASUREMENT = (
    "MEASUREMENT_ID PERSON_ID MEASUREMENT_CONCEPT_ID MEASUREMENT_DATE MEASUREMENT_DATETIME "
    "MEASUREMENT_TIME MEASUREMENT_TYPE_CONCEPT_ID OPERATOR_CONCEPT_ID VALUE_AS_NUMBER "
    "VALUE_AS_CONCEPT_ID UNIT_CONCEPT_ID RANGE_LOW RANGE_HIGH PROVIDER_ID VISIT_OCCURRENCE_ID "
    "VISIT_DETAIL_ID MEASUREMENT_SOURCE_VALUE MEASUREMENT_SOURCE_CONCEPT_ID UNIT_SOURCE_VALUE "
    "UNIT_SOURCE_CONCEPT_ID VALUE_SOURCE_VALUE MEASUREMENT_EVENT_ID MEAS_EVENT_FIELD_CONCEPT_ID"
).split()
_DRUG = (
    "DRUG_EXPOSURE_ID PERSON_ID DRUG_CONCEPT_ID DRUG_EXPOSURE_START_DATE "
    "DRUG_EXPOSURE_START_DATETIME DRUG_EXPOSURE_END_DATE DRUG_EXPOSURE_END_DATETIME "
    "VERBATIM_END_DATE DRUG_TYPE_CONCEPT_ID STOP_REASON REFILLS QUANTITY DAYS_SUPPLY SIG "
    "ROUTE_CONCEPT_ID LOT_NUMBER PROVIDER_ID VISIT_OCCURRENCE_ID VISIT_DETAIL_ID "
    "DRUG_SOURCE_VALUE DRUG_SOURCE_CONCEPT_ID ROUTE_SOURCE_VALUE DOSE_UNIT_SOURCE_VALUE"
).split()
_CONDITION = (
    "CONDITION_OCCURRENCE_ID PERSON_ID CONDITION_CONCEPT_ID CONDITION_START_DATE "
    "CONDITION_START_DATETIME CONDITION_END_DATE CONDITION_END_DATETIME "
    "CONDITION_TYPE_CONCEPT_ID CONDITION_STATUS_CONCEPT_ID STOP_REASON PROVIDER_ID "
    "VISIT_OCCURRENCE_ID VISIT_DETAIL_ID CONDITION_SOURCE_VALUE CONDITION_SOURCE_CONCEPT_ID "
    "CONDITION_STATUS_SOURCE_VALUE"
).split()
_CONCEPT = (
    "concept_id concept_name domain_id vocabulary_id concept_class_id standard_concept "
    "concept_code valid_start_date valid_end_date invalid_reason"
).split()


def _tsv(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, header, delimiter="\t", lineterminator="\n")
        writer.writeheader()
        writer.writerows({k.upper() if k.upper() in header else k: v for k, v in r.items()}
                         for r in rows)  # fmt: skip


def _lab(person: str, concept: str, when: str, value: str, unit: str, **extra: str) -> dict:
    date, _, clock = when.partition(" ")
    return {"PERSON_ID": person, "MEASUREMENT_CONCEPT_ID": concept, "MEASUREMENT_DATE": date,
            "MEASUREMENT_DATETIME": when if clock else "", "VALUE_AS_NUMBER": value,
            "UNIT_CONCEPT_ID": unit, "MEASUREMENT_TYPE_CONCEPT_ID": "32817", **extra}  # fmt: skip


def _concept(cid: str, name: str, vocab: str, klass: str, code: str, invalid: str = "") -> dict:
    return {"concept_id": cid, "concept_name": name, "domain_id": "x", "vocabulary_id": vocab,
            "concept_class_id": klass, "standard_concept": "S", "concept_code": code,
            "valid_start_date": "19700101", "valid_end_date": "20991231",
            "invalid_reason": invalid}  # fmt: skip


def _export(root: Path) -> Path:
    """Six persons (hand-computed answers in the test below)."""
    day = "2180-05-06"
    _tsv(root / "cdm" / "MEASUREMENT.csv", _MEASUREMENT, [
        _lab("1", "3019550", day, "128.000", "8753", MEASUREMENT_SOURCE_VALUE="NA"),
        _lab("1", "3023103", day, "3.200", "9557"),
        _lab("2", "3019550", f"{day} 10:00:00", "126", "8753"),
        _lab("2", "3004501", f"{day} 10:00:00", "500", "8840"),
        _lab("2", "3001420", f"{day} 10:00:00", "1.5", "0", UNIT_SOURCE_VALUE="mg/dL"),
        _lab("3", "3019550", f"{day} 11:00:00", "120", "8753", OPERATOR_CONCEPT_ID="4171756"),
        _lab("4", "3003181", f"{day} 11:00:00", "110", "8753"),
        _lab("4", "3019550", f"{day} 11:00:00", "139", "8753"),
        _lab("5", "0", f"{day} 12:00:00", "131", "0", MEASUREMENT_SOURCE_VALUE="Sodium",
             UNIT_SOURCE_VALUE="mmol/L"),
        _lab("6", "3019550", f"{day} 12:00:00", "130", "8753"),
    ])  # fmt: skip
    _tsv(root / "cdm" / "DRUG_EXPOSURE.csv", _DRUG, [
        {"PERSON_ID": "1", "DRUG_CONCEPT_ID": "19112599", "DRUG_EXPOSURE_START_DATE": "2180-05-05",
         "DRUG_EXPOSURE_START_DATETIME": "2180-05-05 08:00:00",
         "DRUG_EXPOSURE_END_DATE": "2180-05-05", "DRUG_SOURCE_VALUE": "00054429731"},
        {"PERSON_ID": "2", "DRUG_CONCEPT_ID": "40165015", "DRUG_EXPOSURE_START_DATE": "2180-01-01",
         "DRUG_EXPOSURE_END_DATE": "2180-12-31"},
    ])  # fmt: skip
    _tsv(root / "cdm" / "CONDITION_OCCURRENCE.csv", _CONDITION, [
        {"PERSON_ID": "5", "CONDITION_CONCEPT_ID": "319835", "CONDITION_START_DATE": "2179-01-01",
         "CONDITION_SOURCE_VALUE": "I50.9", "CONDITION_SOURCE_CONCEPT_ID": "45591453"},
        {"PERSON_ID": "6", "CONDITION_CONCEPT_ID": "4064161", "CONDITION_START_DATE": "2179-02-01",
         "CONDITION_SOURCE_VALUE": "liver cirrhosis (local text)"},
    ])  # fmt: skip
    _tsv(root / "vocab" / "CONCEPT.csv", _CONCEPT, [
        _concept("3019550", "Sodium [Moles/volume] in Serum or Plasma", "LOINC", "Lab Test",
                 "2951-2"),
        _concept("3023103", "Potassium [Moles/volume] in Serum or Plasma", "LOINC", "Lab Test",
                 "2823-3"),
        _concept("3004501", "Glucose [Mass/volume] in Serum or Plasma", "LOINC", "Lab Test",
                 "2345-7"),
        _concept("3001420", "Magnesium [Mass/volume] in Serum or Plasma", "LOINC", "Lab Test",
                 "19123-9"),
        _concept("3003181", "Sodium [Moles/volume] in Urine", "LOINC", "Lab Test", "2955-3"),
        _concept("8753", "millimole per liter", "UCUM", "Unit", "mmol/L"),
        _concept("9557", "milliequivalent per liter", "UCUM", "Unit", "meq/L"),
        _concept("8840", "milligram per deciliter", "UCUM", "Unit", "mg/dL"),
        _concept("4171756", "<", "SNOMED", "Qualifier Value", "276139006"),
        _concept("19112599", "furosemide 40 MG Oral Tablet", "RxNorm", "Clinical Drug", "313988"),
        _concept("956874", "furosemide", "RxNorm", "Ingredient", "4603"),
        _concept("40165015", "hydrochlorothiazide 12.5 MG / lisinopril 20 MG Oral Tablet",
                 "RxNorm", "Clinical Drug", "197885"),
        _concept("974166", "hydrochlorothiazide", "RxNorm", "Ingredient", "5487"),
        _concept("319835", "Congestive heart failure", "SNOMED", "Clinical Finding", "42343007"),
        _concept("45591453", "Heart failure, unspecified", "ICD10CM", "5-char billing code",
                 "I50.9"),
        _concept("4064161", "Cirrhosis of liver", "SNOMED", "Clinical Finding", "19943007"),
        _concept("8507", "MALE", "Gender", "Gender", "M", invalid="D"),
    ])  # fmt: skip
    _tsv(root / "vocab" / "CONCEPT_ANCESTOR.csv",
         ["ancestor_concept_id", "descendant_concept_id", "min_levels_of_separation",
          "max_levels_of_separation"],
         [{"ancestor_concept_id": a, "descendant_concept_id": d, "min_levels_of_separation": "1",
           "max_levels_of_separation": "1"}
          for a, d in (("956874", "19112599"), ("974166", "40165015"),
                       ("956874", "956874"))])  # fmt: skip
    return root


def test_an_upper_case_tab_delimited_export_lists_the_hand_computed_cases(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Hand-computed (seed profile, window 2180-05-06):
    1: Na 128.000 (date only: index 00:00), K 3.200 meq/L -> hypokalemia; furosemide given
       2180-05-05 08:00 with end date 2180-05-05 -> active (end of day + 7 days grace): mild
       with 2 risk factors -> soon (tier 2); hypokalemia is a correction risk.
    2: Na 126 with glucose 500 -> 126 + 1.6 * 4 = 132.4 mild; Mg 1.5 mg/dL (unit from the
       source value) -> hypomagnesemia; HCTZ/lisinopril via concept_ancestor -> thiazide:
       2 factors -> soon.
    3: `<` 120 -> censored 120, moderate but no risk factor -> not listed.
    4: urine sodium 110 is not serum sodium; serum 139 -> not a case.
    5: concept 0, source value "Sodium" -> lab dictionary: 131 mild; I50.9 -> heart failure
       -> routine. 6: 130 mild; SNOMED 19943007 concept only -> cirrhosis -> routine.
    Person 1's two results are dated by measurement_date alone: 2 of the 10 timed rows (over
    5 %), so the night warns of them (date_only_times, exit 4) and of nothing else."""
    root = _export(tmp_path / "export")
    out = tmp_path / "out"
    window = ["--window-start", "2180-05-06", "--window-end", "2180-05-07"]
    status = main(["run", "--no-flow", "--source", "omop", "--input", str(root), "--out",
                   str(out), *window])  # fmt: skip
    err = capsys.readouterr().err
    assert status == 4, err
    manifest = json.loads((out / "2180-05-06" / "run_manifest.json").read_text("utf-8"))
    [warning] = manifest["warnings"]
    assert warning["code"] == "date_only_times"
    assert warning["message"].startswith("2 of 10 OMOP measurement row(s) (20%) are dated by")
    review = pd.read_csv(out / "2180-05-06" / "review_list.csv", dtype=str)
    got = review[["tier", "patient_id", "corrected_sodium", "severity", "risk_factors",
                  "correction_risk"]].values.tolist()  # fmt: skip
    assert got == [
        ["2", "1", "128.0", "mild", "hypokalemia;loop_diuretic", "true"],
        ["2", "2", "132.4", "mild", "hypomagnesemia;thiazide_diuretic", "false"],
        ["3", "6", "130.0", "mild", "cirrhosis", "true"],
        ["3", "5", "131.0", "mild", "heart_failure", "false"],
    ]
    quarantine = pd.read_csv(out / "2180-05-06" / "quarantine.csv", dtype=str)
    assert quarantine.empty


def test_a_days_supply_beyond_any_calendar_is_no_end_not_a_crash(tmp_path: Path) -> None:
    """days_supply `1e400` (infinite), `99999999` or one that runs past the last date pandas
    holds gives no end (the record reads as ongoing, like one without an end date); 30 days
    still gives start + 30 days."""
    drugs = [
        _drug(drug_exposure_start_datetime="2026-11-01 09:00:00", days_supply="1e400"),
        _drug(drug_exposure_start_datetime="2026-11-01 09:00:00", days_supply="99999999"),
        _drug(drug_exposure_start_datetime="2262-01-01 09:00:00", days_supply="365"),
        _drug(drug_exposure_start_datetime="2026-11-01 09:00:00", days_supply="30"),
    ]
    frame = read(extract(tmp_path, drugs=drugs), "medications").frame
    assert frame["end_time"].isna().tolist() == [True, True, True, False]
    assert frame.loc[3, "end_time"] == pd.Timestamp("2026-12-01 09:00")


# ------------------------------------------------------------------ condition source values


def test_a_source_code_followed_by_its_description_is_read_by_its_code(tmp_path: Path) -> None:
    """ETLs often write the code and its title into condition_source_value. Without a concept
    table the code decides: `I50.9 - Heart failure, unspecified` and `N18.4|CKD stage 4` are
    heart failure and CKD, `571.5 Cirrhosis of liver without mention of alcohol` is cirrhosis
    (ICD-9); a plain description (`Hypertension`) stays without a code."""
    base = {"person_id": "7", "condition_concept_id": "0", "condition_start_date": "2026-01-05"}
    conditions = [
        {**base, "condition_source_value": "I50.9 - Heart failure, unspecified"},
        {**base, "condition_source_value": "N18.4|CKD stage 4"},
        {**base, "condition_source_value": "571.5 Cirrhosis of liver without mention of alcohol"},
        {**base, "condition_source_value": "ICD10CM:E22.2 SIADH"},
        {**base, "condition_source_value": "Hypertension"},
    ]
    table = read(extract(tmp_path, conditions=conditions), "diagnoses")
    frame = table.frame
    assert frame[["code", "code_system"]].values.tolist() == [
        ["I50.9", "ICD-10-CM"], ["N18.4", "ICD-10-CM"], ["571.5", "ICD-9-CM"],
        ["E22.2", "ICD-10-CM"],
    ]  # fmt: skip
    assert table.not_relevant == {"no_condition_code": 1}
    cleaned = clean_diagnoses(frame, RULES, WINDOW)
    assert list(cleaned["condition"]) == ["heart_failure", "ckd", "cirrhosis", "siadh"]


def test_a_vocabulary_file_that_is_not_utf8_stops_with_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Athena writes UTF-8; a CONCEPT.csv saved again as Windows-1252 (`Café`) stops the night
    (exit 3) naming the file and the mapping key that reads it, with no concept text."""
    root = _export(tmp_path / "export")
    with (root / "vocab" / "CONCEPT.csv").open("ab") as handle:
        handle.write(
            b"999\tCaf\xe9 au lait\tDrug\tRxNorm\tIngredient\tS\t99999\t19700101\t20991231\t\n"
        )
    window = ["--window-start", "2180-05-06", "--window-end", "2180-05-07"]
    status = main(["run", "--no-flow", "--source", "omop", "--input", str(root), "--out",
                   str(tmp_path / "out"), *window])  # fmt: skip
    err = capsys.readouterr().err
    assert status == 3
    assert "CONCEPT.csv is not utf-8 text" in err and "encoding: latin-1" in err
    assert "Caf" not in err


def test_bigquery_timestamps_with_the_zone_name_utc_are_read(tmp_path: Path) -> None:
    """BigQuery writes TIMESTAMP columns in a CSV export as `2026-11-20 08:00:00 UTC`; that is
    the offset +00:00. Such a measurement and a drug start were unreadable: quarantined
    missing_key (the case lost, exit 4 with a time-format warning)."""
    labs = [measurement(measurement_datetime="2026-11-20 08:00:00 UTC"),
            measurement(measurement_id="2", measurement_datetime="2026-11-20 09:30:00.000 UTC",
                        value_as_number="126", value_source_value="126")]  # fmt: skip
    drugs = [_drug(drug_exposure_start_datetime="2026-11-13 08:00:00 UTC",
                   drug_exposure_start_date="2026-11-13",
                   drug_exposure_end_datetime="2026-11-21 10:00:00 UTC")]  # fmt: skip
    folder = extract(tmp_path, labs, drugs)
    frame = read(folder, "labs").frame
    assert list(frame["specimen_time"]) == [
        pd.Timestamp("2026-11-20 08:00:00"),
        pd.Timestamp("2026-11-20 09:30:00"),
    ]
    meds = read(folder, "medications").frame
    assert (meds.loc[0, "start_time"], meds.loc[0, "end_time"]) == (
        pd.Timestamp("2026-11-13 08:00:00"),
        pd.Timestamp("2026-11-21 10:00:00"),
    )
