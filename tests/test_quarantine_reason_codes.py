"""A row a data contract quarantines carries the reason code itself (spec §6: a medication
whose end_time is before its start_time is quarantined `end_before_start`), in quarantine.csv
and in the manifest's reconciliation, the same code as the rows cleaning quarantines."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from hyposcreen.cli import main

LABS = """patient_id,specimen_time,loinc,value_raw,unit
P1,2026-11-20T06:00:00,2951-2,130,mmol/L
P2,2026-11-20T06:00:00,2951-2,130,mmol/L
P3,2026-11-20T06:00:00,2951-2,130,mmol/L
"""
# P1: stopped a day before it started -> quarantined end_before_start (spec §6), no risk factor
# P2: an end time that does not read -> quarantined bad_time (README), no risk factor
# P3: started 2026-05-12, ongoing -> loop_diuretic, the control
MEDICATIONS = """patient_id,drug_name,start_time,end_time,status
P1,Furosemide 40mg tab,2026-11-10T09:00:00,2026-11-09T09:00:00,active
P2,Furosemide 40mg tab,2026-11-10T09:00:00,next week,active
P3,Furosemide 40mg tab,2026-05-12T09:00:00,,active
"""
DIAGNOSES = "patient_id,code,code_system,recorded_time\nP9,I10,ICD-10-CM,2026-10-01T00:00:00\n"


def test_contract_quarantines_write_the_reason_code_alone(tmp_path: Path) -> None:
    extract = tmp_path / "extract"
    extract.mkdir()
    (extract / "labs.csv").write_text(LABS, encoding="utf-8")
    (extract / "medications.csv").write_text(MEDICATIONS, encoding="utf-8")
    (extract / "diagnoses.csv").write_text(DIAGNOSES, encoding="utf-8")
    out = tmp_path / "out"
    argv = ["run", "--no-flow", "--input", str(extract), "--out", str(out)]
    assert main([*argv, "--window-start", "2026-11-20"]) in (0, 4)
    night = out / "2026-11-20"
    with (night / "quarantine.csv").open(newline="", encoding="utf-8") as handle:
        quarantined = [
            (row["table"], row["source_row"], row["reason"]) for row in csv.DictReader(handle)
        ]
    assert quarantined == [
        ("medications", "2", "end_before_start"),
        ("medications", "3", "bad_time"),
    ]
    manifest = json.loads((night / "run_manifest.json").read_text(encoding="utf-8"))
    reasons = manifest["reconciliation"]["medications"]["reasons"]["quarantined"]
    assert reasons == {"end_before_start": 1, "bad_time": 1}
    with (night / "review_list.csv").open(newline="", encoding="utf-8") as handle:
        listed = {row["patient_id"]: row["risk_factors"] for row in csv.DictReader(handle)}
    # 130 is mild (seed): only P3, whose furosemide is active, has a risk factor
    assert listed == {"P3": "loop_diuretic"}
