"""FHIR Conditions coded in SNOMED CT alone. Synthea, and problem lists of many EHRs, code a
Condition by a SNOMED CT coding only; the rules list conditions by ICD-10-CM and ICD-9-CM codes
and name one SNOMED CT code (cirrhosis, 19943007: spec §6). On the sample converted to FHIR
with every Condition so coded, heart failure, CKD, SIADH and documented cramps were all lost
(`unlisted_code`) without a word. The night now warns (`snomed_only_diagnoses`, exit 4, counts
only); a Condition that carries an ICD coding beside its SNOMED CT one is read by the ICD
coding whatever their order, and does not count."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import orjson
import pytest
from sample_data import to_fhir

from fhir_export import condition, read, write_export
from hyposcreen.cli import main
from sample_delivery import DAY, SAMPLE

SNOMED = "http://snomed.info/sct"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
# the sample's codes as Synthea would write them (cirrhosis keeps its listed code)
SNOMED_OF = {
    "N18.3": "433144002",
    "I50.9": "84114007",
    "428.0": "84114007",
    "E22.2": "237689001",
    "E43": "238107002",
    "F10.20": "7200002",
    "K74.60": "19943007",
    "K7460": "19943007",
    "R25.2": "55300003",
}
CONDITIONS = 14  # the sample's Condition resources, two of them cirrhosis


def _export(tmp_path: Path, keep_icd: bool) -> Path:
    """The sample as FHIR, each Condition given the SNOMED CT coding first; its ICD coding
    kept after it (`keep_icd`) or dropped."""
    folder = tmp_path / "fhir"
    to_fhir.convert(SAMPLE, folder)
    for path in folder.rglob("*.ndjson"):
        resources = [orjson.loads(line) for line in path.read_bytes().splitlines()]
        if not resources or resources[0]["resourceType"] != "Condition":
            continue
        for resource in resources:
            icd = resource["code"]["coding"]
            snomed = {"system": SNOMED, "code": SNOMED_OF[icd[0]["code"]]}
            resource["code"]["coding"] = [snomed, *icd] if keep_icd else [snomed]
        path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in resources))
    return folder


def _run(folder: Path) -> tuple[int, Path]:
    out = folder.parent / "out"
    status = main(["run", "--no-flow", "--source", "fhir", "--input", str(folder),
                   "--out", str(out), "--window-start", DAY])  # fmt: skip
    return status, out / DAY


def _warnings(night: Path) -> list[str]:
    manifest = json.loads((night / "run_manifest.json").read_text("utf-8"))
    return [w["message"] for w in manifest["warnings"] if w["code"] == "snomed_only_diagnoses"]


def _risk_factors(night: Path) -> set[str]:
    with (night / "review_list.csv").open(encoding="utf-8") as rows:
        return {f for row in csv.DictReader(rows) for f in row["risk_factors"].split(";") if f}


def test_conditions_coded_in_snomed_alone_warn(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, night = _run(_export(tmp_path, keep_icd=False))
    err = capsys.readouterr().err
    assert status == 4
    [message] = _warnings(night)
    alone = CONDITIONS - 2  # the cirrhosis code is listed
    assert message.startswith(
        f"{alone} of {CONDITIONS} FHIR Condition row(s) (86%; limit 50%) are coded in SNOMED "
        "CT alone (no ICD-10-CM or ICD-9-CM coding) by a code the rules do not list"
    )
    assert f"warning: {message}" in err
    # counts only: neither a code nor a patient of the export is named
    assert set(re.findall(r"\d+", message)) <= {
        str(alone),
        str(CONDITIONS),
        "86",
        "50",
        "10",
        "9",
        "6",
    }
    assert "P0" not in message
    # what the warning is about: only cirrhosis is still found among the conditions
    found = _risk_factors(night)
    assert "cirrhosis" in found
    assert not found & {"heart_failure", "ckd", "siadh", "cramp_documented"}


def test_conditions_with_an_icd_coding_beside_snomed_do_not_warn(tmp_path: Path) -> None:
    _, night = _run(_export(tmp_path, keep_icd=True))
    assert _warnings(night) == []
    assert {"heart_failure", "ckd", "siadh", "cramp_documented"} <= _risk_factors(night)


def test_an_unlisted_condition_is_read_by_its_icd_coding_before_snomed(tmp_path: Path) -> None:
    write_export(
        tmp_path,
        {
            "Condition.ndjson": [
                condition({"system": SNOMED, "code": "38341003"}, {"system": ICD10, "code": "I10"}),
                condition({"system": SNOMED, "code": "19943007"}, {"system": ICD10, "code": "I10"}),
                condition({"system": SNOMED, "code": "38341003"}),
            ]
        },
    )
    table = read(tmp_path, "diagnoses")
    assert list(table.frame["code"]) == ["I10", "19943007", "38341003"]
    assert list(table.frame["code_system"]) == ["ICD-10-CM", "SNOMED", "SNOMED"]
    counts = table.source_counts["Condition"]
    assert (counts["condition_rows"], counts["snomed_alone"]) == (3, 1)
