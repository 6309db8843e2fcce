"""A resource whose `subject` is no patient: a Device (an analyser's quality-control result), a
Group, a Location. Read as the reference's last segment, `Device/7` became patient `7`: a QC
sodium of 118 was listed as an urgent case of a patient who does not exist, or joined the
results of the real `Patient/7`. Such a row has no patient: quarantined `missing_key` (spec §3),
never listed, never attributed to a patient who shares the id."""

from __future__ import annotations

from pathlib import Path

import pytest

from fhir_export import RXNORM, condition, med_request, obs, write_export
from fhir_generators import rows, run
from hyposcreen.adapters.fhir_types import subject_of

ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
NOT_PATIENTS = (
    {"reference": "Device/7"},
    {"reference": "https://ehr.example.org/fhir/Group/7/_history/2"},
    {"reference": "Location?identifier=urn:ward|7"},
    {"type": "Device", "identifier": {"system": "urn:mrn", "value": "7"}},
)
SEVERE = {"valueQuantity": {"value": 118, "unit": "mmol/L"}}


def test_results_orders_and_conditions_of_no_patient_are_quarantined(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hctz = {"coding": [{"system": RXNORM, "code": "5487", "display": "hydrochlorothiazide"}]}
    folder = write_export(
        tmp_path / "export",
        {
            "Patient.ndjson": [
                {
                    "resourceType": "Patient",
                    "id": "7",
                    "identifier": [{"system": "urn:mrn", "value": "7"}],
                }
            ],
            "Observation.ndjson": [
                obs(SEVERE, id=f"qc{n}", subject=subject) for n, subject in enumerate(NOT_PATIENTS)
            ]
            + [
                obs(
                    {"valueQuantity": {"value": 131, "unit": "mmol/L"}},
                    subject={"reference": "Patient/7"},
                )
            ],
            "MedicationRequest.ndjson": [
                med_request(
                    medicationCodeableConcept=hctz,
                    authoredOn="2026-11-01",
                    subject={"reference": "Group/7"},
                )
            ],
            "Condition.ndjson": [
                condition({"system": ICD10, "code": "I50.9"}, subject={"reference": "Device/7"})
            ],
        },
    )
    status, err = run(capsys, folder, tmp_path / "out")
    assert status in (0, 4), err  # QC rows of no patient: the night need not warn
    out = tmp_path / "out"
    # patient 7's own mild sodium has no risk factor: the Group's order and the Device's
    # condition are not hers, and no device or group is a case
    assert rows(out, "review_list.csv") == []
    quarantined = {
        (r["table"], r["source_row"], r["reason"], r["patient_id"])
        for r in rows(out, "quarantine.csv")
    }
    assert quarantined == {
        ("labs", "1", "missing_key", ""),
        ("labs", "2", "missing_key", ""),
        ("labs", "3", "missing_key", ""),
        ("labs", "4", "missing_key", ""),
        ("medications", "1", "missing_key", ""),
        ("diagnoses", "1", "missing_key", ""),
    }


def test_the_path_names_the_subject_s_type_before_the_type_element(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`Device/7` with `type: Patient` beside it (a template's default) is still the analyser:
    its sodium of 118 is no patient's (missing_key), not listed as an urgent case of `7`."""
    folder = write_export(
        tmp_path / "export",
        {
            "Observation.ndjson": [
                obs(SEVERE, id="qc", subject={"type": "Patient", "reference": "Device/7"})
            ]
        },
    )
    status, err = run(capsys, folder, tmp_path / "out")
    assert status in (0, 4), err
    out = tmp_path / "out"
    assert rows(out, "review_list.csv") == []
    assert [(r["source_row"], r["reason"]) for r in rows(out, "quarantine.csv")] == [
        ("1", "missing_key")
    ]


def test_a_subject_written_as_a_bare_string_is_read_by_its_path() -> None:
    """reference_id reads `"subject": "Device/7"` as `7`: so the type of its path must be read
    too, or the analyser's result is patient 7's."""
    assert subject_of({"subject": "Device/7"}) is None
    assert subject_of({"subject": "Patient/7"}) == "7"
