"""An export whose MedicationStatements name their drug only by `Medication/x` while no
Medication resource came with it (the Medication file left out): each such record is quarantined
`unresolved_reference` with its `file:row`, and the night warns `unresolved_references` (exit 4)
since risk factors may be missing; a reference that carries a display keeps it as the drug.
Before, the records were not relevant (`unlisted_drug`) and the night exited 0."""

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


def test_drugs_named_by_medications_not_exported_are_quarantined_and_warn(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "fhir"
    to_fhir.convert(SAMPLE, folder)
    (folder / "Medication.ndjson").unlink()
    statements = folder / "MedicationStatement.ndjson"
    records = [orjson.loads(line) for line in statements.read_bytes().splitlines()]
    assert len(records) == 8 and all("medicationReference" in r for r in records)
    p038 = next(r for r in records if r["subject"]["reference"].endswith("P038"))
    p038["medicationReference"]["display"] = "Torsemide 20 mg tablet"
    statements.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    out = tmp_path / "out"
    argv = ["run", "--no-flow", "--source", "fhir", "--input", str(folder), "--out", str(out)]
    status = main([*argv, "--window-start", DAY])
    err = capsys.readouterr().err
    assert status == 4, err
    manifest = json.loads((out / DAY / "run_manifest.json").read_text())
    assert manifest["reconciled"] is True
    assert [w["code"] for w in manifest["warnings"]] == ["unresolved_references"]
    assert "MedicationStatement.ndjson:1" in err and "P038" not in err
    quarantine = pd.read_csv(out / DAY / "quarantine.csv", dtype=str)
    unresolved = quarantine[quarantine["reason"] == "unresolved_reference"]
    assert unresolved["source_row"].tolist() == ["1", "2", "3", "4", "5", "6", "7"]
    listed = pd.read_csv(out / DAY / "review_list.csv", dtype=str, keep_default_na=False)
    listed = listed.set_index("patient_id")
    # the sample's list less the drugs of the 7 statements: P012 (Seroquel) and P017
    # (oxcarbazepine) have no other risk factor, mild: not listed; P021 keeps hypokalemia
    # (routine); P038's torsemide is read from the display (urgent, loop_diuretic)
    assert "P012" not in listed.index and "P017" not in listed.index
    assert listed.loc["P021", ["tier", "risk_factors"]].tolist() == ["3", "hypokalemia"]
    assert listed.loc["P038", ["tier", "risk_factors"]].tolist() == ["1", "loop_diuretic"]
    assert len(listed) == 33
