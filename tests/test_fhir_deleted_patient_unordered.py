"""A Patient's deletion sets its records aside only when it is known to be newer than every
version of that Patient the export holds, wherever each stands in the files.

Before, the look-up of deleted Patients compared each version met with the one held before
it only: a Patient written with `meta.lastUpdated` alone (or with no `meta`), beside a
`_history` Bundle holding its version 1 and the DELETE of version 2, was forgotten once
version 1 was met, so the DELETE counted as newest; the patient's sodium of 118 was set aside
`deleted_patient` while the patients table (which orders all versions at once) still held
the patient. Now such versions make the deletion unordered: the sodium is screened. The
search of every export file for a DELETE does not stop on a damaged file no table reads."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson
import pytest
from tests.helpers import RULES, WINDOW

from fhir_generators import observation, quantity
from hyposcreen.adapters import fhir

TIME = "2026-11-20T05:00:00Z"
HISTORY = {
    "resourceType": "Bundle",
    "type": "history",
    "entry": [
        {"resource": {"resourceType": "Patient", "id": "P1", "meta": {"versionId": "1"}}},
        {
            "request": {"method": "DELETE", "url": "Patient/P1/_history/2"},
            "response": {"etag": 'W/"2"'},
        },
    ],
}


def _lines(path: Path, *resources: dict) -> None:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in resources))


@pytest.mark.parametrize("meta", [{"lastUpdated": "2026-11-21T08:00:00Z"}, None])
@pytest.mark.parametrize("history_first", [True, False])
def test_a_deletion_unordered_against_one_version_sets_nothing_aside(
    tmp_path: Path, meta: dict | None, history_first: bool
) -> None:
    sodium = observation("na1", "Patient/P1", "2951-2", "Sodium", TIME)
    sodium["valueQuantity"] = quantity(118, "mmol/L")
    _lines(tmp_path / "Observation.ndjson", sodium)
    patient = {"resourceType": "Patient", "id": "P1", **({"meta": meta} if meta else {})}
    first, second = ("a", "b") if history_first else ("b", "a")
    _lines(tmp_path / f"{first}_Patient.ndjson", HISTORY)
    _lines(tmp_path / f"{second}_Patient.ndjson", patient)
    labs = fhir.read_table(tmp_path, "labs", fhir.SiteMapping(), RULES, WINDOW, None)
    reasons = labs.frame.get("malformed_reason")
    assert reasons is None or reasons.isna().all(), list(reasons)
    patients = fhir.read_table(tmp_path, "patients", fhir.SiteMapping(), RULES, WINDOW, None)
    assert "P1" in set(patients.frame["patient_id"])


def test_a_damaged_file_of_a_type_no_table_reads_does_not_stop_the_labs(tmp_path: Path) -> None:
    """A cut-off `Claim.ndjson.gz` (a type no table reads) stopped the labs table (exit 3,
    "cannot be read") once every export file was searched for a Patient's DELETE; before that
    search, and now, it is left as it was: the sodium is read."""
    sodium = observation("na1", "Patient/P1", "2951-2", "Sodium", TIME)
    sodium["valueQuantity"] = quantity(118, "mmol/L")
    _lines(tmp_path / "Observation.ndjson", sodium)
    claims = b"".join(
        orjson.dumps({"resourceType": "Claim", "id": str(n), "status": "active" * 40}) + b"\n"
        for n in range(2000)
    )
    packed = gzip.compress(claims)
    (tmp_path / "Claim.ndjson.gz").write_bytes(packed[: len(packed) // 2])
    labs = fhir.read_table(tmp_path, "labs", fhir.SiteMapping(), RULES, WINDOW, None)
    assert list(labs.frame["patient_id"]) == ["P1"]


@pytest.mark.parametrize("history_first", [True, False])
def test_a_deletion_newer_by_version_but_older_by_time_sets_nothing_aside(
    tmp_path: Path, history_first: bool
) -> None:
    """P1's DELETE is version 5 of an old server (last modified in October); the P1 of the
    current export is version 1, updated in November (its versionId started again). The
    versionIds say the deletion is newer, the times say the patient is: the deletion was taken
    as newest, the sodium set aside and P1 dropped from the patients table. Now the two
    disagreeing, nothing is set aside."""
    sodium = observation("na1", "Patient/P1", "2951-2", "Sodium", TIME)
    sodium["valueQuantity"] = quantity(118, "mmol/L")
    _lines(tmp_path / "Observation.ndjson", sodium)
    deletion = {
        "request": {"method": "DELETE", "url": "Patient/P1/_history/5"},
        "response": {"etag": 'W/"5"', "lastModified": "2026-10-01T00:00:00Z"},
    }
    history = {"resourceType": "Bundle", "type": "history", "entry": [deletion]}
    meta = {"versionId": "1", "lastUpdated": "2026-11-02T00:00:00Z"}
    first, second = ("a", "b") if history_first else ("b", "a")
    _lines(tmp_path / f"{first}_Patient.ndjson", history)
    _lines(
        tmp_path / f"{second}_Patient.ndjson", {"resourceType": "Patient", "id": "P1", "meta": meta}
    )
    labs = fhir.read_table(tmp_path, "labs", fhir.SiteMapping(), RULES, WINDOW, None)
    reasons = labs.frame.get("malformed_reason")
    assert reasons is None or reasons.isna().all(), list(reasons)
    patients = fhir.read_table(tmp_path, "patients", fhir.SiteMapping(), RULES, WINDOW, None)
    assert list(patients.frame["patient_id"]) == ["P1"]


def test_an_identifier_value_no_patient_holds_is_not_a_deleted_patients_id(
    tmp_path: Path,
) -> None:
    """Patient/1203 (a server's numeric id) is deleted; a sodium names its patient by the MRN
    1203, which no Patient of the export holds, so its patient id stays `1203`. It was set
    aside `deleted_patient` as the deleted Patient's: a living patient's result hidden. A
    value such rows hold is not known to name the deleted Patient: the sodium is screened."""
    sodium = observation("na1", "Patient/x", "2951-2", "Sodium", TIME)
    sodium["subject"] = {"identifier": {"system": "urn:mrn", "value": "1203"}}
    sodium["valueQuantity"] = quantity(118, "mmol/L")
    _lines(tmp_path / "Observation.ndjson", sodium)
    deletion = {
        "request": {"method": "DELETE", "url": "Patient/1203/_history/2"},
        "response": {"etag": 'W/"2"'},
    }
    old = {"resourceType": "Patient", "id": "1203", "meta": {"versionId": "1"}}
    history = {"resourceType": "Bundle", "type": "history", "entry": [{"resource": old}, deletion]}
    _lines(tmp_path / "Patient.ndjson", history)
    labs = fhir.read_table(tmp_path, "labs", fhir.SiteMapping(), RULES, WINDOW, None)
    assert list(labs.frame["patient_id"]) == ["1203"]
    reasons = labs.frame.get("malformed_reason")
    assert reasons is None or reasons.isna().all(), list(reasons)
