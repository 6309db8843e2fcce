"""A serum sodium low enough for hyponatremia that the quarantine set aside for a reason other
than its value (a blank or unknown unit, a specimen time that does not read, an implausible
value) left its patient off the list at exit 0, one row under every share limit. Any such row
now warns (quarantined_low_sodiums, exit 4) with counts and `file:row` only; the list stays as
the spec makes it, and one process, patient-hash partitions and a backfill's night count alike."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from hyposcreen.cli import main
from sample_delivery import DAY, SAMPLE, screen

CODE = "quarantined_low_sodiums"


def _with_sodiums(tmp_path: Path, *rows: tuple[str, str, str, str]) -> Path:
    """A copy of the sample with a serum sodium per (patient, value, unit, specimen time) added
    after its last row (labs.csv:173 on), each of a patient the sample does not hold."""
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    labs = pd.read_csv(folder / "labs.csv", dtype=str, keep_default_na=False)
    added = []
    for patient, value, unit, time in rows:
        row = labs.iloc[0].copy()
        row[["patient_id", "encounter_id", "specimen_id"]] = [patient, "E9", f"{patient}-1"]
        row[["value_raw", "unit", "specimen_time", "result_time"]] = [value, unit, time, ""]
        added.append(row)
    pd.concat([labs, pd.DataFrame(added)], ignore_index=True).to_csv(
        folder / "labs.csv", index=False
    )
    return folder


def _warnings(night: Path) -> list[dict[str, Any]]:
    return list(json.loads((night / "run_manifest.json").read_text())["warnings"])


def _review(night: Path) -> pd.DataFrame:
    return pd.read_csv(night / "review_list.csv", dtype=str).drop(columns=["run_id"])


BLANK_UNIT = ("P901", "110", "", "2026-11-20T05:00:00")
UNREAD_TIME = ("P902", "110", "mmol/L", "2026-11-20 05:00 AM")


@pytest.mark.parametrize("options", [(), ("--partitions", "3")], ids=["one_process", "partitions"])
def test_a_low_sodium_with_a_blank_unit_or_an_unreadable_time_warns(
    options: tuple[str, ...], tmp_path: Path
) -> None:
    status, night = screen(_with_sodiums(tmp_path, BLANK_UNIT, UNREAD_TIME), *options)
    assert status == 4
    (warning,) = [w for w in _warnings(night) if w["code"] == CODE]
    message = warning["message"]
    assert message.startswith("2 sodium result(s) at or below 135 were set aside")
    assert "bad_unit 1, missing_key 1" in message
    assert "labs.csv:173, labs.csv:174" in message
    assert "110" not in message and "P90" not in message and "AM" not in message
    assert [w["code"] for w in _warnings(night)] == [CODE]
    _, sample = screen(shutil.copytree(SAMPLE, tmp_path / "sample"))
    pd.testing.assert_frame_equal(_review(night), _review(sample))  # the list as the spec makes it
    assert "_sodium" not in (night / "quarantine.csv").read_text()


def test_a_backfill_night_counts_as_its_own_run(tmp_path: Path) -> None:
    folder = _with_sodiums(
        tmp_path, BLANK_UNIT, UNREAD_TIME, ("P903", "110", "mmol", DAY + "T05:00:00")
    )
    _, alone = screen(folder)
    out = tmp_path / "backfill"
    status = main(
        ["run", "--no-flow", "--input", str(folder), "--out", str(out),
         "--backfill", "2026-11-19", DAY]
    )  # fmt: skip
    assert status == 4
    (night,) = [w for w in _warnings(out / DAY) if w["code"] == CODE]
    (single,) = [w for w in _warnings(alone) if w["code"] == CODE]
    assert night["message"] == single["message"]
    assert night["message"].startswith("3 sodium result(s)") and "bad_unit 2" in night["message"]
    # the night before holds the row whose time does not read (no night can be told for it)
    (before,) = [w for w in _warnings(out / "2026-11-19") if w["code"] == CODE]
    assert (
        before["message"].startswith("1 sodium result(s)") and "missing_key 1" in before["message"]
    )
    # ... and says so, each night telling it again: the row is the extract's, not the night's
    extract_wide = "The 1 missing_key row(s) are of the whole extract: a time that does not read"
    assert extract_wide in before["message"] and extract_wide in night["message"]


def test_an_implausible_low_sodium_warns_and_the_threshold_is_the_profiles(
    tmp_path: Path,
) -> None:
    folder = _with_sodiums(
        tmp_path,
        ("P904", "70", "mmol/L", DAY + "T05:00:00"),  # implausible (< 80)
        ("P905", "0", "", DAY + "T05:00:00"),  # no measurement: never counted
        ("P906", "135", "", DAY + "T05:00:00"),  # hyponatremia in seed (<= 135), not eu2014
    )
    status, night = screen(folder)
    assert status == 4
    (warning,) = [w for w in _warnings(night) if w["code"] == CODE]
    assert warning["message"].startswith("2 sodium result(s) at or below 135")
    assert "bad_unit 1, implausible 1" in warning["message"]
    shutil.rmtree(night.parent)
    status, night = screen(folder, "--profile", "eu2014")
    (warning,) = [w for w in _warnings(night) if w["code"] == CODE]
    assert warning["message"].startswith("1 sodium result(s) below 135")


def test_rows_set_aside_on_purpose_or_of_no_patient_do_not_warn(tmp_path: Path) -> None:
    """The sample's own quarantined low sodiums: entered in error (labs.csv:49), a unit of
    another quantity (mg/dL, :46), no patient id (:53), a time written as a word (:38)."""
    status, night = screen(shutil.copytree(SAMPLE, tmp_path / "sample"))
    assert status == 0
    assert not [w for w in _warnings(night) if w["code"] == CODE]
    quarantine = (night / "quarantine.csv").read_text()
    for row, reason in ((38, "missing_key"), (46, "bad_unit"), (49, "status"), (53, "missing_key")):
        assert f"labs.csv,{row},{reason}," in quarantine
