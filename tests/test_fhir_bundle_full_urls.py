"""Inside a Bundle, references name their targets by the entry's fullUrl. When that fullUrl is a
`urn:uuid:` whose last part is not the resource's id (a converter numbering its entries apart
from the ids), a reference to it means that resource: `Type/id`. Before, the reference was read
as the uuid: the sodium belonged to a patient `9a1f…` while the orders named `Patient/P-7`, and
an order's Medication named by its fullUrl was not found."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.fhir_generators import (
    listed,
    observation,
    quantity,
    run,
    write_json,
    write_unlisted_condition,
)

PATIENT_URL = "urn:uuid:9a1f0c2e-1111-4d2e-9f3a-000000000001"
MEDICATION_URL = "urn:uuid:9a1f0c2e-1111-4d2e-9f3a-000000000002"


def test_references_by_a_full_url_name_the_entrys_resource(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = tmp_path / "export"
    sodium = observation("o1", PATIENT_URL, "2951-2", "Sodium", "2026-11-20T10:00:00Z",
                         valueQuantity=quantity(127, "mmol/L"))  # fmt: skip
    spironolactone = {
        "resourceType": "Medication",
        "id": "med-9",
        "code": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                             "code": "9997", "display": "spironolactone"}]},
    }  # fmt: skip
    order = {
        "resourceType": "MedicationRequest",
        "id": "r1",
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/P-7"},
        "authoredOn": "2026-10-01",
        "medicationReference": {"reference": MEDICATION_URL},
    }
    write_json(
        export / "record.json",
        {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [
                {"fullUrl": PATIENT_URL, "resource": {"resourceType": "Patient", "id": "P-7"}},
                {"fullUrl": MEDICATION_URL, "resource": spironolactone},
                {"fullUrl": "urn:uuid:9a1f0c2e-1111-4d2e-9f3a-000000000003", "resource": sodium},
                {"fullUrl": "urn:uuid:9a1f0c2e-1111-4d2e-9f3a-000000000004", "resource": order},
            ],
        },
    )
    write_unlisted_condition(export, "Patient/P-7")
    status, err = run(capsys, export, tmp_path / "out")
    assert status == 0, err
    # P-7: sodium 127 (mild: 125 < 127 <= 135), spironolactone active since 10-01
    # (potassium-sparing diuretic, spec §6): one risk factor, routine (tier 3)
    assert listed(tmp_path / "out") == {"P-7": ("3", "127.0", "potassium_sparing_diuretic")}
