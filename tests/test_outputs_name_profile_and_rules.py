"""Spec §5: the profile name and rules version appear in every output — also in the CSVs
beside the review list (evidence.csv, quarantine.csv, coverage.csv), on every row, with
`time_zone` still the last column of those that have one."""

from __future__ import annotations

import csv
from pathlib import Path

from hyposcreen.cli import main
from hyposcreen.rules.loader import load_rules

LABS = """patient_id,specimen_time,loinc,value_raw,unit
P1,2026-11-20T06:00:00,2951-2,128,mmol/L
P2,2026-11-20T06:00:00,2951-2,HEMOLYZED,mmol/L
P3,2026-11-20T06:00:00,99999-9,128,mmol/L
"""
# P1: 128 is mild under eu2014 (130 <= Na < 135 is mild; 125 <= Na < 130 moderate): listed
# with its loop diuretic, one evidence row. P2: quarantined non_numeric. P3: an unknown LOINC,
# named in coverage.csv.
MEDICATIONS = "patient_id,drug_name,start_time\nP1,Furosemide 40mg tab,2026-05-12T09:00:00\n"
DIAGNOSES = "patient_id,code,code_system,recorded_time\nP9,I10,ICD-10-CM,2026-10-01T00:00:00\n"


def _rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


def test_every_csv_names_the_profile_and_rules_version(tmp_path: Path) -> None:
    extract = tmp_path / "extract"
    extract.mkdir()
    (extract / "labs.csv").write_text(LABS, encoding="utf-8")
    (extract / "medications.csv").write_text(MEDICATIONS, encoding="utf-8")
    (extract / "diagnoses.csv").write_text(DIAGNOSES, encoding="utf-8")
    out = tmp_path / "out"
    argv = ["run", "--no-flow", "--input", str(extract), "--out", str(out), "--profile", "eu2014"]
    assert main([*argv, "--window-start", "2026-11-20"]) in (0, 4)
    night = out / "2026-11-20"
    version = load_rules().version
    for name, last in [
        ("review_list.csv", "time_zone"),
        ("evidence.csv", "time_zone"),
        ("quarantine.csv", "time_zone"),
        ("coverage.csv", "rules_version"),
    ]:
        header, rows = _rows(night / name)
        assert rows, name
        assert header[-1] == last, name
        assert {(r["profile"], r["rules_version"]) for r in rows} == {("eu2014", version)}, name
