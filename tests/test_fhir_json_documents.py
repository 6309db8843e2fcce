"""JSON documents read whole (`adapters.fhir_documents`): gzipped ones hashed as stored, the
codings of a document's Condition, Bundles inside Bundles."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import orjson
import pytest
from tests.helpers import RULES, WINDOW

from fhir_generators import (
    ICD10,
    SNOMED,
    condition,
    observation,
    quantity,
    run,
    transaction,
    write_json,
    write_ndjson,
)
from hyposcreen.adapters import fhir
from hyposcreen.ingest.files import sha256_of
from test_fhir_synthea_bundles import A, B, patient_b


def test_a_gzipped_document_is_hashed_as_stored(tmp_path: Path) -> None:
    path = write_json(tmp_path / f"Bo_Li_{B}.json.gz", patient_b())
    assert gzip.decompress(path.read_bytes()).startswith(b"{")
    table = fhir.read_table(tmp_path, "labs", fhir.SiteMapping(), RULES, WINDOW, None)
    # the manifest lists documents as one entry: a digest of their stored bytes' digests
    stored = hashlib.sha256(sha256_of(path).encode()).hexdigest()
    assert [(f["sha256"], f["documents"]) for f in table.files] == [(stored, 1)]
    assert table.rows_in == 2


def test_condition_code_systems_of_an_icd_coded_synthea_variant(tmp_path: Path) -> None:
    """Synthea variants that code problems in ICD-10-CM: the listed coding is read, whatever
    its place among the codings."""
    coding = [{"system": SNOMED, "code": "88805009"}, {"system": ICD10, "code": "I50.9"}]
    write_json(tmp_path / "x.json", transaction(condition("c", f"urn:uuid:{A}", coding)))
    table = fhir.read_table(tmp_path, "diagnoses", fhir.SiteMapping(), RULES, WINDOW, None)
    assert list(table.frame["code"]) == ["I50.9"]
    assert list(table.frame["source_row"]) == ["entry[0]"]


def test_bundles_inside_bundles_are_read(tmp_path: Path) -> None:
    """A message Bundle carrying a collection Bundle (as interface engines wrap results):
    the inner entries are read, named by their place in both."""
    inner = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {
                "resource": observation("x1", "Patient/N1", "2951-2", "Na", "2026-11-20T05:00:00Z")
                | {"valueQuantity": quantity(118, "mmol/L")}
            }
        ],
    }
    outer = {
        "resourceType": "Bundle",
        "type": "message",
        "entry": [{"resource": {"resourceType": "MessageHeader"}}, {"resource": inner}],
    }
    write_json(tmp_path / "message.json", outer)
    write_ndjson(tmp_path / "bundles.ndjson", [outer])
    table = fhir.read_table(tmp_path, "labs", fhir.SiteMapping(), RULES, WINDOW, None)
    assert sorted(table.frame["source_row"]) == ["1", "entry[1].entry[0]"]
    assert list(table.frame["value_raw"]) == ["118", "118"]


def test_a_pretty_printed_bundle_under_an_ndjson_name_is_read_whole(tmp_path: Path) -> None:
    """Saved with `indent` under `Observation.ndjson`: its lines are fragments, so the file is
    read as the document it is (not ignored for lacking resource lines, nor quarantined line
    by line); a real NDJSON file whose first line is broken stays NDJSON."""
    bundle = transaction(
        observation("o1", "Patient/P1", "2951-2", "Na", "2026-11-20T05:00:00Z")
        | {"valueQuantity": quantity(127, "mmol/L")}
    )
    write_json(tmp_path / "Observation.ndjson", bundle)
    good = observation("o2", "Patient/P2", "2951-2", "Na", "2026-11-20T06:00:00Z")
    (tmp_path / "Observation.001.ndjson").write_bytes(
        b'{"resourceType": "Observation", "broken\n' + orjson.dumps(good) + b"\n"
    )
    table = fhir.read_table(tmp_path, "labs", fhir.SiteMapping(), RULES, WINDOW, None)
    rows = table.frame.sort_values(["source_file", "source_row"])
    assert list(rows["source_row"]) == ["1", "2", "entry[0]"]
    assert list(rows["patient_id"].fillna("")) == ["", "P2", "P1"]
    assert rows["malformed_text"].notna().tolist() == [True, False, False]  # the broken line
    assert (table.rows_in, table.not_relevant) == (3, {})


def test_a_damaged_gzipped_document_stops_the_run_naming_its_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A `.json.gz` cut short cannot be told from anything else: it is not ignored as "not
    FHIR" but stops the run (exit 3), as a damaged `.ndjson.gz` does, naming its folder and
    how to find it, not its name (Synthea's is the patient's)."""
    whole = gzip.compress(json.dumps(patient_b(), indent=2).encode())
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / f"Bo_Li_{B}.json.gz").write_bytes(whole[: len(whole) // 2])
    write_json(tmp_path / "in" / f"Ana_Kub_{A}.json", transaction())
    status, err = run(capsys, tmp_path / "in", tmp_path / "out")
    assert status == 3, err
    assert f"a JSON document in {tmp_path / 'in'} (not named" in err
    assert "the compressed file ends early" in err and "Bo_Li" not in err
    assert "Traceback" not in err
