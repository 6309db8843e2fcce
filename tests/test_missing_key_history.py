"""The missing_key share warning on a cumulative extract: a year of lab history in which a dozen
old rows (0.6 % of the extract) have a collection time that does not parse. Such rows cannot be
placed in any window, so every night reads them all (they are quarantined missing_key in each
night's quarantine, as before); but the night's own rows that matter are a few days of the
year. Judged against the night's rows only, the same twelve old rows are "33 %" every night and
every night exits 4 (quarantine_warnings): a false alarm on a stable extract. The rows read and
set aside as outside the window are rows the undated ones are drawn from, so they count."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest

from hyposcreen.cli import main

LAB_COLUMNS = [
    "patient_id", "specimen_time", "result_time", "loinc", "lab_name", "value_raw", "unit",
    "status", "specimen_type",
]  # fmt: skip
NIGHT = "2026-11-20"


def write(path: Path, columns: list[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)


def cumulative_extract(folder: Path, undated: int) -> Path:
    """330 days x 6 normal sodium results, `undated` old rows spread among them whose time is
    'unknown'; a listed drug and a listed code, so nothing else warns."""
    folder.mkdir(parents=True)
    start = pd.Timestamp("2026-01-01")
    rows = [
        [
            f"P{(day * 6 + i) % 97:03d}",
            (start + pd.Timedelta(days=day, hours=8 + i)).strftime("%Y-%m-%dT%H:%M:%S"),
            "",
            "2951-2",
            "Sodium",
            "138",
            "mmol/L",
            "final",
            "Serum",
        ]
        for day in range(330)
        for i in range(6)
    ]
    for k in range(undated):
        rows.insert(
            k * 150, [f"Q{k}", "unknown", "", "2951-2", "Sodium", "138", "mmol/L", "final", "Serum"]
        )
    write(folder / "labs.csv", LAB_COLUMNS, rows)
    write(
        folder / "medications.csv",
        ["patient_id", "drug_name", "start_time", "end_time", "status"],
        [["P001", "Furosemide 40mg tab", "2026-01-01T08:00:00", "", "active"]],
    )
    write(
        folder / "diagnoses.csv",
        ["patient_id", "code", "code_system", "recorded_time", "status"],
        [["P002", "N18.3", "ICD-10-CM", "2025-06-15T10:00:00", "active"]],
    )
    write(folder / "patients.csv", ["patient_id", "sex"], [["P001", "F"], ["P002", "M"]])
    return folder


def night(tmp_path: Path, undated: int) -> tuple[int, dict]:
    extract = cumulative_extract(tmp_path / f"extract{undated}", undated)
    out = tmp_path / f"out{undated}"
    args = ["run", "--no-flow", "--input", str(extract), "--out", str(out)]
    status = main([*args, "--window-start", f"{NIGHT}T00:00:00"])
    return status, json.loads((out / NIGHT / "run_manifest.json").read_text("utf-8"))


def test_a_dozen_old_undated_rows_of_a_year_long_extract_do_not_fail_every_night(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, manifest = night(tmp_path, 12)
    labs = manifest["reconciliation"]["labs"]
    assert labs["reasons"]["quarantined"]["missing_key"] == 12  # read and quarantined, as before
    assert labs["rows_in"] == 330 * 6 + 12
    codes = [w["code"] for w in manifest["warnings"]]
    assert "unreadable_times" not in codes, capsys.readouterr().err
    assert status == 0


def test_an_extract_mostly_undated_still_warns(tmp_path: Path) -> None:
    # 1000 of 2980 rows (34 %) have no readable time: the delivery the warning is for
    status, manifest = night(tmp_path, 1000)
    assert status == 4
    (warning,) = [w for w in manifest["warnings"] if w["code"] == "unreadable_times"]
    assert warning["message"].startswith("1000 of 2980 labs row(s) (34%)")
