"""`hyposcreen audit` of MIMIC-IV `hosp` and OMOP extracts: months read in the hospital's own
layout, told month by month as they are screened."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from sample_data import to_mimic
from tests.helpers import run_cli

LAB_HEAD = (
    "patient_id,encounter_id,specimen_id,specimen_time,result_time,loinc,lab_name,value_raw,"
    "unit,status,specimen_type"
)
# Shifted MIMIC years: P9001 a sodium of 124 at 23:59 on the last day of January 2180 and
# P9002 one of 117 at midnight on 1 February; a heart failure code dated with its admission.
LAB_ROWS = [
    "P9001,E1,S1,2180-01-31T23:59:00,2180-02-01T00:59:00,2951-2,Sodium,124,mmol/L,final,Serum",
    "P9002,E2,S2,2180-02-01T00:00:00,2180-02-01T01:00:00,2951-2,Sodium,117,mmol/L,final,Serum",
]


@pytest.fixture(scope="module")
def mimic_extract(tmp_path_factory: pytest.TempPathFactory) -> Path:
    canonical = tmp_path_factory.mktemp("canonical")
    (canonical / "labs.csv").write_text("\n".join([LAB_HEAD, *LAB_ROWS]) + "\n", "utf-8")
    (canonical / "medications.csv").write_text(
        "patient_id,encounter_id,drug_name,rxnorm,atc,start_time,end_time,status,route\n"
        "P9001,E1,Furosemide 20 mg,,,2179-05-01T09:00:00,,active,oral\n",
        "utf-8",
    )
    (canonical / "diagnoses.csv").write_text(
        "patient_id,encounter_id,code,code_system,recorded_time,status,description\n"
        "P9002,E2,I50.9,ICD-10-CM,2179-06-01T10:00:00,active,Heart failure\n",
        "utf-8",
    )
    (canonical / "patients.csv").write_text(
        "patient_id,mrn,name,birth_date,sex,unit\nP9001,M1,A,1940-01-01,F,W\n"
        "P9002,M2,B,1940-01-01,F,W\n",
        "utf-8",
    )
    folder = tmp_path_factory.mktemp("mimic")
    to_mimic.convert(folder, canonical)
    return folder


def test_each_month_is_told_as_it_is_screened_with_no_count(
    mimic_extract: Path, tmp_path: Path
) -> None:
    """Three months of a MIMIC extract (each read for itself): three progress lines, in order,
    naming the month and its seconds only."""
    done = run_cli(
        "audit", "--input", str(mimic_extract), "--source", "mimic", "--start", "2180-01-01",
        "--end", "2180-04-01", "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert done.returncode in (0, 4), done.stderr
    told = re.findall(r"hyposcreen: \[(\d)/3\] (2180-\d\d) screened \(\d+\.\d s\)", done.stderr)
    assert told == [("1", "2180-01"), ("2", "2180-02"), ("3", "2180-03")]
    assert not re.search(r"9001|9002|124|117", done.stderr)
    assert pd.read_csv(tmp_path / "out" / "audit_tables.csv")["period"].nunique() == 4
