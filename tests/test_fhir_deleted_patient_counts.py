"""A Patient whose newest version is a `_history` Bundle's DELETE: its records are counted only
as deleted, wherever the export holds the deletion, and the night says so once.

Before: a deleted patient's orders named by product codes alone still counted among the drugs
the screen cannot read (`unidentified_medications` warned 12 of 22 for a patient no longer in
the source); a Patient's DELETE in a Bundle saved as `Observation.ndjson` was not seen (its
sodium of 118 was listed under the deleted patient, its furosemide order read as a risk
factor); a DELETE written `"delete"` was seen by the deleted-patient search but skipped by the
lab pre-filter; and a deleted patient's low sodium warned twice, once as a result to be
corrected (`quarantined_low_sodiums`: "a unit the rules accept, a time that reads")."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from tests.helpers import RULES, WINDOW

from fhir_generators import (
    RXNORM,
    listed,
    manifest,
    med_request,
    observation,
    quantity,
    quarantined,
    run,
    write_ndjson,
)
from hyposcreen.adapters import fhir
from hyposcreen.unidentified_events import unidentified_event_warnings

TIME = "2026-11-20T05:00:00Z"
P1 = {"resourceType": "Patient", "id": "P1", "meta": {"versionId": "1"}}
P2 = {"resourceType": "Patient", "id": "P2"}


def _sodium(oid: str, patient: str, value: float) -> dict:
    found = observation(oid, f"Patient/{patient}", "2951-2", "Sodium", TIME)
    found["valueQuantity"] = quantity(value, "mmol/L")
    return found


def _history(*entries: dict, method: str = "DELETE") -> dict:
    """A `_history` Bundle; `Type/id` strings are DELETE entries of their second version."""
    written = [
        {"request": {"method": method, "url": f"{e}/_history/2"}, "response": {"etag": 'W/"2"'}}
        if isinstance(e, str)
        else {"resource": e}
        for e in entries
    ]
    return {"resourceType": "Bundle", "type": "history", "entry": written}


def _lines(path: Path, *resources: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in resources))


def test_a_deleted_patients_drugs_are_not_counted_as_unreadable(tmp_path: Path) -> None:
    """Twelve orders of the deleted P1 name their drug by an RxNorm product code alone, ten
    of P2 by name: P1's are quarantined deleted_patient and left out of the drugs judged, so
    no `unidentified_medications` warning (10 read, none unreadable)."""
    product = {"coding": [{"system": RXNORM, "code": "999999"}]}
    orders = [med_request(f"a{n}", "Patient/P1", product, TIME) for n in range(12)]
    orders += [med_request(f"b{n}", "Patient/P2", {"text": "furosemide"}, TIME) for n in range(10)]
    write_ndjson(tmp_path / "MedicationRequest.ndjson", orders)
    _lines(tmp_path / "Patient.ndjson", _history("Patient/P1", P1), P2)
    table = fhir.read_table(tmp_path, "medications", fhir.SiteMapping(), RULES, WINDOW, None)
    assert list(table.frame["malformed_reason"].fillna("")) == ["deleted_patient"] * 12 + [""] * 10
    counts = table.source_counts["MedicationRequest"]
    assert (counts["drug_rows"], counts.get("note_no_drug_identifier", 0)) == (10, 0)
    assert unidentified_event_warnings({"medications": table}, RULES.warnings) == []
    assert "__fhir_medication_type" not in table.frame.columns


@pytest.mark.parametrize("own_line", [False, True], ids=["with_the_sodium", "own_line"])
def test_a_patient_deletion_in_a_file_of_observations_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], own_line: bool
) -> None:
    """The DELETE of Patient/P1 is in a Bundle saved as `Observation.ndjson` (with P1's sodium,
    or on a line of its own, which the lab pre-filter skips): P1's sodium and furosemide order
    are quarantined deleted_patient, P1 is not listed; P2 is."""
    folder = tmp_path / "in"
    if own_line:
        labs = [_sodium("na1", "P1", 118), _history("Patient/P1"), _sodium("na2", "P2", 119)]
    else:
        labs = [_history("Patient/P1", _sodium("na1", "P1", 118)), _sodium("na2", "P2", 119)]
    _lines(folder / "Observation.ndjson", *labs)
    order = med_request("m1", "Patient/P1", {"text": "furosemide"}, TIME)
    _lines(folder / "MedicationRequest.ndjson", order)
    _lines(folder / "Patient.ndjson", P1, P2)
    status, err = run(capsys, folder, tmp_path / "out")
    assert status == 4, err
    assert list(listed(tmp_path / "out")) == ["P2"]
    reasons = [(table, reason) for table, _, _, reason in quarantined(tmp_path / "out")]
    assert reasons == [("labs", "deleted_patient"), ("medications", "deleted_patient")]


def test_a_deletion_in_lower_case_is_read_by_the_lab_pre_filter(tmp_path: Path) -> None:
    """`"method": "delete"` is a deletion to the parser (and to the deleted-patient search):
    the lab pre-filter of a file of several types reads its line too, so the sodium it deletes
    is set aside `deleted_resource`, not screened."""
    sodium = {**_sodium("na1", "P1", 118), "meta": {"versionId": "1"}}
    _lines(tmp_path / "export.ndjson", sodium, _history("Observation/na1", method="delete"))
    table = fhir.read_table(tmp_path, "labs", fhir.SiteMapping(), RULES, WINDOW, None)
    assert list(table.frame["malformed_reason"]) == ["deleted_resource"]


@pytest.mark.parametrize("unit", ["mmol/L", "mmol"], ids=["read", "bad_unit"])
def test_a_deleted_patients_low_sodium_is_told_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], unit: str
) -> None:
    """The deleted P1's sodium of 112 warns `deleted_patients` alone, which counts it as a
    low sodium and asks for the deletion confirmed; not also `quarantined_low_sodiums`, whose
    advice (correct the unit or the time) does not fit a record its source deleted. So too
    when its unit would be quarantined (`mmol`, bad_unit): deleted_patient, set as it is
    read, comes first; the row is quarantined once, for its patient's deletion."""
    folder = tmp_path / "in"
    sodium = _sodium("na1", "P1", 112)
    sodium["valueQuantity"] = quantity(112, unit)
    _lines(folder / "Observation.ndjson", sodium, _sodium("na2", "P2", 119))
    _lines(folder / "Patient.ndjson", _history("Patient/P1", P1), P2)
    status, err = run(capsys, folder, tmp_path / "out")
    assert status == 4, err
    codes = {w["code"]: w["message"] for w in manifest(tmp_path / "out")["warnings"]}
    assert "quarantined_low_sodiums" not in codes
    assert [r for *_, r in quarantined(tmp_path / "out")] == ["deleted_patient"]
    message = codes["deleted_patients"]
    assert "Among them are 1 sodium result(s) at or below 135" in message
    assert "nothing in them is to be corrected" in message
    assert "confirm the deletion" in message
    assert "112" not in message and "P1" not in message
    warned = [line for line in err.splitlines() if line.startswith("hyposcreen: warning:")]
    assert [line for line in warned if "sodium" in line] == [f"hyposcreen: warning: {message}"]
