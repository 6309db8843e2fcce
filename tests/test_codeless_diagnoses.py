"""The missing_key share warning on a diagnoses table where most rows are not relevant: a
problem list of 322 rows, of which 300 carry a code no rule lists (not relevant) and 8 (2.5 %)
carry no code at all. A row without a code is quarantined missing_key before its relevance can
be known, so it is one of the whole table's rows, not one of the 21 whose code is listed:
judged against those, the 8 codeless rows were "36 %" and the night exited 4 (and every night
after, the diagnoses being read whole). Rows with a listed code whose time does not read are
still judged against the listed rows: a whole delivery with an undeclared date format warns."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from hyposcreen.cli import main

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"
DAY = "2026-11-20"


def delivery(tmp_path: Path, codeless: int, unlisted: int) -> Path:
    folder = tmp_path / "delivery"
    shutil.copytree(SAMPLE, folder)
    diagnoses = pd.read_csv(folder / "diagnoses.csv", dtype=str, keep_default_na=False)
    asthma = {"code": "J45.909", "code_system": "ICD-10-CM", "description": "Asthma"}
    extra = [
        {
            "patient_id": f"A{n:03d}",
            "recorded_time": "2024-01-01T10:00:00",
            "status": "active",
            **asthma,
        }
        for n in range(unlisted)
    ] + [
        {
            "patient_id": f"C{n:03d}",
            "code": "",
            "code_system": "ICD-10-CM",
            "recorded_time": "2024-01-01T10:00:00",
            "status": "active",
            "description": "free text",
        }
        for n in range(codeless)
    ]
    diagnoses = pd.concat([diagnoses, pd.DataFrame(extra)], ignore_index=True)
    diagnoses.to_csv(folder / "diagnoses.csv", index=False)
    return folder


def night(folder: Path, out: Path) -> tuple[int, dict]:
    status = main(
        ["run", "--no-flow", "--input", str(folder), "--out", str(out), "--window-start", DAY]
    )
    return status, json.loads((out / DAY / "run_manifest.json").read_text("utf-8"))


def test_a_few_codeless_rows_of_a_mostly_unlisted_problem_list_do_not_warn(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, manifest = night(delivery(tmp_path, codeless=8, unlisted=300), tmp_path / "out")
    diagnoses = manifest["reconciliation"]["diagnoses"]
    assert diagnoses["rows_in"] == 322
    assert diagnoses["reasons"]["quarantined"]["missing_key"] == 8  # quarantined, as before
    assert [w["code"] for w in manifest["warnings"]] == [], capsys.readouterr().err
    assert status == 0


def test_a_problem_list_mostly_codeless_still_warns(tmp_path: Path) -> None:
    # 200 of 214 rows (93 %) have no code: a mapping that reads the wrong column
    status, manifest = night(delivery(tmp_path, codeless=200, unlisted=0), tmp_path / "out")
    assert status == 4
    (warning,) = [w for w in manifest["warnings"] if w["code"] == "missing_keys"]
    assert "diagnoses" in warning["message"] and "diagnoses.csv:" in warning["message"]


def test_listed_diagnoses_whose_times_do_not_read_still_warn(tmp_path: Path) -> None:
    # the sample's 13 listed codes recorded as 15.06.2025: all of them, among 300 unlisted rows
    folder = delivery(tmp_path, codeless=0, unlisted=300)
    diagnoses = pd.read_csv(folder / "diagnoses.csv", dtype=str, keep_default_na=False)
    listed = diagnoses["code"] != "J45.909"
    times = pd.to_datetime(diagnoses.loc[listed, "recorded_time"], format="ISO8601")
    diagnoses.loc[listed, "recorded_time"] = times.dt.strftime("%d.%m.%Y %H:%M")
    diagnoses.to_csv(folder / "diagnoses.csv", index=False)
    status, manifest = night(folder, tmp_path / "out")
    assert status == 4
    (warning,) = [w for w in manifest["warnings"] if w["code"] == "unreadable_times"]
    assert warning["message"].startswith("14 of 14 diagnoses row(s) (100%)")
