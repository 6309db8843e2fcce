"""A delivery that lost a column (or the patients table) the last screened night had: the night
is screened with `columns_dropped` (exit 4), once; a run without state is not judged.

Dropping medications' `end_time` and `status` reads every order as still running and counts a
cancelled one, with no row set aside: before, the night exited 0 with a list made otherwise."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from hyposcreen.cli import main
from hyposcreen.dropped_column_warnings import dropped_column_warnings
from hyposcreen.nightly.delivery_columns import previous_columns, record_columns

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"


def _without_columns(path: Path, *dropped: str) -> None:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    kept = [c for c in rows[0] if c not in dropped]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, kept, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def _night(tmp_path: Path, folder: Path, day: str, *extra: str) -> tuple[int, dict]:
    out = tmp_path / "out"
    status = main(
        ["run", "--no-flow", "--input", str(folder), "--out", str(out), "--window-start", day,
         *extra]
    )  # fmt: skip
    return status, json.loads((out / day / "run_manifest.json").read_text("utf-8"))


def _codes(manifest: dict) -> list[str]:
    return [w["code"] for w in manifest["warnings"]]


@pytest.mark.parametrize("partitions", ["1", "2"])
def test_a_column_the_last_night_had_warns_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], partitions: str
) -> None:
    folder = tmp_path / "delivery"
    shutil.copytree(SAMPLE, folder)
    state = ("--state-dir", str(tmp_path / "state"), "--partitions", partitions)
    status, first = _night(tmp_path, folder, "2026-11-19", *state)
    assert status == 0 and "columns_dropped" not in _codes(first)

    _without_columns(folder / "medications.csv", "end_time", "status")
    (folder / "patients.csv").unlink()
    status, second = _night(tmp_path, folder, "2026-11-20", *state)
    err = capsys.readouterr().err
    assert status == 4, err
    dropped = [w["message"] for w in second["warnings"] if w["code"] == "columns_dropped"]
    assert len(dropped) == 2, dropped  # medications' two columns in one warning; patients
    assert "medications table has no end_time, status columns" in dropped[0]
    assert "night of 2026-11-19" in dropped[0]
    assert "patients table is missing or empty" in dropped[1]
    assert "P001" not in " ".join(dropped) and "Furosemide" not in " ".join(dropped)
    assert "no end_time, status columns" in err

    # the delivery goes on so: the next night is judged against the night without them
    status, third = _night(tmp_path, folder, "2026-11-21", *state)
    assert "columns_dropped" not in _codes(third)


def test_a_run_without_state_does_not_judge_columns(tmp_path: Path) -> None:
    folder = tmp_path / "delivery"
    shutil.copytree(SAMPLE, folder)
    _without_columns(folder / "medications.csv", "end_time")
    _, manifest = _night(tmp_path, folder, "2026-11-20")
    assert "columns_dropped" not in _codes(manifest)


def test_the_last_night_before_the_window_is_the_one_compared(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    labs = ("patient_id", "specimen_time", "value_raw", "unit", "loinc")
    record_columns(path, "site", pd.Timestamp("2026-11-18"), {"labs": (*labs, "specimen_id")})
    record_columns(path, "site", pd.Timestamp("2026-11-19"), {"labs": (*labs, "status")})
    # a table whose columns are not known (an empty tuple) is not recorded at all
    record_columns(path, "site", pd.Timestamp("2026-11-20"), {"labs": ()})
    before = previous_columns(path, "site", pd.Timestamp("2026-11-21"))
    assert before["labs"] == (pd.Timestamp("2026-11-19"), tuple(sorted((*labs, "status"))))
    # medications, diagnoses and patients were not delivered: recorded as no columns
    assert before["patients"][1] == ()
    # against 11-19: status is gone; specimen_id (11-18) is not looked at; patients, absent
    # then too, is not warned
    found = dropped_column_warnings(
        (path, "site", pd.Timestamp("2026-11-21")), {"labs": (*labs, "source_row")}
    )
    assert [w.code for w in found] == ["columns_dropped"]
    assert "labs table has no status column tonight" in found[0].message
    # re-screening 11-19 compares with 11-18, whose specimen_id 11-19 lacked
    found = dropped_column_warnings(
        (path, "site", pd.Timestamp("2026-11-19")), {"labs": (*labs, "status")}
    )
    assert ["no specimen_id column" in w.message for w in found] == [True]
