"""An NDJSON line that ends with `}` but is no JSON (a lost comma; a line cut off and run into
the next) is a damaged line whatever codes it holds: the Observation pre-filter, which counts
lines without a relevant code not relevant unparsed, and its early drop of results dated days
outside the window, quarantine it `malformed_row` with its `file:row`, and the night warns
`malformed_rows` (exit 4), as for any row that does not read as a row (fhir_lines)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from sample_data import to_fhir

from hyposcreen.cli import main

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"
DAY = "2026-11-20"
HEAD = b'{"resourceType":"Observation","status":"final","subject":{"reference":"Patient/P001"},'
DAMAGED = [
    # a haemoglobin (not relevant) with the comma after `subject` lost
    HEAD[:-1] + b' "code":{"coding":[{"system":"http://loinc.org","code":"718-7"}]},'
    b'"effectiveDateTime":"2026-11-20T06:00:00Z","valueQuantity":{"value":13,"unit":"g/dL"}}',
    # a result cut off inside its code, run into the next line (a haemoglobin)
    HEAD
    + b'"code":{"coding":[{"system":"http://loinc.org","code":"29'
    + HEAD
    + b'"code":{"coding":[{"system":"http://loinc.org","code":"718-7"}]},'
    b'"effectiveDateTime":"2026-11-20T06:00:00Z","valueQuantity":{"value":13,"unit":"g/dL"}}',
    # a sodium dated years before the window, its comma after `subject` lost
    HEAD[:-1] + b' "code":{"coding":[{"system":"http://loinc.org","code":"2951-2"}]},'
    b'"effectiveDateTime":"2020-01-01T06:00:00Z","valueQuantity":{"value":140,"unit":"mmol/L"}}',
]


def test_damaged_lines_without_a_relevant_code_are_quarantined_and_warn(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "fhir"
    to_fhir.convert(SAMPLE, folder)
    observations = folder / "Observation.000.ndjson"
    lines = observations.read_bytes().splitlines()
    observations.write_bytes(b"\n".join([*lines[:5], *DAMAGED, *lines[5:]]) + b"\n")
    out = tmp_path / "out"
    argv = ["run", "--no-flow", "--source", "fhir", "--input", str(folder), "--out", str(out)]
    status = main([*argv, "--window-start", DAY])
    err = capsys.readouterr().err
    assert status == 4, err
    manifest = json.loads((out / DAY / "run_manifest.json").read_text())
    assert manifest["reconciled"] is True
    assert [w["code"] for w in manifest["warnings"]] == ["malformed_rows"]
    assert "Observation.000.ndjson:6" in err and "P001" not in err
    quarantine = pd.read_csv(out / DAY / "quarantine.csv", dtype=str)
    malformed = quarantine[quarantine["reason"] == "malformed_row"]
    assert malformed["source_row"].tolist() == ["6", "7", "8"]
    assert set(malformed["source_file"]) == {"Observation.000.ndjson"}
    listed = pd.read_csv(out / DAY / "review_list.csv", dtype=str)
    assert len(listed) == 35  # the sample's list: the damaged lines held no result it uses
