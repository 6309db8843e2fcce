"""A lab name of the site's dictionary is found by the Observation pre-filter however the JSON
writes it: a letter outside ASCII escaped (`s\\u00e9rique`, as serializers keeping to ASCII
write it) or raw in capitals (`SÉRIQUE`), a slash escaped (`serum\\/plasma`). Such results were
counted not relevant (`unknown_loinc`) unparsed, at exit 0, severe sodium included."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from sample_data import to_fhir

from fhir_export import rewrite_observations
from hyposcreen.cli import main

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"
DAY = "2026-11-20"
NAMES = {"P043": "SODIUM SÉRIQUE", "P006": "Sodium sérique", "P003": "Na serum/plasma"}


def _rewrite(line: bytes) -> bytes:
    """The sample's serum sodium of the patients of NAMES coded by a local code and a name
    only, written as Python's json.dumps writes (ASCII, `\\u00e9`), slashes escaped; P043's
    line keeps its letters raw."""
    resource = json.loads(line)
    patient = resource.get("subject", {}).get("reference", "").rsplit("/", 1)[-1]
    coding = resource.get("code", {}).get("coding", [{}])[0]
    if patient.rsplit(":", 1)[-1] not in NAMES or coding.get("code") != "2951-2":
        return line
    name = NAMES[patient.rsplit(":", 1)[-1]]
    resource["code"] = {"coding": [{"system": "urn:oid:1.2.3", "code": "L-NA-1"}], "text": name}
    written = json.dumps(resource, ensure_ascii=name != "SODIUM SÉRIQUE")
    return written.replace("/", "\\/").encode("utf-8")


def test_escaped_dictionary_names_are_found(tmp_path: Path) -> None:
    folder = tmp_path / "fhir"
    to_fhir.convert(SAMPLE, folder)
    changed = rewrite_observations(folder, _rewrite)
    assert changed == 3
    site = tmp_path / "site"
    site.mkdir()
    (site / "site.yaml").write_text("site: test\nlab_dictionary: labs.csv\n", encoding="utf-8")
    (site / "labs.csv").write_text(
        "local_name,analyte\nsodium sérique,sodium\nna serum/plasma,sodium\n", encoding="utf-8"
    )
    out = tmp_path / "out"
    argv = ["run", "--no-flow", "--source", "fhir", "--input", str(folder), "--out", str(out)]
    assert main([*argv, "--mapping", str(site / "site.yaml"), "--window-start", DAY]) == 0
    listed = pd.read_csv(out / DAY / "review_list.csv", dtype=str).set_index("patient_id")
    # the sample's hand-computed list: P043 severe 104.0, P006 severe 119.9, P003 moderate 125.0
    assert listed.loc["P043", ["index_sodium", "severity"]].tolist() == ["104.0", "severe"]
    assert listed.loc["P006", ["index_sodium", "severity"]].tolist() == ["119.9", "severe"]
    assert listed.loc["P003", ["index_sodium", "risk_factors"]].tolist() == [
        "125.0",
        "loop_diuretic",
    ]
    assert len(listed) == 35
