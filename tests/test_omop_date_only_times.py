"""OMOP lab results dated by `measurement_date` alone. The adapter reads a measurement row
without `measurement_datetime` (and without `measurement_time`) at midnight of its date, so
every result of the day meets at 00:00: same-value results become duplicates, a glucose of any
hour corrects a sodium. On the sample converted to OMOP with the datetime blank for most rows
the list changed (35 cases listed, 34) at exit 0, without a word. The night now warns as the
canonical layout's date-only times do (exit 4, `date_only_times`, counts only), in one process,
in partitions, in a backfill and in the audit; datetimes, a measurement_time, or a datetime at
00:00 are no date alone."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from sample_data import to_omop

from hyposcreen.cli import main
from sample_delivery import DAY, SAMPLE

# of the converted sample's 170 measurement rows: 166 read in the night's read window with a
# time (less an unknown LOINC, two outside the window, one time "unknown"); rows 1-10 keep
# their datetime, 9 of them in that window (row 10 is 2026-11-21T02:00)
TIMED_ROWS = 166
DATE_ALONE = TIMED_ROWS - 9
KEPT_IDS = {str(n) for n in range(1, 11)}


def _omop(tmp_path: Path, change: str) -> Path:
    """The sample as an OMOP extract (tab-delimited, with vocabulary), its measurement table's
    datetimes changed: `blank` but rows 1-10, `time` blank with the clock in measurement_time,
    `midnight` at 00:00:00 of their date, `none` kept."""
    folder = tmp_path / "omop"
    to_omop.convert(folder, SAMPLE)
    path = folder / "measurement.csv"
    rows = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    dated = rows["measurement_date"] != ""
    clock = rows["measurement_datetime"].str.slice(11)
    if change == "blank":
        rows.loc[~rows["measurement_id"].isin(KEPT_IDS), "measurement_datetime"] = ""
    elif change == "time":
        rows["measurement_time"] = clock.where(dated, "")
        rows.loc[dated, "measurement_datetime"] = ""
    elif change == "midnight":
        rows.loc[dated, "measurement_datetime"] = rows["measurement_date"] + " 00:00:00"
    rows.to_csv(path, sep="\t", index=False)
    return folder


def _run(folder: Path, *options: str) -> tuple[int, Path]:
    out = folder.parent / "out"
    status = main(["run", "--no-flow", "--source", "omop", "--input", str(folder),
                   "--out", str(out), *options])  # fmt: skip
    return status, out


def _date_only(manifest_path: Path) -> list[str]:
    manifest = json.loads(manifest_path.read_text("utf-8"))
    return [w["message"] for w in manifest["warnings"] if w["code"] == "date_only_times"]


def _assert_counts_only(message: str, *counts: int) -> None:
    """Only the counts, the share, the limit and the 48 h of the spec are numbers in it."""
    assert set(re.findall(r"\d+", message)) <= {*map(str, counts), "5", "48"}


@pytest.mark.parametrize("partitions", ["1", "3"])
def test_measurements_dated_by_their_date_alone_warn(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], partitions: str
) -> None:
    status, out = _run(_omop(tmp_path, "blank"), "--window-start", DAY, "--partitions", partitions)
    err = capsys.readouterr().err
    assert status == 4
    [message] = _date_only(out / DAY / "run_manifest.json")
    share = round(100 * DATE_ALONE / TIMED_ROWS)
    assert message.startswith(
        f"{DATE_ALONE} of {TIMED_ROWS} OMOP measurement row(s) ({share}%) are dated by "
        "measurement_date alone (limit 5%): measurement_datetime is blank and no "
        "measurement_time is given, so each is read as midnight of its day."
    )
    assert "a glucose of any hour corrects a sodium" in message
    assert f"warning: {message}" in err
    _assert_counts_only(message, DATE_ALONE, TIMED_ROWS, share)


@pytest.mark.parametrize("change", ["none", "time", "midnight"])
def test_a_clock_time_in_the_datetime_or_time_column_does_not_warn(
    tmp_path: Path, change: str
) -> None:
    """Datetimes (as converted), the clock in measurement_time, or a datetime at 00:00:00 (it
    states a clock time; a draw at midnight cannot be told from an ETL's filled-in one)."""
    status, out = _run(_omop(tmp_path, change), "--window-start", DAY)
    assert _date_only(out / DAY / "run_manifest.json") == []
    if change != "midnight":  # every result at midnight does change what is screened
        assert status == 0


def test_a_backfill_and_the_audit_warn_of_dates_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Nights cut from one read judge each night's own rows (the nights before hold fewer than
    `min_rows_for_share`); the audit judges its month as a run would."""
    folder = _omop(tmp_path, "blank")
    status, out = _run(folder, "--backfill", "2026-11-19", DAY)
    assert status == 4
    assert _date_only(out / "2026-11-19" / "run_manifest.json") == []
    [message] = _date_only(out / DAY / "run_manifest.json")
    assert message.startswith(f"{DATE_ALONE} of {TIMED_ROWS} OMOP measurement row(s)")
    audit = tmp_path / "audit"
    period = ["--start", "2026-11-01", "--end", "2026-12-01", "--out", str(audit)]
    assert main(["audit", "--source", "omop", "--input", str(folder), *period]) == 4
    [found] = _date_only(audit / "audit_manifest.json")
    assert re.match(r"\[2026-11\] \d+ of \d+ OMOP measurement row\(s\) \(\d+%\) are dated", found)
    assert "measurement_datetime is blank" in capsys.readouterr().err
