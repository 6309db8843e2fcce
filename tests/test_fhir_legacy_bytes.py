"""An NDJSON line holding a byte that is not UTF-8 (a display `Sodium sérique` written by an
exporter in Windows-1252) is a whole resource: it is read as Windows-1252, as a CSV that is not
UTF-8 is. Before, the line was quarantined `malformed_row` as if cut off, and the patient's
sodium was missing from the list (exit 4, with a hint about delimiters); in a file whose name
names no resource type, such first lines left the file untyped."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from hyposcreen.cli import main

DAY = "2026-11-20"


def _observation(patient: str, value: float, display: str) -> dict[str, object]:
    return {
        "resourceType": "Observation",
        "id": f"na-{patient}",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "2951-2", "display": display}]},
        "subject": {"reference": f"Patient/{patient}"},
        "effectiveDateTime": f"{DAY}T08:00:00Z",
        "valueQuantity": {"value": value, "unit": "mmol/L", "code": "mmol/L"},
    }


@pytest.mark.parametrize("name", ["Observation.ndjson", "export-0001.ndjson"])
def test_a_windows_1252_byte_in_a_line_does_not_lose_the_result(tmp_path: Path, name: str) -> None:
    """Also in a file whose name names no type, typed by its first lines."""
    export = tmp_path / "export"
    export.mkdir()
    values = [118.0] + [140.0] * 12
    lines = [
        json.dumps(_observation(f"p{i}", v, "Sodium s\u00e9rique"), ensure_ascii=False)
        for i, v in enumerate(values)
    ]
    (export / name).write_bytes("\n".join(lines).encode("cp1252") + b"\n")
    patient = {"reference": "Patient/p1"}
    (export / "Condition.ndjson").write_text(
        json.dumps({"resourceType": "Condition", "id": "c", "subject": patient,
                    "code": {"coding": [{"system": "http://snomed.info/sct", "code": "38341003"}]},
                    "recordedDate": "2026-01-01"}) + "\n"
    )  # fmt: skip
    (export / "MedicationRequest.ndjson").write_text(
        json.dumps({"resourceType": "MedicationRequest", "id": "m", "subject": patient,
                    "status": "active", "medicationCodeableConcept": {"text": "amlodipine"},
                    "authoredOn": "2026-01-01"}) + "\n"
    )  # fmt: skip
    status = main(
        ["run", "--no-flow", "--source", "fhir", "--input", str(export), "--out",
         str(tmp_path / "out"), "--window-start", DAY]
    )  # fmt: skip
    assert status == 0
    listed = pd.read_csv(tmp_path / "out" / DAY / "review_list.csv", dtype=str)
    assert list(zip(listed["patient_id"], listed["index_sodium"], strict=True)) == [("p0", "118.0")]
    quarantine = pd.read_csv(tmp_path / "out" / DAY / "quarantine.csv", dtype=str)
    assert "malformed_row" not in set(quarantine["reason"])
