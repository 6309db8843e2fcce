"""A deleted Patient's id that a record holds as an unresolved identifier's value is found
however the record's JSON spells that value: the tables read `{"value": 1203}`, `" 1203 "`
and `"\\u0031203"` as the id `1203`, as the search for look-alike ids must, or the living
patient the identifier names loses its sodium to the deletion."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from fhir_generators import listed, manifest, med_request, observation, quantity, quarantined, run

TIME = "2026-11-20T05:00:00Z"


def _sodium_line(subject: bytes) -> bytes:
    sodium = observation("na1", "Patient/x", "2951-2", "Sodium", TIME)
    sodium["valueQuantity"] = quantity(118, "mmol/L")
    return orjson.dumps(sodium).replace(b'{"reference":"Patient/x"}', subject) + b"\n"


@pytest.mark.parametrize(
    "subject",
    [
        b'{"identifier":{"system":"urn:mrn","value":1203}}',
        b'{"identifier":{"system":"urn:mrn","value":" 1203 "}}',
        b'{"identifier":{"system":"urn:mrn","value":"\\u0031203"}}',
        b'{"reference":"Patient?identifier=urn:mrn\\u007c1203"}',
        b'{"reference":"Patient?identifier=urn:mrn|1203 "}',
    ],
    ids=["number", "padded", "escaped", "escaped-bar", "conditional-padded"],
)
def test_a_lookalike_id_however_spelt_keeps_the_living_patients_sodium(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], subject: bytes
) -> None:
    """Patient/1203 is deleted; a sodium of 118 names its patient by the MRN 1203 (which no
    Patient holds), spelt as JSON allows, and a furosemide order names Patient/1203. Before,
    only `"1203"` and `|1203"` were searched: the labs listed `1203` while the medications set
    its order aside (listed without its loop diuretic) and the night said nothing. Now no
    table deletes 1203, and the night warns."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "Observation.ndjson").write_bytes(_sodium_line(subject))
    order = med_request("m1", "Patient/1203", {"text": "furosemide"}, TIME)
    (folder / "MedicationRequest.ndjson").write_bytes(orjson.dumps(order) + b"\n")
    deletion = {
        "request": {"method": "DELETE", "url": "Patient/1203/_history/2"},
        "response": {"etag": 'W/"2"'},
    }
    old = {"resourceType": "Patient", "id": "1203", "meta": {"versionId": "1"}}
    history = {"resourceType": "Bundle", "type": "history", "entry": [{"resource": old}, deletion]}
    (folder / "Patient.ndjson").write_bytes(orjson.dumps(history) + b"\n")
    status, err = run(capsys, folder, tmp_path / "out")
    assert quarantined(tmp_path / "out") == []
    assert "loop_diuretic" in listed(tmp_path / "out")["1203"][2]
    codes = {w["code"] for w in manifest(tmp_path / "out")["warnings"]}
    assert "unordered_patient_deletions" in codes, err
    assert status == 4, err
