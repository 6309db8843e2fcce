"""FHIR input: lab results that arrive only as a DiagnosticReport's contained
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


def _sodium_bundle() -> dict:
    sodium = observation("o1", "Patient/P1", "2951-2", "Na", "2026-11-20T05:00:00Z")
    return transaction(sodium | {"valueQuantity": quantity(118, "mmol/L")})


def test_a_pretty_document_under_an_ndjson_name_opening_on_its_first_key_is_read_whole(
    tmp_path: Path,
) -> None:
    """`{ "resourceType": "Bundle",` on the first line (a pretty printer that keeps the brace
    with the first key): one document, not dozens of broken lines quarantined."""
    text = json.dumps(_sodium_bundle(), indent=2)
    text = text.replace('{\n  "resourceType"', '{ "resourceType"', 1)
    (tmp_path / "Observation.ndjson").write_text(text, encoding="utf-8")
    table = fhir.read_table(tmp_path, "labs", fhir.SiteMapping(), RULES, WINDOW, None)
    assert table.rows_in == 1
    assert list(table.frame["value_raw"]) == ["118"]
    assert list(table.frame["source_row"]) == ["entry[0]"]


def test_ndjson_whose_first_line_is_broken_is_still_read_by_line(tmp_path: Path) -> None:
    """A truncated first line followed by whole resources stays NDJSON: the good lines count."""
    good = json.dumps(_sodium_bundle()["entry"][0]["resource"])
    (tmp_path / "Observation.ndjson").write_text(
        '{"resourceType": "Observation", "id": "x",\n' + good + "\n", encoding="utf-8"
    )
    table = fhir.read_table(tmp_path, "labs", fhir.SiteMapping(), RULES, WINDOW, None)
    assert table.rows_in == 2
    read = table.frame.loc[table.frame["value_raw"].notna()]
    assert list(zip(read["source_row"], read["value_raw"], strict=True)) == [("2", "118")]


def test_a_search_page_on_an_ndjson_line_reporting_an_error_is_an_export_error(
    tmp_path: Path,
) -> None:
    """Searchset pages saved one per line: a page whose outcome is an error (and that found no
    lab the pre-filter knows) still says data are missing: quarantined export_error."""
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "too-costly", "diagnostics": "page 3 failed"}],
    }
    page = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [
            {"resource": {"resourceType": "Patient", "id": "P1"}, "search": {"mode": "include"}},
            {"resource": outcome, "search": {"mode": "outcome"}},
        ],
    }
    write_ndjson(tmp_path / "pages.ndjson", [page, _sodium_bundle()])
    table = fhir.read_table(tmp_path, "labs", fhir.SiteMapping(), RULES, WINDOW, None)
    assert table.rows_in == 2
    flagged = table.frame.loc[table.frame.get("malformed_reason").eq("export_error")]
    assert list(flagged["source_row"]) == ["1"]
