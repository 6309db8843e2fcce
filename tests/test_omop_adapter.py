"""OMOP CDM 5.4 adapter (`--source omop`): drug concepts to ingredients, condition codes,
persons, layout errors, and the converted sample (measurements: test_omop_measurements.py)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sample_data import to_omop

from cross_format import SAMPLE, comparable, review_list, run
from hyposcreen.adapters import omop
from hyposcreen.clean import clean_diagnoses, clean_medications
from hyposcreen.errors import InputError
from omop_extract import RULES, WINDOW, extract, measurement, read, write

# ------------------------------------------------------------------ drugs


def test_drug_concepts_reach_ingredients_through_concept_ancestor(tmp_path: Path) -> None:
    """A clinical drug concept under an ingredient of the list matches its class even when
    drug_source_value is only an NDC; the name as written is kept."""
    concepts = [
        {"concept_id": "956874", "concept_name": "furosemide", "vocabulary_id": "RxNorm",
         "concept_class_id": "Ingredient", "concept_code": "4603"},
        {"concept_id": "19112599", "concept_name": "furosemide 40 MG Oral Tablet",
         "vocabulary_id": "RxNorm", "concept_class_id": "Clinical Drug", "concept_code": "315971"},
        {"concept_id": "40165015", "concept_name": "hydrochlorothiazide 12.5 MG / lisinopril 20 MG",
         "vocabulary_id": "RxNorm", "concept_class_id": "Clinical Drug", "concept_code": "197885"},
        {"concept_id": "974166", "concept_name": "hydrochlorothiazide", "vocabulary_id": "RxNorm",
         "concept_class_id": "Ingredient", "concept_code": "5487"},
    ]  # fmt: skip
    ancestors = [
        {"ancestor_concept_id": "956874", "descendant_concept_id": "19112599"},
        {"ancestor_concept_id": "974166", "descendant_concept_id": "40165015"},
        {"ancestor_concept_id": "21601461", "descendant_concept_id": "19112599"},
    ]
    start = {"person_id": "7", "drug_exposure_start_datetime": "2026-11-01 09:00:00"}
    drugs = [
        {**start, "drug_concept_id": "19112599", "drug_source_value": "00054429731",
         "drug_exposure_end_date": "2026-11-30", "route_source_value": "PO"},
        {**start, "drug_concept_id": "40165015", "drug_source_value": "Zestoretic 20/12.5"},
        {**start, "drug_concept_id": "0", "drug_source_value": "Lasix 40 mg",
         "stop_reason": "Regimen completed"},
        {**start, "drug_concept_id": "123", "drug_source_value": "",
         "stop_reason": "ENTERED IN ERROR"},
    ]  # fmt: skip
    folder = extract(tmp_path, drugs=drugs)
    write(folder, "concept", concepts)
    write(folder, "concept_ancestor", ancestors)
    table = read(folder, "medications")
    frame = table.frame
    assert list(frame["drug_name"].fillna("")) == [
        "00054429731 [furosemide]",
        "Zestoretic 20/12.5 [hydrochlorothiazide]",
        "Lasix 40 mg",
        "",
    ]
    assert list(frame["rxnorm"].fillna("")) == ["4603", "5487", "", ""]
    assert list(frame["status"].fillna("")) == ["", "", "completed", "entered-in-error"]
    assert frame.loc[0, "end_time"] == pd.Timestamp("2026-11-30 23:59:59")  # inclusive end date
    assert frame.loc[0, "route"] == "PO"
    _, matches = clean_medications(frame, RULES, WINDOW)
    assert sorted(matches["drug_class"]) == ["loop_diuretic", "loop_diuretic", "thiazide_diuretic"]
    assert table.source_counts["drug_exposure"]["unmapped_no_drug_identifier"] == 1
    assert omop.input_files(folder, "medications")[-2:] == [
        folder / "concept.csv",
        folder / "concept_ancestor.csv",
    ]


def test_without_concept_ancestor_the_drug_concept_name_is_matched(tmp_path: Path) -> None:
    concepts = [
        {"concept_id": "19112599", "concept_name": "furosemide 40 MG Oral Tablet",
         "vocabulary_id": "RxNorm", "concept_class_id": "Clinical Drug", "concept_code": "315971"},
    ]  # fmt: skip
    start = {"person_id": "7", "drug_exposure_start_date": "2026-11-01"}
    drugs = [
        {**start, "drug_concept_id": "19112599", "drug_source_value": "00054429731"},
        {**start, "drug_concept_id": "19112599", "drug_source_value": ""},
    ]
    folder = extract(tmp_path, drugs=drugs)
    write(folder, "concept", concepts)
    frame = read(folder, "medications").frame
    assert list(frame["drug_name"]) == [
        "00054429731 [furosemide 40 mg oral tablet]",
        "furosemide 40 MG Oral Tablet",
    ]
    _, matches = clean_medications(frame, RULES, WINDOW)
    assert list(matches["drug_class"]) == ["loop_diuretic", "loop_diuretic"]


def test_days_supply_gives_the_end_when_no_end_date_is_given(tmp_path: Path) -> None:
    base = {"person_id": "7", "drug_concept_id": "0", "drug_source_value": "Furosemide 20 mg"}
    drugs = [
        {**base, "drug_exposure_start_datetime": "2026-11-01 09:00:00", "days_supply": "30"},
        {**base, "drug_exposure_start_datetime": "2026-11-01 09:00:00", "days_supply": "0"},
        {**base, "drug_exposure_start_date": "2026-11-02", "days_supply": "10",
         "drug_exposure_end_date": "2026-11-05"},
    ]  # fmt: skip
    frame = read(extract(tmp_path, drugs=drugs), "medications").frame
    assert frame.loc[0, "end_time"] == pd.Timestamp("2026-12-01 09:00")
    assert pd.isna(frame.loc[1, "end_time"])
    assert frame.loc[2, "end_time"] == pd.Timestamp("2026-11-05 23:59:59")


def test_ingredient_concepts_of_the_shipped_map_work_without_vocabulary(tmp_path: Path) -> None:
    drugs = [
        {"person_id": "7", "drug_concept_id": "739138", "drug_exposure_start_date": "2026-10-01"}
    ]
    frame = read(extract(tmp_path, drugs=drugs), "medications").frame
    assert (frame.loc[0, "drug_name"], frame.loc[0, "rxnorm"]) == ("sertraline", "36437")


# ------------------------------------------------------------------ conditions and persons


def test_condition_codes_from_source_values_source_concepts_and_snomed(tmp_path: Path) -> None:
    concepts = [
        {"concept_id": "45576876", "concept_name": "Other cirrhosis of liver",
         "vocabulary_id": "ICD10CM", "concept_class_id": "5-char billing code",
         "concept_code": "K74.69"},
    ]  # fmt: skip
    base = {"person_id": "7", "condition_concept_id": "0", "condition_start_date": "2026-01-05"}
    conditions = [
        {**base, "condition_source_value": "K74.60"},
        {**base, "condition_source_value": "I509"},
        {**base, "condition_source_value": "4280", "condition_status_source_value": "resolved"},
        {**base, "condition_source_value": "ICD10CM:E22.2"},
        {**base, "condition_source_value": "", "condition_source_concept_id": "45576876"},
        {**base, "condition_concept_id": "4064161", "condition_source_value": "ALD-CIRR"},
        {**base, "condition_concept_id": "4064161", "condition_source_value": "K70.0"},
        {**base, "condition_concept_id": "4229440", "condition_source_value": ""},
    ]
    folder = extract(tmp_path, conditions=conditions)
    write(folder, "concept", concepts)
    table = read(folder, "diagnoses")
    frame = table.frame
    assert list(frame["code"]) == [
        "K74.60",
        "I509",
        "4280",
        "E22.2",
        "K74.69",
        "19943007",
        "19943007",
    ]
    assert list(frame["code_system"]) == [
        "ICD-10-CM", "ICD-10-CM", "ICD-9-CM", "ICD-10-CM", "ICD-10-CM", "SNOMED", "SNOMED",
    ]  # fmt: skip
    assert frame.loc[4, "description"] == "Other cirrhosis of liver"
    assert table.not_relevant == {"no_condition_code": 1}
    cleaned = clean_diagnoses(frame, RULES, WINDOW)
    assert list(cleaned["condition"].fillna("")) == [
        "cirrhosis", "heart_failure", "heart_failure", "siadh", "cirrhosis", "cirrhosis",
        "cirrhosis",
    ]  # fmt: skip
    assert cleaned.loc[2, "reason"] == "status"


def test_person_gives_mrn_birth_date_and_sex(tmp_path: Path) -> None:
    folder = extract(tmp_path)
    write(
        folder,
        "person",
        [
            {"person_id": "7", "person_source_value": "MRN0007", "year_of_birth": "1950",
             "month_of_birth": "3", "day_of_birth": "9", "gender_concept_id": "8532"},
            {"person_id": "8", "person_source_value": "MRN0008", "year_of_birth": "1961",
             "gender_concept_id": "0", "gender_source_value": "M"},
        ],
    )  # fmt: skip
    frame = read(folder, "patients").frame
    assert list(frame["mrn"]) == ["MRN0007", "MRN0008"]
    assert list(frame["birth_date"]) == ["1950-03-09", "1961"]
    assert list(frame["sex"]) == ["F", "M"]


def test_no_person_table_gives_an_empty_patients_table(tmp_path: Path) -> None:
    assert read(extract(tmp_path), "patients").rows_in == 0


# ------------------------------------------------------------------ layout errors


def test_a_folder_that_is_not_omop_names_the_expected_and_found_tables() -> None:
    with pytest.raises(InputError) as caught:
        omop.check_layout(SAMPLE)
    message = str(caught.value)
    assert "measurement, drug_exposure, condition_occurrence" in message
    assert "labs.csv" in message and "OMOP" in message


def test_tables_and_vocabulary_in_subfolders_are_found_once(tmp_path: Path) -> None:
    extract(tmp_path / "cdm")
    write(tmp_path / "vocabulary", "concept", [
        {"concept_id": "2000000002", "concept_name": "Sodium", "vocabulary_id": "LOINC",
         "concept_class_id": "Lab Test", "concept_code": "2947-0"},
    ])  # fmt: skip
    write(tmp_path / "cdm", "measurement", [measurement(measurement_concept_id="2000000002")])
    omop.check_layout(tmp_path)
    assert read(tmp_path, "labs").frame.loc[0, "loinc"] == "2947-0"
    extract(tmp_path / "copy")
    with pytest.raises(InputError, match=r"several subfolders \(cdm/, copy/\)"):
        omop.check_layout(tmp_path)


def test_a_measurement_file_without_person_id_is_a_clear_error(tmp_path: Path) -> None:
    folder = extract(tmp_path, [{k: v for k, v in measurement().items() if k != "person_id"}])
    with pytest.raises(InputError, match=r"measurement\.csv \(measurement\) lacks .*person_id"):
        read(folder, "labs")


# ------------------------------------------------------------------ the converted sample


@pytest.fixture(scope="module")
def canonical_review(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    return comparable(review_list(run(SAMPLE, tmp_path_factory.mktemp("canonical"))))


@pytest.mark.slow
@pytest.mark.parametrize(
    "variant",
    [{"delimiter": "\t"}, {"upper": True, "parquet": True}],
    ids=["tsv-with-vocabulary", "parquet-upper-case-with-vocabulary"],
)
def test_sample_as_omop_gives_the_canonical_review_list(
    tmp_path: Path, canonical_review: pd.DataFrame, variant: dict[str, object]
) -> None:
    """Issue 5 acceptance: same patients, tiers, risk factors, severity, sodium values."""
    to_omop.convert(tmp_path / "omop", **variant)  # type: ignore[arg-type]
    summary = run(tmp_path / "omop", tmp_path / "out", source="omop")
    pd.testing.assert_frame_equal(comparable(review_list(summary), True), canonical_review)
    manifest = summary.manifest
    assert manifest["reconciled"] is True and manifest["source"] == "omop"
    # 171 canonical lab rows less the entered-in-error one an ETL does not load
    assert manifest["source_counts"]["labs"]["measurement"]["read"] == 170
    assert manifest["reconciliation"]["labs"]["rows_in"] == 170


@pytest.mark.slow
def test_sample_as_omop_without_vocabulary_tables_uses_the_shipped_map(
    tmp_path: Path, canonical_review: pd.DataFrame
) -> None:
    """Without concept tables the shipped map resolves the ingredient concepts (risperidone of
    P018, torsemide of P038); only P022, coded by a local combination concept alone, loses its
    drugs and is no longer listed."""
    to_omop.convert(tmp_path / "omop", delimiter=",", vocabulary=False)
    review = comparable(review_list(run(tmp_path / "omop", tmp_path / "out", source="omop")), True)
    columns = ["tier", "severity", "index_sodium", "corrected_sodium", "risk_factors"]
    got = review.set_index("patient_id")[columns]
    expected = canonical_review.set_index("patient_id")[columns]
    assert set(expected.index) - set(got.index) == {"P022"}
    same = expected.index.difference(["P022"])
    pd.testing.assert_frame_equal(got.loc[same], expected.loc[same])
