"""A low total calcium's evidence states its limit, as every other co-factor's does, so the page
and the workbook keep a value below it below it when they round (report/display._below).

Without it, an albumin-corrected calcium of 8.06 + 0.8 x (4.0 - 3.5) = 8.46 mg/dL (hypocalcemia:
< 8.5) was shown at clinical precision as 'calcium (albumin-corrected) 8.5 mg/dL', and a total of
8.46 without albumin as 'calcium total 8.5 mg/dL', beside the hypocalcemia it was evidence of.
"""

from __future__ import annotations

import html
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from hyposcreen.config import RunSettings, parse_window
from hyposcreen.runners.in_process import run_pipeline

WINDOW = ("2026-11-20T00:00:00", "2026-11-21T00:00:00")
LABS = """patient_id,specimen_id,specimen_time,loinc,lab_name,value_raw,unit,status,specimen_type
K1,G1,2026-11-20T06:00:00,2951-2,Sodium,130,mmol/L,final,Serum
K1,G1,2026-11-20T06:00:00,17861-6,Calcium,8.06,mg/dL,final,Serum
K1,G1,2026-11-20T06:00:00,1751-7,Albumin,3.5,g/dL,final,Serum
K2,H1,2026-11-20T06:00:00,2951-2,Sodium,130,mmol/L,final,Serum
K2,H1,2026-11-20T06:00:00,17861-6,Calcium,8.46,mg/dL,final,Serum
"""


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("calcium_limit")
    inputs = folder / "in"
    inputs.mkdir()
    (inputs / "labs.csv").write_text(LABS, encoding="utf-8")
    (inputs / "medications.csv").write_text(
        "patient_id,drug_name,start_time,end_time,status\nK9,Furosemide,2026-05-12,,active\n",
        encoding="utf-8",
    )
    (inputs / "diagnoses.csv").write_text(
        "patient_id,code,code_system,recorded_time,status\nK9,N18.3,ICD-10-CM,2025-06-15,active\n",
        encoding="utf-8",
    )
    out = folder / "out"
    run_pipeline(RunSettings(input_dir=inputs, out_dir=out, window=parse_window(*WINDOW)))
    return next(out.rglob("review_list.csv")).parent


def test_the_csv_states_the_limit(night: Path) -> None:
    listed = pd.read_csv(night / "review_list.csv", dtype=str, keep_default_na=False)
    evidence = dict(zip(listed["patient_id"], listed["evidence"], strict=True))
    assert evidence["K1"] == (
        "hypocalcemia: calcium_total 8.46 mg/dL at 2026-11-20T06:00:00 "
        "(< 8.5 mg/dL; total 8.06 mg/dL, albumin 3.5 g/dL)"
    )
    assert evidence["K2"].endswith("(< 8.5 mg/dL; total 8.46 mg/dL, no albumin correction)")


def test_the_page_and_workbook_keep_the_value_below_its_limit(night: Path) -> None:
    page = html.unescape((night / "review_list.html").read_text(encoding="utf-8"))
    assert "calcium (albumin-corrected) 8.46 mg/dL at 20 Nov 2026 06:00 UTC" in page
    assert "calcium total 8.46 mg/dL at 20 Nov 2026 06:00 UTC" in page
    assert "8.5 mg/dL at" not in page
    sheet = openpyxl.load_workbook(night / "review_list.xlsx")["Review list"]
    header = [cell.value for cell in sheet[1]]
    shown = [row[header.index("Evidence")] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert all("8.46 mg/dL at" in str(text) for text in shown), shown
