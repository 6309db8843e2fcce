"""JSON documents are parsed once per run (`adapters.fhir_parsed`): the four tables and the
Specimen / Medication look-ups read a document's resources from what the first read kept, with
the same rows, accounting and file hashes as reading each document afresh; a document changed
on disk is read again; a document that does not fit the budget is parsed on every read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pandas as pd
import pytest
from tests.helpers import RULES, WINDOW

from fhir_generators import med_request, observation, quantity, write_json
from hyposcreen.adapters import fhir, fhir_parsed
from test_fhir_synthea_bundles import synthea_output

TABLES = ("labs", "medications", "diagnoses", "patients")


def _extra_document(folder: Path) -> None:
    """A Specimen and a Medication referenced from other entries, and a float that must read
    back as written."""
    urine = observation("u1", "Patient/P9", "2951-2", "Sodium", "2026-11-20T05:00:00Z")
    urine |= {"valueQuantity": quantity(41.300000000000004, "mmol/L")}
    urine["specimen"] = {"reference": "Specimen/sp9"}
    order = med_request("m9", "Patient/P9", None, "2026-11-19T08:00:00Z")
    order["medicationReference"] = {"reference": "Medication/med9"}
    specimen = {"resourceType": "Specimen", "id": "sp9", "type": {"text": "Urine"}}
    drug = {"resourceType": "Medication", "id": "med9", "code": {"text": "furosemide"}}
    entries = [{"resource": r} for r in (order, urine, specimen, drug)]
    write_json(folder / "fhir" / "extra.json", {"resourceType": "Bundle", "entry": entries})


def _read_all(folder: Path) -> dict[str, Any]:
    return {
        name: fhir.read_table(folder, name, fhir.SiteMapping(), RULES, WINDOW, None)
        for name in TABLES
    }


def _same(first: dict[str, Any], second: dict[str, Any]) -> None:
    for name in TABLES:
        a, b = first[name], second[name]
        pd.testing.assert_frame_equal(a.frame, b.frame)
        assert (a.rows_in, a.not_relevant, a.files, a.source_counts) == (
            b.rows_in,
            b.not_relevant,
            b.files,
            b.source_counts,
        )


def test_each_document_is_parsed_once_for_all_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = synthea_output(tmp_path / "output")
    _extra_document(folder)
    documents = {p.read_bytes() for p in (folder / "fhir").glob("*.json")}
    parsed: list[bytes] = []
    loads = orjson.loads

    def counting_loads(text: Any) -> Any:  # the real parser, counted
        if bytes(text) in documents:
            parsed.append(bytes(text))
        return loads(text)

    monkeypatch.setattr(orjson, "loads", counting_loads)
    tables = _read_all(folder)
    assert sorted(parsed) == sorted(documents)  # each once, none skipped
    monkeypatch.setattr(orjson, "loads", loads)
    fresh = _read_all(folder)  # a second run of the same process: from what was kept
    _same(tables, fresh)


def test_kept_documents_read_as_a_fresh_parse_reads_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = synthea_output(tmp_path / "output")
    _extra_document(folder)
    kept = _read_all(folder)
    labs = kept["labs"].frame
    urine = labs[labs["source_file"] == "fhir/extra.json"]
    assert list(urine["source_row"]) == ["entry[1]"]
    assert list(urine["specimen_type"]) == ["Urine"]  # the Specimen, looked up
    assert list(urine["value_raw"]) == ["41.300000000000004"]
    meds = kept["medications"].frame
    assert list(meds.loc[meds["patient_id"] == "P9", "drug_name"]) == ["furosemide"]
    monkeypatch.setattr(fhir_parsed, "CACHE_BYTES", 0)  # nothing kept: every read parses
    fhir_parsed.keep_only([])
    _same(kept, _read_all(folder))


def test_a_document_changed_on_disk_is_read_again(tmp_path: Path) -> None:
    def sodium(value: float) -> dict:
        found = observation("n1", "Patient/P1", "2951-2", "Sodium", "2026-11-20T05:00:00Z")
        return {
            "resourceType": "Bundle",
            "entry": [{"resource": found | {"valueQuantity": quantity(value, "mmol/L")}}],
        }

    path = write_json(tmp_path / "doc.json", sodium(121))
    first = fhir.read_table(tmp_path, "labs", fhir.SiteMapping(), RULES, WINDOW, None)
    write_json(path, sodium(131.5))
    second = fhir.read_table(tmp_path, "labs", fhir.SiteMapping(), RULES, WINDOW, None)
    assert list(first.frame["value_raw"]) == ["121"]
    assert list(second.frame["value_raw"]) == ["131.5"]
    assert first.files[0]["sha256"] != second.files[0]["sha256"]
