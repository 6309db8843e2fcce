"""A batch-response Bundle (what a client saves from a FHIR `batch` of reads) whose entry failed
holds no resource, only `response.outcome`: an OperationOutcome of severity error there says
data are missing, like a Bulk Data error file. It is quarantined `export_error` and the night
warns `export_errors` (exit 4); it was an entry without a resource (not relevant), exit 0."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pandas as pd
import pytest
from sample_data import to_fhir

from hyposcreen.cli import main

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"
DAY = "2026-11-20"
FAILED = {
    "response": {
        "status": "500 Internal Server Error",
        "outcome": {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": "timeout"}],
        },
    }
}


def _screened_with_entry(tmp_path: Path, last: dict[str, object]) -> tuple[Path, int]:
    """The sample's FHIR export whose first line is a batch-response Bundle of P001's and
    P002's sodium results (200 OK) and `last`, screened: (the night's folder, exit status)."""
    folder = tmp_path / "fhir"
    to_fhir.convert(SAMPLE, folder)
    path = folder / "Observation.000.ndjson"
    lines = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    first, rest = lines[:2], lines[2:]  # P001's sodium, P002's sodium
    entries = [{"resource": r, "response": {"status": "200 OK"}} for r in first]
    bundle = {"resourceType": "Bundle", "type": "batch-response", "entry": [*entries, last]}
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in [bundle, *rest]))
    out = tmp_path / "out"
    argv = ["run", "--no-flow", "--source", "fhir", "--input", str(folder), "--out", str(out)]
    return out / DAY, main([*argv, "--window-start", DAY])


def _assert_export_error_warned(night: Path) -> None:
    """Reconciled, one `export_errors` warning, the failed entry quarantined as line 1's
    third row (after the two sodium results)."""
    manifest = json.loads((night / "run_manifest.json").read_text())
    assert manifest["reconciled"] is True
    assert [w["code"] for w in manifest["warnings"]] == ["export_errors"]
    quarantine = pd.read_csv(night / "quarantine.csv", dtype=str)
    errors = quarantine[quarantine["reason"] == "export_error"]
    assert errors[["source_file", "source_row"]].values.tolist() == [
        ["Observation.000.ndjson", "1.2"]
    ]


def test_a_failed_batch_entry_warns_that_data_are_missing(tmp_path: Path) -> None:
    night, status = _screened_with_entry(tmp_path, FAILED)
    assert status == 4
    _assert_export_error_warned(night)
    listed = pd.read_csv(night / "review_list.csv", dtype=str).set_index("patient_id")
    assert listed.loc["P001", "index_sodium"] == "135.0"  # the sample's list, read from the batch
    assert len(listed) == 35


@pytest.mark.parametrize(
    "failed",
    [
        {"response": {"status": "404 Not Found"}},  # the outcome is optional
        {
            "response": {
                "status": "503",
                "outcome": {
                    "resourceType": "OperationOutcome",
                    "issue": [{"severity": "warning", "code": "transient"}],
                },
            }
        },
    ],
    ids=["status-only", "status-with-a-warning-outcome"],
)
def test_a_failed_status_without_an_error_outcome_warns_too(
    tmp_path: Path, failed: dict[str, object]
) -> None:
    """The entry's HTTP status (400 or more) says it failed: no resource arrived for it. Without
    an outcome of severity error it was an entry without a resource, not relevant, at exit 0."""
    night, status = _screened_with_entry(tmp_path, failed)
    assert status == 4
    _assert_export_error_warned(night)
    assert len(pd.read_csv(night / "review_list.csv", dtype=str)) == 35


def test_a_succeeded_entry_without_a_resource_is_no_error(tmp_path: Path) -> None:
    """A 2xx entry holding no resource (a delete's answer) says nothing is missing: exit 0."""
    _, status = _screened_with_entry(tmp_path, {"response": {"status": "204 No Content"}})
    assert status == 0


def test_a_status_in_digits_int_does_not_read_is_no_http_status(tmp_path: Path) -> None:
    """A status written in superscript digits (`²¹¹`, a hostile or garbled export) is no HTTP
    status: the entry is one without a resource (exit 0), where str.isdigit() passed it to
    int() and the night ended as an internal error (exit 70)."""
    _, status = _screened_with_entry(tmp_path, {"response": {"status": "\u00b2\u00b9\u00b9 OK"}})
    assert status == 0
