"""MIMIC-IV hosp adapter (`--source mimic`): item ids through d_labitems and the shipped
dictionary, fluids (urine is never serum), value quirks, diagnosis times from admissions,
layout errors, the committed MIMIC-layout fixture and the converted sample."""

from __future__ import annotations

import gzip
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from sample_data import to_mimic

from cross_format import SAMPLE, comparable, review_list
from cross_format import run as run_sample
from hyposcreen.adapters import mimic
from hyposcreen.clean import clean_labs, lab_row_filter
from hyposcreen.cli import main
from hyposcreen.config import RunSettings, SiteMapping, parse_window
from hyposcreen.errors import InputError
from hyposcreen.ingest.canonical import IngestedTable
from hyposcreen.rules.loader import load_rules
from hyposcreen.runners.in_process import run_pipeline

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "data" / "mimic"
HOSP = FIXTURE / "hosp"
RULES = load_rules()
WINDOW = parse_window("2150-03-10", "2150-03-11")


def read(name: str, folder: Path = FIXTURE) -> IngestedTable:
    row_filter = lab_row_filter(RULES, WINDOW) if name == "labs" else None
    return mimic.read_table(folder, name, SiteMapping(), RULES, WINDOW, row_filter)


def labs_of(subject: str) -> pd.DataFrame:
    labs = read("labs").frame
    return labs.loc[labs["patient_id"] == subject].reset_index(drop=True)


# ------------------------------------------------------------------ lab items


def test_item_ids_are_identified_by_dictionary_label_and_fluid() -> None:
    items = pd.DataFrame(
        {
            "itemid": ["50983", "50824", "51100", "59998", "59994", "51221", "50983", "61000"],
            "label": ["Sodium", "Sodium, Whole Blood", "Sodium, Urine", "Sodium", "Sodium",
                      "Hematocrit", "Sodium", "Kalium"],
            "fluid": ["Blood", "Blood", "Urine", "Urine", "Ascites", "Blood", "Urine", "Blood"],
        }
    )  # fmt: skip
    site = RULES.with_lab_dictionary({"61000": "potassium"})
    found = mimic.identify_items(items, site)
    assert list(found["analyte"].fillna("")) == [
        "sodium", "sodium", "urine_sodium", "urine_sodium", "", "", "urine_sodium", "potassium",
    ]  # fmt: skip
    assert list(found["reason"].fillna("")) == ["", "", "", "", "other_fluid",
                                                "unknown_lab_name", "", ""]  # fmt: skip


def test_urine_sodium_items_are_urine_sodium_never_serum_sodium() -> None:
    """51100 and a "Sodium" item whose d_labitems fluid is Urine end up as urine sodium with
    specimen type Urine (the workup analyte); the ascites sodium is not relevant."""
    labs = labs_of("10003")
    by_value = labs.set_index("value_raw")
    assert by_value.loc["20", "analyte"] == "urine_sodium"
    assert by_value.loc["30", "analyte"] == "urine_sodium"
    assert set(by_value.loc[["20", "30"], "specimen_type"]) == {"Urine"}
    assert by_value.loc["140", "analyte"] == "sodium"
    assert "115" not in set(labs["value_raw"]) and "112" not in set(labs["value_raw"])
    cleaned = clean_labs(labs, RULES)
    sodium = cleaned.loc[cleaned["analyte"] == "sodium", "value_num"]
    assert list(sodium) == [140.0]


def test_labevents_are_filtered_to_relevant_items_before_pandas_and_counted() -> None:
    table = read("labs")
    assert table.rows_in == 56
    assert table.not_relevant == {"unknown_lab_name": 3, "other_fluid": 1, "outside_window": 1}
    counts = table.source_counts["labevents"]
    assert (counts["read"], counts["mapped"], counts["unmapped"]) == (56, 52, 4)
    assert table.source_counts["d_labitems"] == {"read": 15}
    assert len(table.frame) + sum(table.not_relevant.values()) == table.rows_in


def test_values_units_times_and_keys_keep_the_mimic_quirks() -> None:
    labs = labs_of("10004").set_index("source_row")
    assert labs.loc["13", "value_raw"] == "___"
    assert (labs.loc["14", "value_raw"], labs.loc["14", "unit"]) == ("126", "MEQ/L")
    assert labs.loc["16", "status"] == "cancelled"
    assert labs.loc["15", "specimen_time"] == pd.Timestamp("2150-03-10 12:00")
    assert labs.loc["15", "result_time"] == pd.Timestamp("2150-03-10 12:50")
    assert (labs.loc["15", "specimen_id"], labs.loc["15", "encounter_id"]) == ("70010", "20004")
    assert labs.loc["15", "lab_name"] == "Sodium (itemid 50983)"
    assert set(labs["source_file"]) == {"labevents.csv"}
    cleaned = clean_labs(labs.reset_index(), RULES).set_index("source_row")
    assert cleaned.loc["13", "reason"] == "non_numeric"
    assert cleaned.loc["14", "value_num"] == 126.0  # value without valuenum is read
    assert cleaned.loc["16", "reason"] == "status"


def test_blood_gas_items_count_as_blood() -> None:
    labs = labs_of("10002")
    assert sorted(labs["analyte"]) == ["potassium", "sodium"]
    calcium = labs_of("10007").set_index("analyte")
    assert calcium.loc["calcium_ionized", "unit"] == "mmol/L"


# ------------------------------------------------------------------ other tables


def test_diagnoses_are_dated_at_the_admission_of_their_stay() -> None:
    table = read("diagnoses")
    frame = table.frame.set_index("code")
    assert frame.loc["K7031", "recorded_time"] == pd.Timestamp("2150-03-09 22:00")
    assert frame.loc["K7031", "code_system"] == "ICD-10-CM"
    assert frame.loc["4280", "code_system"] == "ICD-9-CM"
    assert frame.loc["4280", "recorded_time"] == pd.Timestamp("2149-12-01 09:00")
    assert pd.isna(frame.loc["N183", "recorded_time"])  # its hadm_id has no admission
    assert table.source_counts["diagnoses_icd"]["unmapped_no_admission_time"] == 2
    # of the two undated codes, N183 (CKD) is a listed condition, E119 is not
    assert table.source_counts["admissions"] == {"read": 5, "listed_codes_without_stay": 1}
    assert table.auxiliary_places == {
        "admissions_listed_codes_without_stay": ("diagnoses_icd.csv:7",)
    }


def test_prescriptions_and_patients_map_onto_the_canonical_columns() -> None:
    meds = read("medications").frame.set_index("drug_name")
    assert meds.loc["Furosemide", "start_time"] == pd.Timestamp("2150-03-09 16:00")
    assert meds.loc["Furosemide", "end_time"] == pd.Timestamp("2150-03-14 10:00")
    assert meds.loc["Furosemide", "route"] == "PO"
    assert pd.isna(meds.loc["Sertraline", "end_time"])
    assert pd.isna(meds.loc["Lorazepam", "start_time"])  # starttime "___"
    patients = read("patients").frame
    assert len(patients) == 9 and patients["birth_date"].isna().all()
    assert patients.set_index("patient_id").loc["10002", "sex"] == "F"


# ------------------------------------------------------------------ layouts


def test_a_folder_that_is_not_mimic_names_the_expected_and_found_tables() -> None:
    with pytest.raises(InputError) as caught:
        mimic.check_layout(SAMPLE)
    message = str(caught.value)
    assert "labevents, prescriptions, diagnoses_icd, admissions" in message
    assert "MIMIC-IV" in message and "labs.csv" in message


def test_missing_admissions_is_a_layout_error(tmp_path: Path) -> None:
    shutil.copytree(HOSP, tmp_path / "hosp")
    (tmp_path / "hosp" / "admissions.csv").unlink()
    with pytest.raises(InputError, match="no admissions table"):
        mimic.check_layout(tmp_path)


@pytest.mark.parametrize("table", ["labevents", "d_labitems"])
def test_a_table_delivered_in_a_zip_archive_is_named_with_what_to_do(
    tmp_path: Path, table: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The readers open gzip streams, not archives: a table zipped whole (required, or an
    optional one whose absence would change what the items mean) stops the run at exit 3,
    naming the archive and saying to unpack it, instead of "no labevents table"."""
    shutil.copytree(HOSP, tmp_path / "hosp")
    with zipfile.ZipFile(tmp_path / "hosp" / f"{table}.csv.zip", "w") as packed:
        packed.write(HOSP / f"{table}.csv", f"{table}.csv")
    (tmp_path / "hosp" / f"{table}.csv").unlink()
    status = main(
        ["run", "--no-flow", "--source", "mimic", "--input", str(tmp_path), "--out",
         str(tmp_path / "out"), "--window-start", "2150-03-10", "--window-end", "2150-03-11"]
    )  # fmt: skip
    assert status == 3
    error = capsys.readouterr().err
    assert f"hosp/{table}.csv.zip is an archive the reader does not open" in error
    assert "Unpack the table file into the same folder" in error
    assert "no labevents table" not in error


def test_a_table_split_in_numbered_parts_is_named_with_the_folder_to_move_them_to(
    tmp_path: Path,
) -> None:
    """BigQuery writes a table over 1 GB (labevents always) as labevents-000000000000.csv.gz,
    -000000000001 ...: no labevents file, so the run stops (exit 3); the message names the
    parts and the folder labevents/ whose files are read as one table."""
    shutil.copytree(HOSP, tmp_path / "hosp")
    lines = (HOSP / "labevents.csv").read_text().splitlines(keepends=True)
    for number, rows in enumerate((lines[1:20], lines[20:])):
        part = tmp_path / "hosp" / f"labevents-{number:012d}.csv.gz"
        part.write_bytes(gzip.compress("".join([lines[0], *rows]).encode()))
    (tmp_path / "hosp" / "labevents.csv").unlink()
    with pytest.raises(InputError) as stopped:
        mimic.check_layout(tmp_path)
    assert "no labevents table" in str(stopped.value)
    assert (
        "hosp/labevents-000000000000.csv.gz, hosp/labevents-000000000001.csv.gz look like the 2 "
        "part(s) of the labevents table split by the exporter: move them into a folder "
        "hosp/labevents/"
    ) in str(stopped.value)
    # moved so, the parts read as the one file did (the fixture's 56 lab rows)
    (tmp_path / "hosp" / "labevents").mkdir()
    for part in (tmp_path / "hosp").glob("labevents-*.csv.gz"):
        part.rename(tmp_path / "hosp" / "labevents" / part.name)
    mimic.check_layout(tmp_path)
    assert read("labs", tmp_path).rows_in == read("labs").rows_in == 56


def test_flat_gzipped_tables_without_hosp_folder_read_the_same(tmp_path: Path) -> None:
    for path in HOSP.glob("*.csv"):
        with path.open("rb") as source, gzip.open(tmp_path / f"{path.name}.gz", "wb") as target:
            shutil.copyfileobj(source, target)
    flat = read("labs", tmp_path).frame
    pd.testing.assert_frame_equal(
        flat.drop(columns="source_file"), read("labs").frame.drop(columns="source_file")
    )
    assert set(flat["source_file"]) == {"labevents.csv.gz"}
    assert mimic.input_files(tmp_path, "labs") == [
        tmp_path / "labevents.csv.gz",
        tmp_path / "d_labitems.csv.gz",
    ]


def test_a_labevents_file_without_itemid_is_a_clear_error(tmp_path: Path) -> None:
    shutil.copytree(HOSP, tmp_path / "hosp")
    labevents = pd.read_csv(HOSP / "labevents.csv", dtype=str)
    labevents.drop(columns="itemid").to_csv(tmp_path / "hosp" / "labevents.csv", index=False)
    with pytest.raises(InputError, match=r"labevents\.csv \(labevents\) lacks .*itemid"):
        read("labs", tmp_path)


def test_upper_case_mimic_iii_spellings_are_read(tmp_path: Path) -> None:
    """LABEVENTS.csv with upper-case columns and no specimen_id/storetime, PRESCRIPTIONS with
    STARTDATE/ENDDATE, DIAGNOSES_ICD with ICD9_CODE and no version."""
    files = {
        "LABEVENTS": "ROW_ID,SUBJECT_ID,HADM_ID,ITEMID,CHARTTIME,VALUE,VALUENUM,VALUEUOM,FLAG\n"
        "1,42,900,50983,2150-03-10 08:00:00,127,127,mEq/L,abnormal\n",
        "D_LABITEMS": "ROW_ID,ITEMID,LABEL,FLUID,CATEGORY,LOINC_CODE\n"
        "1,50983,SODIUM,BLOOD,CHEMISTRY,2951-2\n",
        "PRESCRIPTIONS": "ROW_ID,SUBJECT_ID,HADM_ID,STARTDATE,ENDDATE,DRUG,ROUTE\n"
        "1,42,900,2150-03-01 00:00:00,2150-03-20 00:00:00,HydroCHLOROthiazide,PO\n",
        "DIAGNOSES_ICD": "ROW_ID,SUBJECT_ID,HADM_ID,SEQ_NUM,ICD9_CODE\n1,42,900,1,5715\n",
        "ADMISSIONS": "ROW_ID,SUBJECT_ID,HADM_ID,ADMITTIME,DISCHTIME\n"
        "1,42,900,2150-03-09 10:00:00,2150-03-15 10:00:00\n",
    }
    for name, text in files.items():
        (tmp_path / f"{name}.csv").write_text(text)
    mimic.check_layout(tmp_path)
    labs = read("labs", tmp_path).frame
    assert (labs.loc[0, "analyte"], labs.loc[0, "value_raw"]) == ("sodium", "127")
    meds = read("medications", tmp_path).frame
    assert meds.loc[0, "start_time"] == pd.Timestamp("2150-03-01")
    assert meds.loc[0, "end_time"] == pd.Timestamp("2150-03-20")
    diagnoses = read("diagnoses", tmp_path).frame
    assert (diagnoses.loc[0, "code"], diagnoses.loc[0, "code_system"]) == ("5715", "ICD-9-CM")
    assert diagnoses.loc[0, "recorded_time"] == pd.Timestamp("2150-03-09 10:00")


# ------------------------------------------------------------------ whole runs


@pytest.mark.slow
def test_fixture_run_lists_the_hand_computed_cases(tmp_path: Path) -> None:
    """tests/data/mimic/README.md: five listed cases; urine-only and hyperglycemia-related
    patients are not cases; every source row is accounted for."""
    summary = run_pipeline(
        RunSettings(input_dir=FIXTURE, out_dir=tmp_path, window=WINDOW, source="mimic")
    )
    review = review_list(summary)
    expected = pd.DataFrame(
        {
            "tier": ["1", "2", "2", "2", "3"],
            "patient_id": ["10002", "10004", "10007", "10006", "10001"],
            "index_sodium": ["118.0", "124.0", "129.0", "133.0", "128.0"],
            "severity": ["severe", "moderate", "mild", "mild", "mild"],
            "risk_factors": [
                "cirrhosis;hypokalemia;ssri",
                "heart_failure",
                "hypocalcemia;hypomagnesemia",
                "cramp_documented",
                "loop_diuretic",
            ],
            "correction_risk": ["true", "false", "false", "false", "false"],
        }
    )
    pd.testing.assert_frame_equal(review[expected.columns], expected)
    manifest = summary.manifest
    assert manifest["reconciled"] is True
    assert manifest["reconciliation"]["labs"]["rows_in"] == 56
    assert manifest["reconciliation"]["diagnoses"]["quarantined"] == 1


@pytest.mark.slow
def test_sample_as_mimic_gives_the_canonical_review_list(tmp_path: Path) -> None:
    """Issue 5 acceptance: the sample converted to the MIMIC-IV layout lists the same patients
    with the same tiers, risk factors, severity and sodium values as the canonical run."""
    canonical = comparable(review_list(run_sample(SAMPLE, tmp_path / "canonical")))
    to_mimic.convert(tmp_path / "mimic", gzip=True)
    summary = run_sample(tmp_path / "mimic", tmp_path / "out", source="mimic")
    pd.testing.assert_frame_equal(comparable(review_list(summary), numeric_ids=True), canonical)
    assert summary.manifest["reconciled"] is True


def test_censored_results_kept_in_comments_are_read_as_censored(tmp_path: Path) -> None:
    """MIMIC-IV: an empty value with '<20.' or 'GREATER THAN 500.' in comments is a censored
    result (value and operator), not a non-numeric row; other comments stay non-numeric."""
    folder = tmp_path / "mimic"
    shutil.copytree(FIXTURE, folder)
    times = "2150-03-10 09:00:00,2150-03-10 09:30:00"
    extra = [
        f"901,10009,,79001,50931,,{times},,,mg/dL,,,,,GREATER THAN 500.",
        f"902,10009,,79002,51100,,{times},,,mEq/L,,,,,<20.",
        f"903,10009,,79003,50983,,{times},,,mEq/L,,,,,HEMOLYZED.",
    ]
    with (folder / "hosp" / "labevents.csv").open("a", encoding="utf-8") as handle:
        handle.write("\n".join(extra) + "\n")
    labs = read("labs", folder).frame
    labs = labs.loc[labs["patient_id"] == "10009"].set_index("specimen_id")
    assert labs.loc["79001", "value_raw"] == "GREATER THAN 500."
    assert labs.loc["79002", "value_raw"] == "<20."
    assert pd.isna(labs.loc["79003", "value_raw"])
    cleaned = clean_labs(labs.reset_index(), RULES).set_index("specimen_id")
    assert (cleaned.loc["79001", "value_num"], cleaned.loc["79001", "censored"]) == (500.0, ">")
    assert (cleaned.loc["79002", "value_num"], cleaned.loc["79002", "censored"]) == (20.0, "<")
    assert cleaned.loc["79003", "reason"] == "non_numeric"
