"""A contained resource referenced without the `#` FHIR asks for (`"reference": "med1"` where
`contained[0].id == "med1"`, as some generators write it) is resolved as contained: the drug
(or the specimen type) is not lost. A bare id that no contained resource has still looks up
the exported resources."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import RULES, WINDOW

from fhir_generators import med_request, observation, quantity, rxnorm, write_ndjson
from hyposcreen.adapters import fhir

FUROSEMIDE = rxnorm("4603", "furosemide")


def _medication(mid: str, code: dict) -> dict:
    return {"resourceType": "Medication", "id": mid, "code": code}


def test_a_bare_reference_to_a_contained_medication_is_resolved(tmp_path: Path) -> None:
    contained = med_request("r1", "Patient/P1", None, "2026-11-19T08:00:00Z")
    contained |= {
        "contained": [_medication("med1", FUROSEMIDE)],
        "medicationReference": {"reference": "med1"},
    }
    exported = med_request("r2", "Patient/P2", None, "2026-11-19T08:00:00Z")
    exported["medicationReference"] = {"reference": "med2"}  # no contained: the export's
    write_ndjson(tmp_path / "MedicationRequest.ndjson", [contained, exported])
    write_ndjson(tmp_path / "Medication.ndjson", [_medication("med2", FUROSEMIDE)])
    (tmp_path / "Observation.ndjson").write_text("")
    table = fhir.read_table(tmp_path, "medications", fhir.SiteMapping(), RULES, WINDOW, None)
    assert list(table.frame["rxnorm"]) == ["4603", "4603"]
    assert list(table.frame["drug_name"]) == ["furosemide", "furosemide"]


def test_a_bare_reference_to_a_contained_specimen_gives_its_type(tmp_path: Path) -> None:
    urine = observation("o1", "Patient/P1", "2951-2", "Sodium", "2026-11-20T05:00:00Z")
    urine |= {
        "valueQuantity": quantity(40, "mmol/L"),
        "contained": [{"resourceType": "Specimen", "id": "sp1", "type": {"text": "Urine"}}],
        "specimen": {"reference": "sp1"},
    }
    write_ndjson(tmp_path / "Observation.ndjson", [urine])
    table = fhir.read_table(tmp_path, "labs", fhir.SiteMapping(), RULES, WINDOW, None)
    assert list(table.frame["specimen_type"]) == ["Urine"]
