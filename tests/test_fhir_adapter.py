"""`--source fhir`: a FHIR R4 Bulk Data export read into the canonical tables: its layout.

Unit tests per mapping on hand-written resources, tests on FHIR produced independently
(tests/data/fhir/independent/: Synthea output and an HL7 specification example), and the
cross-format acceptance test: the sample data converted to FHIR gives the same review list.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sample_data.to_fhir import convert
from tests.helpers import RULES, WINDOW, run_cli

from fhir_export import INDEPENDENT, SAMPLE, balanced, obs, read, write_export
from hyposcreen.adapters import fhir
from hyposcreen.clean import USED, clean_labs, clean_medications
from hyposcreen.config import RunSettings, Window, parse_window
from hyposcreen.errors import InputError
from hyposcreen.ingest.canonical import IngestedTable
from hyposcreen.runners.in_process import run_pipeline

# ------------------------------------------------------------------ layout


def test_a_folder_of_csvs_is_not_a_fhir_export(tmp_path: Path) -> None:
    (tmp_path / "labs.csv").write_text("patient_id\nP1\n")
    with pytest.raises(InputError, match=r"not a FHIR Bulk Data export.*Observation\.ndjson"):
        fhir.check_layout(tmp_path)


def test_ndjson_lines_that_are_not_fhir_resources_are_an_input_error(tmp_path: Path) -> None:
    write_export(tmp_path, {"extract.ndjson": [{"patient": "P1", "sodium": 130}]})
    with pytest.raises(InputError, match=r"extract\.ndjson.*resourceType"):
        fhir.check_layout(tmp_path)


def test_an_export_without_observations_is_an_input_error(tmp_path: Path) -> None:
    write_export(tmp_path, {"Patient.ndjson": [{"resourceType": "Patient", "id": "P1"}]})
    with pytest.raises(InputError, match="no Observation files"):
        fhir.check_layout(tmp_path)


def test_resource_type_comes_from_the_name_a_folder_or_the_first_line(tmp_path: Path) -> None:
    patient = {"resourceType": "Patient", "id": "P9"}
    write_export(
        tmp_path,
        {
            "Observation_2.ndjson.gz": [obs()],
            "Observation/part-0.ndjson": [obs()],
            "export-0001.ndjson": [obs()],
            "medication_request-1.ndjson": [],
            "MedicationStatement.000.ndjson": [],
            "sub/people.jsonl": [patient],
            "Encounter.ndjson": [{"resourceType": "Encounter", "id": "E1"}],
        },
    )
    fhir.check_layout(tmp_path)
    labs = {p.relative_to(tmp_path).as_posix() for p in fhir.input_files(tmp_path, "labs")}
    assert labs == {"Observation_2.ndjson.gz", "Observation/part-0.ndjson", "export-0001.ndjson"}
    meds = {p.name for p in fhir.input_files(tmp_path, "medications")}
    assert meds == {"medication_request-1.ndjson", "MedicationStatement.000.ndjson"}
    assert [p.name for p in fhir.input_files(tmp_path, "patients")] == ["people.jsonl"]
    assert read(tmp_path, "labs").rows_in == 3


# ------------------------------------------------------------------ independent FHIR


@pytest.fixture(scope="module")
def independent() -> dict[str, IngestedTable]:
    wide = Window(pd.Timestamp("2010-01-01"), pd.Timestamp("2030-01-01"))
    return {n: read(INDEPENDENT, n, window=wide) for n in fhir.TABLE_TYPES}


def test_synthea_observations_yield_their_sodium_potassium_glucose_and_albumin(
    independent: dict[str, IngestedTable],
) -> None:
    table = independent["labs"]
    labs = table.frame.sort_values("specimen_time")
    assert table.rows_in == 9
    assert list(labs["analyte"]) == ["potassium", "glucose", "sodium", "albumin", "sodium"]
    assert list(labs["loinc"]) == ["6298-4", "2339-0", "2951-2", "1751-7", "2951-2"]
    assert list(labs["value_raw"]) == ["5.1", "85.6", "139.37", "3.6013", "139.37"]
    assert list(labs["unit"]) == ["mmol/L", "mg/dL", "mmol/L", "g/dL", "mmol/L"]
    # -03:00 offsets converted to the site time zone (UTC)
    assert str(labs["specimen_time"].iloc[2]) == "2020-07-16 17:36:08"
    assert str(labs["result_time"].iloc[2]) == "2020-07-16 17:36:08.009000"
    assert set(labs["patient_id"]) == {
        "99fe54a0-68d9-cf86-6a41-60eba7932f86",
        "ba83ab73-a9cb-53f4-3af3-708d41f1cd80",
    }
    assert labs["encounter_id"].iloc[2] == "ba83ab73-a9cb-53f4-56bf-2ce5d6286668"
    cleaned = clean_labs(table.frame, RULES)
    assert set(cleaned["bucket"]) == {USED}
    assert balanced(table, cleaned)
    # pain score, CO2, urine microalbumin and the blood-pressure panel are never parsed
    assert table.not_relevant == {"unknown_loinc": 4}


def test_synthea_and_hl7_medication_requests_are_read_but_match_no_class(
    independent: dict[str, IngestedTable],
) -> None:
    table = independent["medications"]
    meds = table.frame.set_index("rxnorm", drop=False)
    assert table.rows_in == 3
    assert meds.loc["206905", "drug_name"] == "Ibuprofen 400 MG Oral Tablet [Ibu]"
    assert str(meds.loc["206905", "start_time"]) == "2020-03-20 15:46:59"
    assert meds.loc["206905", "status"] == "completed"
    hl7 = table.frame.loc[table.frame["patient_id"] == "pat1"].iloc[0]
    assert hl7["drug_name"] == "Oral Form Oxycodone (product)"
    assert (str(hl7["start_time"]), str(hl7["end_time"])) == (
        "2015-01-15 00:00:00",
        "2016-01-15 00:00:00",
    )
    assert (hl7["status"], hl7["route"], hl7["encounter_id"]) == ("active", "Oral Route", "f001")
    assert table.source_counts["Medication"] == {"files": 1, "indexed": 2}
    cleaned, matches = clean_medications(table.frame, RULES, WINDOW)
    assert matches.empty and set(cleaned["reason"]) == {"unlisted_drug"}


def test_synthea_conditions_and_patient(independent: dict[str, IngestedTable]) -> None:
    dx = independent["diagnoses"].frame
    assert list(dx["code"]) == ["91302008", "423315002"]
    assert set(dx["code_system"]) == {"SNOMED"}
    assert list(dx["status"]) == ["active", "resolved"]
    assert str(dx["recorded_time"].iloc[0]) == "1976-01-20 03:58:16"
    assert dx["description"].iloc[0] == "Sepsis (disorder)"
    patient = independent["patients"].frame.iloc[0]
    assert (patient["patient_id"], patient["mrn"], patient["name"]) == (
        "3af3708d-41f1-cd80-f3dd-ec5ac76072bf",
        "3af3708d-41f1-cd80-f3dd-ec5ac76072bf",
        "Devin82 Anibal473 Cole117",
    )
    assert (patient["sex"], patient["birth_date"]) == ("male", "1960-04-13")


# ------------------------------------------------------------------ cross-format acceptance

COMPARED = [
    "rank",
    "tier",
    "patient_id",
    "index_time",
    "index_sodium",
    "corrected_sodium",
    "severity",
    "latest_sodium",
    "delta_48h",
    "overcorrection",
    "risk_factors",
    "correction_risk",
    "missing_workup",
]


def test_sample_converted_to_fhir_gives_the_same_review_list(tmp_path: Path) -> None:
    """The acceptance of issue 5: same patients, tiers, risk factors, severity and index sodium
    from canonical CSV and from FHIR; both manifests reconcile, with the same buckets."""
    convert(SAMPLE, tmp_path / "fhir")
    window = parse_window("2026-11-20T00:00:00", "2026-11-21T00:00:00")
    canonical = run_pipeline(RunSettings(input_dir=SAMPLE, out_dir=tmp_path / "c", window=window))
    from_fhir = run_pipeline(
        RunSettings(
            input_dir=tmp_path / "fhir", out_dir=tmp_path / "f", window=window, source="fhir"
        )
    )
    expected = pd.read_csv(canonical.review_csv, dtype=str, keep_default_na=False)
    actual = pd.read_csv(from_fhir.review_csv, dtype=str, keep_default_na=False)
    assert len(actual) == 35
    pd.testing.assert_frame_equal(actual[COMPARED], expected[COMPARED])
    manifest = from_fhir.manifest
    assert manifest["reconciled"] is True
    assert manifest["reconciliation"] == canonical.manifest["reconciliation"]
    assert manifest["source_counts"]["labs"]["Observation"]["read"] == 171
    assert manifest["source_counts"]["medications"]["Medication"]["indexed"] == 8
    quarantine = pd.read_csv(tmp_path / "f" / "quarantine.csv", dtype=str)
    assert quarantine["source_file"].str.contains("ndjson").all()
    written = json.loads((tmp_path / "f" / "run_manifest.json").read_text())
    assert written["source"] == "fhir"


def test_cli_on_a_folder_that_is_not_a_fhir_export_exits_3(tmp_path: Path) -> None:
    (tmp_path / "labs.csv").write_text("patient_id\nP1\n")
    done = run_cli(
        "run",
        "--no-flow",
        "--source",
        "fhir",
        "--input",
        str(tmp_path),
        "--window-start",
        "2026-11-20",
        "--window-end",
        "2026-11-21",
        "--out",
        str(tmp_path / "out"),
    )
    assert done.returncode == 3, done.stderr
    assert "not a FHIR Bulk Data export" in done.stderr and "Traceback" not in done.stderr


# ------------------------------------------------------------------ any shape of JSON

_KEYS = [
    "coding",
    "system",
    "code",
    "display",
    "text",
    "reference",
    "value",
    "unit",
    "comparator",
    "start",
    "end",
    "low",
    "high",
    "timing",
    "repeat",
    "boundsPeriod",
    "validityPeriod",
    "route",
    "type",
    "id",
    "resourceType",
    "use",
    "given",
    "family",
    "ingredient",
    "itemCodeableConcept",
    "concept",
    "identifier",
    "valueQuantity",
    "referenceRange",
]
_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=8)
    | st.sampled_from(["http://loinc.org", "2951-2", "#c1", "Patient/P1", "Sodium", "MR"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(_KEYS), inner, max_size=4)
    ),
    max_leaves=12,
)
_FIELDS = [
    "code",
    "subject",
    "patient",
    "encounter",
    "effectiveDateTime",
    "effectivePeriod",
    "issued",
    "valueQuantity",
    "valueString",
    "valueCodeableConcept",
    "dataAbsentReason",
    "component",
    "specimen",
    "contained",
    "referenceRange",
    "status",
    "medicationCodeableConcept",
    "medicationReference",
    "medication",
    "dosageInstruction",
    "dispenseRequest",
    "dosage",
    "authoredOn",
    "clinicalStatus",
    "verificationStatus",
    "recordedDate",
    "onsetPeriod",
    "identifier",
    "name",
    "gender",
    "birthDate",
    "id",
]


@settings(max_examples=200, deadline=None)
@given(fields=st.dictionaries(st.sampled_from(_FIELDS), _JSON, max_size=8))
def test_mappers_take_any_json_in_any_field_without_raising(fields: dict[str, Any]) -> None:
    """Oddly typed fields give nulls, never an exception (which would quarantine the row)."""
    from hyposcreen.adapters.fhir_conditions import ConditionMapper
    from hyposcreen.adapters.fhir_labs import LAB_COLUMNS, ObservationMapper
    from hyposcreen.adapters.fhir_medications import MedicationMapper
    from hyposcreen.adapters.fhir_patients import patient_row

    observations = ObservationMapper(RULES, {})
    for row in observations.rows({"resourceType": "Observation", **fields}):
        assert len(row) == len(LAB_COLUMNS)
    medications = MedicationMapper(RULES, {})
    for kind in fhir.TABLE_TYPES["medications"]:
        assert len(medications.row({"resourceType": kind, **fields})) == 9
    assert len(ConditionMapper(RULES).row({"resourceType": "Condition", **fields})) == 7
    assert len(patient_row({"resourceType": "Patient", **fields})) == 5
