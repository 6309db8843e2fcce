"""An export of one JSON document per patient names each file for its patient (Synthea's
`Given_Family_<id>.json`): outside the 0600 files (quarantine.csv, the review list) nothing the
run writes names such a file; the manifest lists the documents as one entry (count, rows,
bytes, a digest of their digests), which still changes when any document does."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from fhir_generators import DAY, manifest, run, write_json
from test_fhir_synthea_bundles import A, patient_a, synthea_output


def _shared_files(out: Path) -> list[Path]:
    """Files of the run that others may read (not 0600)."""
    return [
        path
        for path in sorted(out.rglob("*"))
        if path.is_file() and stat.S_IMODE(path.stat().st_mode) & 0o077
    ]


def test_no_shared_output_names_a_per_patient_document(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    status, err = run(capsys, synthea_output(tmp_path / "output"), tmp_path / "out")
    # the export's CKD is coded in SNOMED CT alone, which the rules do not list: warned
    warned = [w["code"] for w in manifest(tmp_path / "out")["warnings"]]
    assert status == 4 and warned == ["snomed_only_diagnoses"], err
    shared = _shared_files(tmp_path / "out")
    assert any(p.name == "run_manifest.json" for p in shared)
    for path in shared:
        text = path.read_bytes().decode("utf-8", errors="replace")
        assert "Kub" not in text and "Bo_Li" not in text, path
    assert "Kub" not in err + caplog.text
    inputs = manifest(tmp_path / "out")["inputs"]["labs"]
    grouped = [entry for entry in inputs if "documents" in entry]
    assert len(grouped) == 1 and grouped[0]["documents"] == 3  # two patients + the hospital
    assert grouped[0]["rows"] == 8  # 7 Observations + the hospital's line, as reconciled


def test_the_documents_entry_changes_with_any_document(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = synthea_output(tmp_path / "output")
    run(capsys, folder, tmp_path / "out1")
    first = manifest(tmp_path / "out1")
    changed = patient_a()
    changed["entry"][0]["resource"]["gender"] = "other"  # a field the screen does not read
    write_json(folder / "fhir" / f"Ana_Kub_{A}.json", changed)
    run(capsys, folder, tmp_path / "out2")
    second = manifest(tmp_path / "out2")
    digest = [
        [e["sha256"] for e in m["inputs"]["labs"] if "documents" in e] for m in (first, second)
    ]
    assert digest[0] != digest[1]
    assert first["run_id"] != second["run_id"]
    assert json.dumps(first["reconciliation"]) == json.dumps(second["reconciliation"])
    assert DAY in first["window"]["start"]


def test_a_contract_s_example_rows_do_not_name_a_per_patient_document(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A data contract failed by rows of a per-patient document (an Observation whose time is
    a JSON number: missing) quotes them in run_manifest.json, which others may read, by their
    place in the document alone, never by the document's name."""
    output = synthea_output(tmp_path / "output")
    bundle = patient_a()
    for entry in bundle["entry"]:
        if entry["resource"]["resourceType"] == "Observation":
            entry["resource"]["effectiveDateTime"] = 1700000000
            entry["resource"].pop("issued", None)
            break
    write_json(output / "fhir" / f"Ana_Kub_{A}.json", bundle)
    status, err = run(capsys, output, tmp_path / "out")
    assert status in (0, 4), err
    outcomes = manifest(tmp_path / "out")["validation"]["outcomes"]
    quoted = [row for o in outcomes for row in o["example_rows"]]
    assert any(row.startswith("(a JSON document):entry[") for row in quoted), outcomes
    for path in _shared_files(tmp_path / "out"):
        text = path.read_bytes().decode("utf-8", errors="replace")
        assert "Kub" not in text and "Bo_Li" not in text, path
    assert "Kub" not in err
