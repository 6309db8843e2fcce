"""Two versions of a Medication that medication records refer to (a `_history` Bundle, two
incremental exports side by side). The records' own versions compete (the latest is used:
fhir_versions), and so do the versions of the Medication they name: the highest numeric
`meta.versionId`, else the latest `meta.lastUpdated`, wherever in the files each one stands
(a `_history` Bundle lists the newest first).
Before, the version read last named the drug: on the sample converted to FHIR, with an older
version of each Medication (a drug no rule lists) written after the current one, the drugs of
its 8 MedicationStatements were lost: two cases left the list and two lost a risk factor (a loop
diuretic, an antidepressant), at exit 0 without a word."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pandas as pd
import pytest
from sample_data import to_fhir

from hyposcreen.cli import main
from sample_delivery import DAY, SAMPLE


def _with_older_versions(folder: Path, meta: str) -> None:
    """Each Medication of the export as its current version (its own drug) followed by an
    older one naming another drug, their order told by `meta` (`versionId`, `lastUpdated`;
    `history`: a `_history` Bundle in a file of its own, newest first as servers list them)."""
    path = folder / "Medication.ndjson"
    written: list[dict[str, Any]] = []
    for line in path.read_bytes().splitlines():
        current = orjson.loads(line)
        older = dict(current, code={"text": "paracetamol 500 mg"})
        if meta in ("versionId", "history"):
            current["meta"], older["meta"] = {"versionId": "2"}, {"versionId": "1"}
        else:
            current["meta"] = {"lastUpdated": "2026-11-19T07:00:00Z"}
            older["meta"] = {"lastUpdated": "2026-11-19T08:30:00+02:00"}  # 06:30 UTC
        written += [current, older]
    if meta == "history":
        path.unlink()
        entries = [{"resource": resource} for resource in written]
        history = {"resourceType": "Bundle", "type": "history", "entry": entries}
        (folder / "history.ndjson").write_bytes(orjson.dumps(history) + b"\n")
        return
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in written))


def _risk_factors(folder: Path) -> pd.Series:
    out = folder.parent / f"{folder.name}_out"
    status = main(["run", "--no-flow", "--source", "fhir", "--input", str(folder),
                   "--out", str(out), "--window-start", DAY])  # fmt: skip
    assert status == 0
    listed = pd.read_csv(out / DAY / "review_list.csv", dtype=str)
    return listed.set_index("patient_id")["risk_factors"].sort_index()


@pytest.mark.parametrize("meta", ["versionId", "lastUpdated", "history"])
def test_the_latest_version_of_a_referenced_medication_names_the_drug(
    tmp_path: Path, meta: str
) -> None:
    as_converted = tmp_path / "converted"
    to_fhir.convert(SAMPLE, as_converted)
    versioned = tmp_path / "versioned"
    to_fhir.convert(SAMPLE, versioned)
    _with_older_versions(versioned, meta)
    pd.testing.assert_series_equal(_risk_factors(versioned), _risk_factors(as_converted))
