"""FHIR medications named by codes alone. Some exporters write a MedicationRequest's
`medicationCodeableConcept` (or a Medication's `code`) as an RxNorm coding with no `display`
and no `text`. The rules name drugs by ingredient name and ATC (spec §6; an RxNorm code only
when it is a listed ingredient's), so a product's RxNorm code matches nothing: on the sample
converted to FHIR with every drug so written, the list lost 17 of its 35 cases (every
medication risk factor) at exit 0, without a word. The night now warns as OMOP's drugs named
by concept ids alone do (`unidentified_medications`, exit 4, counts only), in one process, in
partitions and in the audit; an ingredient's RxNorm code alone still names its drug."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import orjson
import pandas as pd
import pytest
from sample_data import to_fhir

from hyposcreen.cli import main
from sample_delivery import DAY, SAMPLE, screen

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
DRUG_FILES = ("MedicationRequest", "MedicationStatement", "MedicationAdministration", "Medication")
DRUG_ROWS = 33  # the sample's 17 MedicationRequests, 8 MedicationStatements, 8 administrations
KINDS = "MedicationAdministration/MedicationRequest/MedicationStatement"


def _codes_alone(folder: Path, code: str | None) -> None:
    """Every drug concept of the export rewritten as one RxNorm coding, no display or text:
    `code` for all (an ingredient's), else a code of its own (900001, 900002 ...: no listed
    ingredient has one); a reference's display is dropped too."""
    numbers = iter(range(900_001, 901_000))

    def coded() -> dict[str, Any]:
        return {"coding": [{"system": RXNORM, "code": code or str(next(numbers))}]}

    for name in DRUG_FILES:
        path = folder / f"{name}.ndjson"
        resources = [orjson.loads(line) for line in path.read_bytes().splitlines()]
        for resource in resources:
            if "medicationCodeableConcept" in resource:
                resource["medicationCodeableConcept"] = coded()
            if name == "Medication":
                resource["code"] = coded()
            for held in resource.get("contained", []):
                held["code"] = coded()
            resource.get("medicationReference", {}).pop("display", None)
        path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in resources))


def _export(tmp_path: Path, code: str | None = None, rewrite: bool = True) -> Path:
    folder = tmp_path / "fhir"
    to_fhir.convert(SAMPLE, folder)
    if rewrite:
        _codes_alone(folder, code)
    return folder


def _run(folder: Path, *options: str) -> tuple[int, Path]:
    return screen(folder, "--source", "fhir", *options)


def _unidentified(manifest_path: Path) -> list[str]:
    manifest = json.loads(manifest_path.read_text("utf-8"))
    return [w["message"] for w in manifest["warnings"] if w["code"] == "unidentified_medications"]


@pytest.mark.parametrize("partitions", ["1", "3"])
def test_drugs_named_by_product_codes_alone_warn(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], partitions: str
) -> None:
    status, night = _run(_export(tmp_path), "--partitions", partitions)
    err = capsys.readouterr().err
    assert status == 4
    [message] = _unidentified(night / "run_manifest.json")
    assert message.startswith(
        f"{DRUG_ROWS} of {DRUG_ROWS} FHIR {KINDS} row(s) (100%; limit 50%) name no drug the "
        "screen can read: their medicationCodeableConcept (or Medication code) has no text or "
        "display, and none of its codes is an ATC code or the RxNorm code of a listed ingredient"
    )
    assert "No medication risk factor can be found in them" in message
    assert f"warning: {message}" in err
    # counts only: the codes of the export appear nowhere
    assert set(re.findall(r"\d+", message)) <= {str(DRUG_ROWS), "100", "50"}
    manifest = json.loads((night / "run_manifest.json").read_text("utf-8"))
    counts = manifest["source_counts"]["medications"]["MedicationRequest"]
    assert (counts["drug_rows"], counts["note_no_drug_identifier"]) == (17, 17)


def test_the_audit_warns_of_drugs_named_by_codes_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _export(tmp_path)
    audit = tmp_path / "audit"
    period = ["--start", "2026-11-01", "--end", "2026-12-01", "--out", str(audit)]
    assert main(["audit", "--source", "fhir", "--input", str(folder), *period]) == 4
    manifest = json.loads((audit / "audit_manifest.json").read_text("utf-8"))
    [found] = [w["message"] for w in manifest["warnings"] if "unidentified" in w["code"]]
    assert found.startswith(f"[2026-11] {DRUG_ROWS} of {DRUG_ROWS} FHIR {KINDS} row(s)")
    assert "name no drug the screen can read" in capsys.readouterr().err


@pytest.mark.parametrize("code", ["4603", None])
def test_drugs_the_screen_reads_do_not_warn(tmp_path: Path, code: str | None) -> None:
    """furosemide's ingredient RxNorm code (4603) alone names a listed drug (every drug of the
    sample read as furosemide: the list differs, but no warning); the sample as converted
    names its drugs by text."""
    status, night = _run(_export(tmp_path, code, rewrite=code is not None))
    assert _unidentified(night / "run_manifest.json") == []
    assert status == 0
    if code is not None:
        review = pd.read_csv(night / "review_list.csv", dtype=str)
        assert review["risk_factors"].str.contains("loop_diuretic", na=False).any()


def test_each_night_of_a_backfill_says_the_counts_are_the_extracts(tmp_path: Path) -> None:
    """Every night reads the medication table whole (its labs are cut to the night), so each
    night of a backfill repeats the same counts: a night with no lab row at all among them.
    The message says they are the extract's whole table's, not the night's own."""
    folder = _export(tmp_path)
    out = tmp_path / "out"
    argv = ["run", "--no-flow", "--source", "fhir", "--input", str(folder), "--out", str(out)]
    assert main([*argv, "--backfill", "2026-11-10", DAY]) == 4
    nights = ("2026-11-10", DAY)
    messages = {night: _unidentified(out / night / "run_manifest.json") for night in nights}
    quiet = json.loads((out / "2026-11-10" / "run_manifest.json").read_text("utf-8"))
    assert quiet["attrition"][0]["count"] == 0  # no sodium that night
    assert messages["2026-11-10"] == messages[DAY]
    [message] = messages[DAY]
    assert message.startswith(f"{DRUG_ROWS} of {DRUG_ROWS} FHIR {KINDS} row(s)")
    assert message.endswith(
        "These are counts of the extract's whole medication table, which every night reads "
        "whole (each night of a backfill and each month of an audit repeats them), not of this "
        "night's rows alone."
    )
