"""`hyposcreen audit` stops as a run does (exit 3) on a delivery whose key times mostly do not
read: a lab extract whose collection times were saved through a spreadsheet (Excel serial day
numbers) leaves every month without its results, and a QI report of such months would be short
or empty without a word. The stop is the run's (recipe_warnings.screenable_times: the rules'
`contracts: broken_share` and `min_rows_to_judge`, the same message naming file, column and
`file:row` examples, never a value), judged once for the read the months share. Real CLI,
copies of the sample (its labs: 168 of the 170 rows that matter have a time to rewrite).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from hyposcreen.cli import main
from sample_delivery import SAMPLE, screen

EXCEL_EPOCH = pd.Timestamp("1899-12-30")


def serial_lab_times(tmp_path: Path) -> Path:
    """A copy of the sample whose lab collection times are Excel serial day numbers."""
    folder = Path(shutil.copytree(SAMPLE, tmp_path / "delivery"))
    frame = pd.read_csv(folder / "labs.csv", dtype=str, keep_default_na=False)
    times = pd.to_datetime(frame["specimen_time"], format="ISO8601", errors="coerce")
    days = (times[times.notna()] - EXCEL_EPOCH) / pd.Timedelta(days=1)
    frame.loc[times.notna(), "specimen_time"] = [f"{d:.7f}".rstrip("0").rstrip(".") for d in days]
    frame.to_csv(folder / "labs.csv", index=False)
    return folder


def error_line(err: str) -> str:
    (line,) = [text for text in err.splitlines() if text.startswith("hyposcreen: error: ")]
    return line


@pytest.mark.parametrize("start", ["2026-11-01", "2026-09-01"], ids=["one_month", "three_months"])
def test_an_audit_of_mostly_unreadable_lab_times_stops_with_the_run_s_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], start: str
) -> None:
    folder = serial_lab_times(tmp_path)
    out = tmp_path / "audit"
    status = main(["audit", "--input", str(folder), "--start", start, "--end", "2026-12-01",
                   "--out", str(out)])  # fmt: skip
    err = capsys.readouterr().err
    assert status == 3, err
    stopped = error_line(err)
    assert stopped.startswith(
        "hyposcreen: error: labs.csv (labs): 168 of 170 row(s) (99%) have a specimen_time "
        "that does not read"
    ), err
    assert "168 look like Excel serial day numbers" in stopped
    assert "Examples: labs.csv:2; labs.csv:3; labs.csv:4; labs.csv:5; labs.csv:6." in stopped
    assert stopped.count("cannot be screened") == 1  # judged once, not once a month
    assert not out.exists() or not any(out.iterdir())  # no short report
    assert "P001" not in err and ".2569444" not in err  # no value (row 2: 06:10)
    # the night's run of the same delivery stops with the same words
    run_status, _ = screen(folder)
    assert run_status == 3
    assert error_line(capsys.readouterr().err) == stopped
