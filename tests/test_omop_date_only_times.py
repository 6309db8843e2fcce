"""OMOP lab results dated by `measurement_date` alone. The adapter reads a measurement row
without `measurement_datetime` (and without `measurement_time`) at midnight of its date, so
every result of the day meets at 00:00: same-value results become duplicates, a glucose of any
hour corrects a sodium. On the sample converted to OMOP with the datetime blank for most rows
the list changed (35 cases listed, 34) at exit 0, without a word. The night now warns as the
canonical layout's date-only times do (exit 4, `date_only_times`, counts only), in one process,
in partitions, in a backfill and in the audit; datetimes, a measurement_time, or a datetime at
00:00 are no date alone. A measurement_datetime holding a date without a clock time (text, or a
Parquet column typed date) is one, as it reads as midnight too."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sample_data import to_omop
from tests.helpers import assert_date_only_counts_only, date_only_messages

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
    `midnight` at 00:00:00 of their date, `dates` their date alone but rows 1-10, `absent` the
    column dropped (measurement_date alone), `none` kept."""
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
    elif change == "dates":
        rows.loc[~rows["measurement_id"].isin(KEPT_IDS), "measurement_datetime"] = rows[
            "measurement_date"
        ]
    elif change == "midnight":
        rows.loc[dated, "measurement_datetime"] = rows["measurement_date"] + " 00:00:00"
    elif change == "absent":
        rows = rows.drop(columns=["measurement_datetime"])
    rows.to_csv(path, sep="\t", index=False)
    return folder


def _run(folder: Path, *options: str) -> tuple[int, Path]:
    out = folder.parent / "out"
    status = main(["run", "--no-flow", "--source", "omop", "--input", str(folder),
                   "--out", str(out), *options])  # fmt: skip
    return status, out


@pytest.mark.parametrize("partitions", ["1", "3"])
def test_measurements_dated_by_their_date_alone_warn(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], partitions: str
) -> None:
    status, out = _run(_omop(tmp_path, "blank"), "--window-start", DAY, "--partitions", partitions)
    err = capsys.readouterr().err
    assert status == 4
    [message] = date_only_messages(out / DAY / "run_manifest.json")
    share = round(100 * DATE_ALONE / TIMED_ROWS)
    assert message.startswith(
        f"{DATE_ALONE} of {TIMED_ROWS} OMOP measurement row(s) ({share}%) are dated by a date "
        "alone (limit 5%): their measurement_datetime is blank (and no measurement_time is "
        "given) or holds a date without a clock time, so each is read as midnight of its day."
    )
    assert "a glucose of any hour corrects a sodium" in message
    assert f"warning: {message}" in err
    assert_date_only_counts_only(message, DATE_ALONE, TIMED_ROWS, share)


@pytest.mark.parametrize("change", ["none", "time", "midnight"])
def test_a_clock_time_in_the_datetime_or_time_column_does_not_warn(
    tmp_path: Path, change: str
) -> None:
    """Datetimes (as converted), the clock in measurement_time, or a datetime at 00:00:00 (it
    states a clock time; a draw at midnight cannot be told from an ETL's filled-in one)."""
    status, out = _run(_omop(tmp_path, change), "--window-start", DAY)
    assert date_only_messages(out / DAY / "run_manifest.json") == []
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
    assert date_only_messages(out / "2026-11-19" / "run_manifest.json") == []
    [message] = date_only_messages(out / DAY / "run_manifest.json")
    assert message.startswith(f"{DATE_ALONE} of {TIMED_ROWS} OMOP measurement row(s)")
    audit = tmp_path / "audit"
    period = ["--start", "2026-11-01", "--end", "2026-12-01", "--out", str(audit)]
    assert main(["audit", "--source", "omop", "--input", str(folder), *period]) == 4
    [found] = date_only_messages(audit / "audit_manifest.json")
    assert re.match(r"\[2026-11\] \d+ of \d+ OMOP measurement row\(s\) \(\d+%\) are dated", found)
    assert "measurement_datetime is blank" in capsys.readouterr().err


@pytest.mark.parametrize("typed", [False, True])
def test_a_datetime_column_holding_dates_alone_warns_as_a_blank_one(
    tmp_path: Path, typed: bool
) -> None:
    """A measurement_datetime holding a date without a clock time (`2026-11-20`, or a Parquet
    column typed date) is read as midnight as a blank one is: the list changes (34 cases, where
    the datetimes list 35) and the night warns of the rows so dated, not quietly exits 0."""
    folder = _omop(tmp_path, "dates")
    if typed:  # every row's datetime a typed date: rows 1-10 as well
        path = folder / "measurement.csv"
        rows = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False).replace("", None)
        table = pa.Table.from_pandas(rows, preserve_index=False)
        days = pd.to_datetime(rows["measurement_date"]).dt.date
        column = table.schema.get_field_index("measurement_datetime")
        table = table.set_column(column, "measurement_datetime", pa.array(days, pa.date32()))
        path.unlink()
        pq.write_table(table, folder / "measurement.parquet")
    status, out = _run(folder, "--window-start", DAY)
    assert status == 4
    assert len(pd.read_csv(out / DAY / "review_list.csv")) == 34
    [message] = date_only_messages(out / DAY / "run_manifest.json")
    date_alone = TIMED_ROWS if typed else DATE_ALONE
    share = round(100 * date_alone / TIMED_ROWS)
    assert message.startswith(
        f"{date_alone} of {TIMED_ROWS} OMOP measurement row(s) ({share}%) are dated by a date "
        "alone (limit 5%)"
    )
    assert "a date without a clock time" in message
    assert_date_only_counts_only(message, date_alone, TIMED_ROWS, share)


@pytest.mark.parametrize("partitions", ["1", "3"])
def test_a_measurement_table_without_a_datetime_column_is_told_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], partitions: str
) -> None:
    """An extract whose measurement table has no measurement_datetime column at all (the date
    alone, as older CDM practice delivers) warns as before, but says the column is absent, not
    that it is blank: the engineer asks for a column, not for values."""
    status, out = _run(_omop(tmp_path, "absent"), "--window-start", DAY, "--partitions", partitions)
    assert status == 4
    [message] = date_only_messages(out / DAY / "run_manifest.json")
    found = re.match(r"(\d+) of (\d+) OMOP measurement row\(s\) \(100%\) are dated", message)
    assert found is not None and found[1] == found[2]
    assert (
        "(limit 5%): the extract's measurement table has no measurement_datetime column (and no "
        "measurement_time is given), so each is read as midnight of its day." in message
    )
    assert "is blank" not in message
    assert "Can the extract add the measurement_datetime column" in message
    assert f"warning: {message}" in capsys.readouterr().err
    assert_date_only_counts_only(message, int(found[1]), int(found[2]), 100)
