"""A Patient's deletion is told and applied alike by every table.

Before: a bulk export's `deleted/Patient.ndjson` entry (no etag, no lastModified, as the Bulk
Data spec writes them) beside the patient's version in `Patient.ndjson` (`lastUpdated` alone)
could not be ordered: the patient's sodium was screened, and the night said nothing of the
deletion (exit 0). And a Patient's DELETE found only in a Bundle saved as `Observation.ndjson`
set the patient's labs aside while the patients table, which does not open that file, still
held the patient."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from tests.helpers import RULES, WINDOW

from fhir_generators import listed, manifest, med_request, observation, quantity, quarantined, run
from hyposcreen.adapters import fhir

TIME = "2026-11-20T05:00:00Z"


def _lines(path: Path, *resources: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in resources))


def _sodium(oid: str, patient: str, value: float) -> dict:
    found = observation(oid, f"Patient/{patient}", "2951-2", "Sodium", TIME)
    found["valueQuantity"] = quantity(value, "mmol/L")
    return found


def test_a_bulk_deletion_that_cannot_be_ordered_is_told(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """P1's sodium of 118 is screened (the deletion is not known newer than P1's version), and
    the night warns `unordered_patient_deletions` with counts and `file:row`, no id."""
    folder = tmp_path / "in"
    _lines(folder / "Observation.ndjson", _sodium("na1", "P1", 118), _sodium("na2", "P2", 140))
    patient = {"resourceType": "Patient", "id": "P1", "meta": {"lastUpdated": TIME}}
    _lines(folder / "Patient.ndjson", patient, {"resourceType": "Patient", "id": "P2"})
    deletion = {"request": {"method": "DELETE", "url": "Patient/P1"}}
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [deletion]}
    _lines(folder / "deleted" / "Patient.ndjson", bundle)
    status, err = run(capsys, folder, tmp_path / "out")
    assert status == 4, err
    assert "P1" in listed(tmp_path / "out")
    codes = {w["code"]: w["message"] for w in manifest(tmp_path / "out")["warnings"]}
    message = codes["unordered_patient_deletions"]
    assert message.startswith("1 record(s) (labs 1, as read)"), message
    assert "Observation.ndjson:1" in message and "P1" not in message
    assert "Confirm the deletion with the sender" in message


def test_a_deletion_older_than_the_patients_version_is_not_told(tmp_path: Path) -> None:
    """Patient/P1 deleted as its version 1, then created again as version 2: no warning."""
    _lines(tmp_path / "Observation.ndjson", _sodium("na1", "P1", 118))
    deletion = {
        "request": {"method": "DELETE", "url": "Patient/P1/_history/1"},
        "response": {"etag": 'W/"1"'},
    }
    again = {"resourceType": "Patient", "id": "P1", "meta": {"versionId": "2"}}
    history = {"resourceType": "Bundle", "type": "history", "entry": [deletion]}
    _lines(tmp_path / "Patient.ndjson", history, again)
    labs = fhir.read_table(tmp_path, "labs", fhir.SiteMapping(), RULES, WINDOW, None)
    assert labs.unordered_deletions is None


def test_a_patient_deleted_in_a_file_of_observations_leaves_the_patients_table(
    tmp_path: Path,
) -> None:
    """The DELETE of Patient/P1 (version 2) is in a Bundle saved as `Observation.ndjson`: P1's
    sodium is set aside `deleted_patient`, and P1 leaves the patients table too (counted
    `deleted_resource`, every row accounted for)."""
    deletion = {
        "request": {"method": "DELETE", "url": "Patient/P1/_history/2"},
        "response": {"etag": 'W/"2"'},
    }
    history = {"resourceType": "Bundle", "type": "history", "entry": [deletion]}
    _lines(tmp_path / "Observation.ndjson", _sodium("na1", "P1", 118), history)
    p1 = {"resourceType": "Patient", "id": "P1", "meta": {"versionId": "1"}}
    _lines(tmp_path / "Patient.ndjson", p1, {"resourceType": "Patient", "id": "P2"})
    labs = fhir.read_table(tmp_path, "labs", fhir.SiteMapping(), RULES, WINDOW, None)
    assert list(labs.frame["malformed_reason"]) == ["deleted_patient"]
    patients = fhir.read_table(tmp_path, "patients", fhir.SiteMapping(), RULES, WINDOW, None)
    assert list(patients.frame["patient_id"]) == ["P2"]
    assert patients.not_relevant.get("deleted_resource") == 1
    assert patients.rows_in == 2


@pytest.mark.parametrize(
    "subject",
    [
        {"identifier": {"system": "urn:mrn", "value": "1203"}},
        {"reference": "Patient?identifier=urn:mrn|1203"},
    ],
    ids=["logical", "conditional"],
)
def test_an_id_that_is_also_an_unresolved_identifier_is_deleted_in_no_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], subject: dict
) -> None:
    """Patient/1203 is deleted; a sodium names its patient by the MRN 1203, which no Patient
    holds (patient id `1203`), and a furosemide order names Patient/1203. The labs screened
    the sodium while the medications set the order aside and the patients table dropped 1203:
    patient `1203` listed without its order. Now no table deletes 1203, and the night warns."""
    folder = tmp_path / "in"
    sodium = _sodium("na1", "x", 118)
    sodium["subject"] = subject
    _lines(folder / "Observation.ndjson", sodium)
    order = med_request("m1", "Patient/1203", {"text": "furosemide"}, TIME)
    _lines(folder / "MedicationRequest.ndjson", order)
    deletion = {
        "request": {"method": "DELETE", "url": "Patient/1203/_history/2"},
        "response": {"etag": 'W/"2"'},
    }
    old = {"resourceType": "Patient", "id": "1203", "meta": {"versionId": "1"}}
    history = {"resourceType": "Bundle", "type": "history", "entry": [{"resource": old}, deletion]}
    _lines(folder / "Patient.ndjson", history)
    patients = fhir.read_table(folder, "patients", fhir.SiteMapping(), RULES, WINDOW, None)
    assert list(patients.frame["patient_id"]) == ["1203"]
    status, err = run(capsys, folder, tmp_path / "out")
    assert status == 4, err
    assert quarantined(tmp_path / "out") == []
    assert "loop_diuretic" in listed(tmp_path / "out")["1203"][2]
    codes = {w["code"]: w["message"] for w in manifest(tmp_path / "out")["warnings"]}
    assert codes["unordered_patient_deletions"].startswith("2 record(s) (labs 1, medications 1")
