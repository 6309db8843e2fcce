"""Medication records that say a drug was not given: they never make a risk factor (spec §6:
not-done records are ignored, kept in the quarantine with the reason)."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import RULES, WINDOW

from fhir_generators import RXNORM, write_ndjson
from hyposcreen.adapters import fhir
from hyposcreen.clean import clean_medications

FUROSEMIDE = {"coding": [{"system": RXNORM, "code": "4603", "display": "furosemide"}]}


def order(oid: str, **extra: object) -> dict:
    return {
        "resourceType": "MedicationRequest",
        "id": oid,
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/P1"},
        "medicationCodeableConcept": FUROSEMIDE,
        "authoredOn": "2026-11-18T08:00:00Z",
        **extra,
    }


def test_an_order_not_to_give_a_drug_is_ignored_like_not_done(tmp_path: Path) -> None:
    """`doNotPerform: true` (FHIR R4: the request is that the drug NOT be given) is read as
    status not-done and quarantined; `doNotPerform: false` and its absence are orders."""
    write_ndjson(
        tmp_path / "MedicationRequest.ndjson",
        [order("r1", doNotPerform=True), order("r2", doNotPerform=False), order("r3")],
    )
    table = fhir.read_table(tmp_path, "medications", fhir.SiteMapping(), RULES, WINDOW, None)
    assert list(table.frame["status"]) == ["not-done", "active", "active"]
    cleaned, matches = clean_medications(table.frame, RULES, WINDOW)
    assert list(cleaned["bucket"]) == ["quarantined", "used", "used"]
    assert cleaned["reason"].iloc[0] == "status"
    assert sorted(matches["row"]) == [1, 2]
