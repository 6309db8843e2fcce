"""A deleted Patient's medication quarantined as it is read (its drug named only by a
Medication the export lacks, `unresolved_reference`, or records deleted, `deleted_medication`)
is counted as its patient's deletion: `deleted_patient`.

Before: such a row held no patient id, so it kept its reason and warned under it
(`unresolved_references`, `deleted_medications`: "ask the sender for the records' drug")
although the source had deleted its patient."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from fhir_generators import (
    RXNORM,
    manifest,
    med_request,
    observation,
    quantity,
    quarantined,
    rows,
    run,
)

TIME = "2026-11-20T05:00:00Z"
P1 = {"resourceType": "Patient", "id": "P1", "meta": {"versionId": "1"}}
P2 = {"resourceType": "Patient", "id": "P2"}
MED = {
    "resourceType": "Medication",
    "id": "med1",
    "meta": {"versionId": "1"},
    "code": {"coding": [{"system": RXNORM, "code": "4603", "display": "furosemide"}]},
}


def _sodium(oid: str, patient: str, value: float) -> dict:
    found = observation(oid, f"Patient/{patient}", "2951-2", "Sodium", TIME)
    found["valueQuantity"] = quantity(value, "mmol/L")
    return found


def _deletion(url: str) -> dict:
    entry = {"request": {"method": "DELETE", "url": url}, "response": {"etag": 'W/"2"'}}
    return {"resourceType": "Bundle", "type": "history", "entry": [entry]}


def _write(path: Path, *resources: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in resources))


@pytest.mark.parametrize(
    ("medication", "reason", "code"),
    [
        ((), "unresolved_reference", "unresolved_references"),
        (
            (MED, _deletion("Medication/med1/_history/2")),
            "deleted_medication",
            "deleted_medications",
        ),
    ],
    ids=["unresolved", "deleted_medication"],
)
def test_a_deleted_patients_unreadable_order_counts_as_deleted(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    medication: tuple[dict, ...],
    reason: str,
    code: str,
) -> None:
    """P1 is deleted; its order names its drug only by Medication/med1 (absent, or deleted):
    quarantined once, `deleted_patient` with P1 as its patient, and warned only as
    `deleted_patients` (one medication record). P2's like order keeps its reason and warns."""
    folder = tmp_path / "in"
    orders = []
    for mid, patient in (("m1", "P1"), ("m2", "P2")):
        order = med_request(mid, f"Patient/{patient}", None, TIME)
        order["medicationReference"] = {"reference": "Medication/med1"}
        orders.append(order)
    _write(folder / "MedicationRequest.ndjson", *orders)
    if medication:
        _write(folder / "Medication.ndjson", *medication)
    _write(folder / "Patient.ndjson", _deletion("Patient/P1/_history/2"), P1, P2)
    _write(folder / "Observation.ndjson", _sodium("na2", "P2", 139))
    status, err = run(capsys, folder, tmp_path / "out")
    assert status == 4, err
    out = tmp_path / "out"
    found = sorted((r["reason"], r["patient_id"]) for r in rows(out, "quarantine.csv"))
    assert found == sorted([("deleted_patient", "P1"), (reason, "")])
    assert len(quarantined(out)) == 2
    warnings = {w["code"]: w["message"] for w in manifest(out)["warnings"]}
    assert "(medications 1)" in warnings["deleted_patients"]
    assert warnings[code].startswith("1 medication record(s)")  # P2's alone
    assert "MedicationRequest.ndjson:2" in warnings[code]
