"""Review findings on FHIR input: lab results that arrive only as a DiagnosticReport's contained
Observations, and a pretty-printed document under an NDJSON name whose first line is not a
lone brace (real adapter, real files)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import RULES, WINDOW

from fhir_generators import observation, quantity, transaction, write_ndjson
from hyposcreen.adapters import fhir


def _report(status: str = "final") -> dict:
    """A lab report as HL7 v2 -> FHIR converters write it: results contained, no Observation
    resources of their own."""
    sodium = observation("r1", "Patient/P1", "2951-2", "Na", "2026-11-20T05:00:00Z")
    sodium |= {"valueQuantity": quantity(118, "mmol/L")}
    return {
        "resourceType": "DiagnosticReport",
        "id": "d1",
        "status": status,
        "subject": {"reference": "Patient/P1"},
        "contained": [sodium],
        "result": [{"reference": "#r1"}],
    }


def test_an_export_whose_labs_are_only_contained_in_reports_is_read(tmp_path: Path) -> None:
    write_ndjson(tmp_path / "DiagnosticReport.ndjson", [_report()])
    write_ndjson(tmp_path / "Patient.ndjson", [{"resourceType": "Patient", "id": "P1"}])
    fhir.check_layout(tmp_path)  # no "has no Observation files"
    table = fhir.read_table(tmp_path, "labs", fhir.SiteMapping(), RULES, WINDOW, None)
    assert table.rows_in == 1
    assert list(table.frame["value_raw"]) == ["118"]
    assert list(table.frame["source_row"]) == ["1"]
