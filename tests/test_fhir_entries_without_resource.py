"""Bundle entries that hold no FHIR resource are accounted for, never dropped unsaid: an entry
whose `resource` has no resourceType (invalid FHIR) is quarantined `malformed_row` at its place
(`entry[1]`; `2.entry[1]` in a Bundle on NDJSON line 2), an entry without a `resource` (a
transaction's DELETE, a history Bundle's deletion) is not relevant `entry_without_resource`;
in JSON documents, Bundles on a line and JSON arrays alike, for every table that reads them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.helpers import RULES, WINDOW

from fhir_generators import (
    SNOMED,
    condition,
    manifest,
    observation,
    quantity,
    quarantined,
    run,
    transaction,
    write_json,
)
from hyposcreen.adapters import fhir

SODIUM = observation("na1", "Patient/P1", "2951-2", "Sodium", "2026-11-20T05:00:00Z") | {
    "valueQuantity": quantity(124, "mmol/L")
}
CIRRHOSIS = condition("c1", "Patient/P1", [{"system": SNOMED, "code": "19943007"}])
NO_TYPE = {"id": "x", "status": "final", "valueQuantity": quantity(120, "mmol/L")}
DELETE = {"request": {"method": "DELETE", "url": "Observation/old"}}


def _bundle() -> dict:
    document = transaction(SODIUM, CIRRHOSIS)
    document["entry"].insert(1, {"fullUrl": "urn:uuid:x", "resource": NO_TYPE})
    document["entry"].append(DELETE)
    return document  # entry[0] sodium, [1] no resourceType, [2] condition, [3] DELETE


def _accounted(table: fhir.IngestedTable) -> int:
    return len(table.frame) + sum(table.not_relevant.values())


@pytest.mark.parametrize("name", ["labs", "diagnoses", "medications", "patients"])
def test_a_documents_entries_without_a_resource_are_accounted_for(
    tmp_path: Path, name: str
) -> None:
    write_json(tmp_path / "Ana_Kub_1.json", _bundle())
    table = fhir.read_table(tmp_path, name, fhir.SiteMapping(), RULES, WINDOW, None)
    bad = table.frame[table.frame["malformed_text"].notna()]
    assert list(bad["source_row"]) == ["entry[1]"]
    assert table.not_relevant["entry_without_resource"] == 1
    assert table.rows_in == _accounted(table)
    kept = {"labs": 1, "diagnoses": 1}.get(name, 0)
    assert len(table.frame) - len(bad) == kept


def test_a_bundle_on_a_line_and_a_json_array_name_the_entry(tmp_path: Path) -> None:
    lines = [json.dumps(CIRRHOSIS), json.dumps(_bundle())]
    (tmp_path / "everything.ndjson").write_text("\n".join(lines) + "\n")
    write_json(tmp_path / "array.json", [CIRRHOSIS, "not a resource"])
    table = fhir.read_table(tmp_path, "diagnoses", fhir.SiteMapping(), RULES, WINDOW, None)
    bad = table.frame[table.frame["malformed_text"].notna()]
    assert sorted(zip(bad["source_file"], bad["source_row"], strict=True)) == [
        ("array.json", "[1]"),
        ("everything.ndjson", "2.entry[1]"),
    ]
    used = table.frame[table.frame["malformed_text"].isna()]
    assert sorted(used["source_row"]) == ["1", "2", "[0]"]  # the Bundle line's condition: 2
    assert table.not_relevant["entry_without_resource"] == 1
    assert table.rows_in == _accounted(table) == 6


def test_the_run_reconciles_and_quarantines_the_invalid_entry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_json(tmp_path / "in" / "Ana_Kub_1.json", _bundle())
    status, err = run(capsys, tmp_path / "in", tmp_path / "out")
    assert status in (0, 4), err
    found = manifest(tmp_path / "out")
    assert found["reconciled"] is True
    assert ("labs", "Ana_Kub_1.json", "entry[1]", "malformed_row") in quarantined(tmp_path / "out")
