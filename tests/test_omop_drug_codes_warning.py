"""`--source omop`: drug_exposure rows naming their drug by a numeric code alone (ETL-Synthea
writes an RxNorm code in drug_source_value) in an extract without the vocabulary tables. The
unrecognised-medications warning then says those names are codes the concept tables would
resolve; counts only, never a code."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import run_cli

from omop_extract import extract


def _drug(number: int, source_value: str) -> dict[str, str]:
    return {
        "drug_exposure_id": str(number),
        "person_id": "7",
        "drug_concept_id": "0",
        "drug_exposure_start_date": "2026-11-01",
        "drug_source_value": source_value,
    }


def _warnings(folder: Path, out: Path) -> tuple[int, dict[str, str], str]:
    done = run_cli(
        "run", "--no-flow", "--source", "omop", "--input", str(folder),
        "--window-start", "2026-11-20", "--window-end", "2026-11-21", "--out", str(out),
    )  # fmt: skip
    manifest = json.loads((out / "2026-11-20" / "run_manifest.json").read_text())
    found = {w["code"]: w["message"] for w in manifest["warnings"]}
    return done.returncode, found, done.stderr


def test_numeric_drug_names_without_a_concept_table_are_told_as_codes(tmp_path: Path) -> None:
    codes = ["310798", "314076", "197361", "308136", "1049221", "310965"] * 2
    drugs = [_drug(n, code) for n, code in enumerate(codes, start=1)]
    drugs.append(_drug(99, "Mystery tonic"))
    status, found, stderr = _warnings(extract(tmp_path / "omop", drugs=drugs), tmp_path / "out")
    assert status == 4, stderr
    message = found["unrecognised_medications"]
    assert message.startswith("13 of 13 medication name(s) (100%)")
    assert "12 of the 13 are digits alone" in message
    assert "concept, concept_ancestor" in message
    assert not any(code in message or code in stderr for code in codes)
    # names mostly written as words: the warning stays as it was, without the hint
    names = ["Mystery tonic", "Herbal blend", "Tonic water", "Elixir"] * 3 + ["310798"]
    drugs = [_drug(n, name) for n, name in enumerate(names, start=1)]
    status, found, stderr = _warnings(extract(tmp_path / "words", drugs=drugs), tmp_path / "o2")
    assert status == 4, stderr
    assert "digits alone" not in found["unrecognised_medications"]
