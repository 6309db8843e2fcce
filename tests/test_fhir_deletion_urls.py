"""How a Bundle entry's DELETE is read from its bytes and its `request.url`.

Before: `Patient/P1?_cascade=delete` (FHIR's cascading delete of one resource) was read as a
conditional delete and ignored, so P1's sodium was screened and P1 listed; a DELETE spelled
with a JSON escape (`"DEL\\u0045TE"`) was missed by the byte pre-search, so the deletion in a
file of Observations went unseen."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from fhir_generators import listed, observation, quantity, quarantined, run

TIME = "2026-11-20T05:00:00Z"
P1 = {"resourceType": "Patient", "id": "P1", "meta": {"versionId": "1"}}
P2 = {"resourceType": "Patient", "id": "P2"}


def _sodium(oid: str, patient: str, value: float) -> dict:
    found = observation(oid, f"Patient/{patient}", "2951-2", "Sodium", TIME)
    found["valueQuantity"] = quantity(value, "mmol/L")
    return found


def _deletion(url: str) -> dict:
    entry = {"request": {"method": "DELETE", "url": url}, "response": {"etag": 'W/"2"'}}
    return {"resourceType": "Bundle", "type": "history", "entry": [entry]}


def _write(folder: Path, name: str, *lines: bytes) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(b"".join(line + b"\n" for line in lines))


@pytest.mark.parametrize(
    ("url", "deleted"),
    [
        ("Patient/P1?_cascade=delete", True),
        ("https://ehr.example/fhir/Patient/P1/_history/2?_cascade=delete", True),
        ("Patient?identifier=urn:mrn|P1", False),
    ],
    ids=["cascade", "full-url-cascade", "conditional"],
)
def test_parameters_after_an_id_do_not_make_a_conditional_delete(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], url: str, deleted: bool
) -> None:
    """A DELETE of `Patient/P1?_cascade=delete` deletes P1: its sodium of 118 is quarantined
    deleted_patient and P1 is not listed; `Patient?identifier=...` names no one Patient and
    still sets nothing aside (P1 listed, nothing quarantined)."""
    folder = tmp_path / "in"
    sodiums = [orjson.dumps(_sodium("na1", "P1", 118)), orjson.dumps(_sodium("na2", "P2", 119))]
    _write(folder, "Observation.ndjson", *sodiums)
    _write(
        folder, "Patient.ndjson", orjson.dumps(_deletion(url)), orjson.dumps(P1), orjson.dumps(P2)
    )
    status, err = run(capsys, folder, tmp_path / "out")
    assert status == 4, err
    reasons = [(table, reason) for table, _, _, reason in quarantined(tmp_path / "out")]
    if deleted:
        assert list(listed(tmp_path / "out")) == ["P2"]
        assert reasons == [("labs", "deleted_patient")]
    else:
        assert sorted(listed(tmp_path / "out")) == ["P1", "P2"]
        assert reasons == []


def _escaped_deletion(url: str, method: bytes) -> bytes:
    """A `_history` Bundle's DELETE entry with its method written as given (raw JSON bytes)."""
    entry = b'{"request":{"method":"%s","url":"%s"},"response":{"etag":"W/\\"2\\""}}'
    return b'{"resourceType":"Bundle","type":"history","entry":[%s]}' % (
        entry % (method, url.encode())
    )


@pytest.mark.parametrize("method", [rb"DEL\u0045TE", rb"\u0044ELETE"], ids=["inner", "first"])
def test_a_delete_spelled_with_an_escape_is_found(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], method: bytes
) -> None:
    """The DELETE of Patient/P1, its method spelled with a JSON escape, in a file of
    Observations on a line of its own (the Patient file holds no deletion): P1's sodium is
    quarantined deleted_patient, P1 not listed; and the DELETE of the sodium na2 on its own
    line (which the lab pre-filter would skip) sets na2 aside `deleted_resource`."""
    folder = tmp_path / "in"
    na2 = {**_sodium("na2", "P2", 119), "meta": {"versionId": "1"}}
    labs = [orjson.dumps(_sodium("na1", "P1", 118)), orjson.dumps(na2)]
    labs += [_escaped_deletion("Patient/P1", method), _escaped_deletion("Observation/na2", method)]
    _write(folder, "Observation.ndjson", *labs)
    _write(folder, "Patient.ndjson", orjson.dumps(P1), orjson.dumps(P2))
    status, err = run(capsys, folder, tmp_path / "out")
    assert status == 4, err
    assert list(listed(tmp_path / "out")) == []
    reasons = [(row, reason) for table, _, row, reason in quarantined(tmp_path / "out")]
    assert reasons == [("1", "deleted_patient"), ("2", "deleted_resource")]
