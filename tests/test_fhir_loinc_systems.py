"""A LOINC coding whose system is written `http://www.loinc.org` or as the bare OID
`2.16.840.1.113883.6.1` (as HL7 v2 converters write it) is LOINC: a severe sodium coded so,
without a display, was a local code the lab dictionary does not know (not relevant, exit 0)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pandas as pd
from sample_data import to_fhir

from fhir_export import rewrite_observations
from hyposcreen.cli import main

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"
DAY = "2026-11-20"
SYSTEMS = {"P043": "http://www.loinc.org", "P006": "2.16.840.1.113883.6.1"}


def _recode(line: bytes) -> bytes:
    resource = orjson.loads(line)
    patient = resource.get("subject", {}).get("reference", "").rsplit("/", 1)[-1]
    system = SYSTEMS.get(patient.rsplit(":", 1)[-1])
    if system is None or resource.get("code", {}).get("coding", [{}])[0].get("code") != "2951-2":
        return line
    resource["code"] = {"coding": [{"system": system, "code": "2951-2"}]}
    return orjson.dumps(resource)


def test_loinc_written_with_other_system_names_is_sodium(tmp_path: Path) -> None:
    folder = tmp_path / "fhir"
    to_fhir.convert(SAMPLE, folder)
    changed = rewrite_observations(folder, _recode)
    assert changed == 2
    out = tmp_path / "out"
    argv = ["run", "--no-flow", "--source", "fhir", "--input", str(folder), "--out", str(out)]
    assert main([*argv, "--window-start", DAY]) == 0
    listed = pd.read_csv(out / DAY / "review_list.csv", dtype=str).set_index("patient_id")
    # the sample's hand-computed list: P043 severe at 104.0, P006 severe at 119.9, 35 cases
    assert listed.loc["P043", ["index_sodium", "severity"]].tolist() == ["104.0", "severe"]
    assert listed.loc["P006", ["index_sodium", "severity"]].tolist() == ["119.9", "severe"]
    assert len(listed) == 35
