"""`--source fhir`, Conditions and Patients, and resources of odd shape (quarantined, never
fatal), on hand-written resources."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from tests.helpers import RULES, WINDOW

from fhir_export import balanced, condition, read, write_export
from hyposcreen.clean import clean_diagnoses

# ------------------------------------------------------------------ Condition and Patient


def test_condition_codings_systems_status_and_times(tmp_path: Path) -> None:
    icd10 = "http://hl7.org/fhir/sid/icd-10-cm"
    write_export(
        tmp_path,
        {
            "Condition.ndjson": [
                condition(
                    {"system": "http://snomed.info/sct", "code": "73211009"},
                    {"system": icd10, "code": "K74.60", "display": "Cirrhosis"},
                ),
                condition(
                    {"system": "urn:oid:2.16.840.1.113883.6.103", "code": "428.0"},
                    recordedDate=None,
                    onsetDateTime="2019-04-01",
                ),
                condition(
                    {"system": "http://snomed.info/sct/", "code": "19943007"},
                    recordedDate=None,
                    onsetPeriod={"start": "2020-02-02"},
                ),
                condition(
                    {"code": "N18.3"},
                    verificationStatus={"coding": [{"code": "refuted"}]},
                    clinicalStatus={"coding": [{"code": "active"}]},
                ),
                condition({"code": "E222"}, clinicalStatus={"text": "resolved"}),
                condition({"system": "urn:local", "code": "X1"}),
            ]
        },
    )
    table = read(tmp_path, "diagnoses")
    dx = table.frame
    assert list(dx["code"]) == ["K74.60", "428.0", "19943007", "N18.3", "E222", "X1"]
    assert list(dx["code_system"]) == [
        "ICD-10-CM",
        "ICD-9-CM",
        "SNOMED",
        "ICD-10-CM",
        "ICD-10-CM",
        "urn:local",
    ]
    assert list(dx["recorded_time"])[:3] == [
        pd.Timestamp("2026-01-05"),
        pd.Timestamp("2019-04-01"),
        pd.Timestamp("2020-02-02"),
    ]
    assert dx["description"].iloc[0] == "Cirrhosis"
    cleaned = clean_diagnoses(dx, RULES, WINDOW)
    assert cleaned["condition"].tolist()[:3] == ["cirrhosis", "heart_failure", "cirrhosis"]
    assert cleaned["reason"].tolist()[3:] == ["status", "status", "unknown_code_system"]
    assert balanced(table, cleaned)


def test_patient_id_mrn_name_birth_date_and_sex(tmp_path: Path) -> None:
    patient = {
        "resourceType": "Patient",
        "id": "P1",
        "gender": "female",
        "birthDate": "1950-02-03",
        "identifier": [
            {"system": "urn:ssn", "value": "999"},
            {"type": {"text": "MRN"}, "value": "MRN0001"},
        ],
        "name": [
            {"use": "maiden", "family": "X"},
            {"use": "official", "given": ["Ann", "B"], "family": "Smith"},
        ],
    }
    write_export(tmp_path, {"Patient.ndjson": [patient]})
    row = read(tmp_path, "patients").frame.iloc[0]
    assert (row["patient_id"], row["mrn"], row["name"], row["birth_date"], row["sex"]) == (
        "P1",
        "MRN0001",
        "Ann B Smith",
        "1950-02-03",
        "female",
    )


def test_malformed_and_oddly_shaped_resources_are_quarantined_never_fatal(tmp_path: Path) -> None:
    write_export(
        tmp_path,
        {
            "Condition.ndjson": [
                condition({"system": "http://snomed.info/sct", "code": "19943007"}),
                "{not json",
                '["a", "list"]',
                {
                    "resourceType": "Condition",
                    "code": ["K74.60"],
                    "subject": "Patient/P1",
                    "recordedDate": 20260105,
                    "clinicalStatus": 7,
                },
                {"resourceType": "Condition", "code": {"coding": "K74.60"}, "meta": {"x": [1]}},
            ]
        },
    )
    table = read(tmp_path, "diagnoses")
    cleaned = clean_diagnoses(table.frame, RULES, WINDOW)
    assert table.rows_in == 5
    assert sorted(cleaned["reason"].fillna("")) == [
        "",
        "malformed_row",
        "malformed_row",
        "missing_key",
        "missing_key",
    ]
    assert balanced(table, cleaned)
