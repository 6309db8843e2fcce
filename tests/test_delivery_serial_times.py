"""Time columns delivered as something other than date-time text: a lab extract saved through
a spreadsheet (Excel serial day numbers, `46346.2569444` for 2026-11-20 06:10), a system that
exports Unix epoch seconds or milliseconds (text, or a Parquet INT64 column with no timestamp
type), dates in an order the site mapping does not declare (`20/11/2026 06:10`,
`11/20/2026 06:10`). No number is guessed into a time: the rows are quarantined, and the night
says what the texts look like and what the mapping or the export must do (unreadable_times,
time_shapes, rules/time_shapes.csv). A table whose key time mostly does not read cannot be
screened (exit 3, naming file, column and `file:row` examples, never a value); a smaller part
warns (exit 4).

Counts by hand, from the sample: labs.csv has 171 rows, one of an unknown LOINC (not relevant):
170 rows matter. Of them row 53 has no patient id (an empty key, not an unreadable time) and
row 38 writes its time `unknown`, so rewriting every time gives 169 unread times, 168 of them
in the new shape: a stop counts those 168 (a word is no time written another way), a warning
all 169. medications.csv has 33 rows, 3 of drugs not listed: 30 matter; two write an end_time
(rows 21 and 28). diagnoses.csv has 14 rows, fewer than the 20 a stop judges.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sample_delivery import SAMPLE, screen

EXCEL_EPOCH = pd.Timestamp("1899-12-30")
UNIX_EPOCH = pd.Timestamp("1970-01-01")
HOME_DRUGS = ["Furosemide 40 mg", "Sertraline 50 mg", "Hydrochlorothiazide 25 mg"]


def excel_serial(time: pd.Timestamp) -> str:
    """As a spreadsheet shows a date-time cell saved as General: 7 decimals, no trailing 0."""
    return f"{(time - EXCEL_EPOCH) / pd.Timedelta(days=1):.7f}".rstrip("0").rstrip(".")


def epoch_seconds(time: pd.Timestamp) -> str:
    return str(int((time - UNIX_EPOCH).total_seconds()))


def rewritten(
    tmp_path: Path, table: str, column: str, write: Callable[[pd.Timestamp], str]
) -> Path:
    """The sample with every ISO time of `table.column` written by `write` (others kept)."""
    folder = tmp_path / "delivery"
    shutil.copytree(SAMPLE, folder)
    frame = pd.read_csv(folder / f"{table}.csv", dtype=str, keep_default_na=False)
    times = pd.to_datetime(frame[column], format="ISO8601", errors="coerce")
    frame.loc[times.notna(), column] = [write(t) for t in times[times.notna()]]
    frame.to_csv(folder / f"{table}.csv", index=False)
    return folder


def with_home_medications(
    tmp_path: Path, patients: list[str], starts: str | list[str], **columns: str
) -> Path:
    """The sample with a home medication of a listed drug (furosemide, sertraline,
    hydrochlorothiazide in turn) for each of `patients` added to medications.csv, each started
    at `starts` (one text for all, or one each), with `columns` besides."""
    folder = tmp_path / "delivery"
    shutil.copytree(SAMPLE, folder)
    frame = pd.read_csv(folder / "medications.csv", dtype=str, keep_default_na=False)
    home = pd.DataFrame(
        {
            "patient_id": patients,
            "drug_name": [HOME_DRUGS[n % 3] for n in range(len(patients))],
            "start_time": starts,
            "status": "active",
            **columns,
        }
    )
    pd.concat([frame, home]).fillna("").to_csv(folder / "medications.csv", index=False)
    return folder


def assert_stopped(
    status: int, night: Path, err: str, start: str, shape: str, examples: str
) -> None:
    assert status == 3, err
    assert start in err and shape in err and examples in err, err
    assert not (night / "review_list.csv").exists()
    assert json.loads((night / "FAILED.json").read_text())["error_type"] == "InputError"
    # no value: no patient id, not the first row's time as written (06:10 on 2026-11-20)
    assert "P001" not in err and ".2569444" not in err and "1795155000" not in err


@pytest.mark.parametrize(
    ("write", "shape"),
    [
        (excel_serial, "168 look like Excel serial day numbers"),
        (epoch_seconds, "168 look like Unix epoch seconds"),
        (lambda t: t.strftime("%d/%m/%Y %H:%M"), "168 look like day-first dates"),
        (lambda t: t.strftime("%m/%d/%Y %H:%M"), "168 look like month-first dates"),
    ],
    ids=["excel_serial", "epoch_seconds", "day_first", "month_first"],
)
def test_collection_times_in_another_encoding_stop_the_night_saying_what_they_look_like(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    write: Callable[[pd.Timestamp], str],
    shape: str,
) -> None:
    status, night = screen(rewritten(tmp_path, "labs", "specimen_time", write))
    err = capsys.readouterr().err
    start = "labs.csv (labs): 168 of 170 row(s) (99%) have a specimen_time that does not read"
    examples = "Examples: labs.csv:2; labs.csv:3; labs.csv:4; labs.csv:5; labs.csv:6."
    assert_stopped(status, night, err, start, shape, examples)


def test_an_excel_serial_column_stops_a_partitioned_run_alike(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = rewritten(tmp_path, "labs", "specimen_time", excel_serial)
    status, night = screen(folder, "--partitions", "3")
    err = capsys.readouterr().err
    start = "labs.csv (labs): 168 of 170 row(s) (99%) have a specimen_time that does not read"
    assert_stopped(status, night, err, start, "Excel serial", "Examples: labs.csv:2;")


def test_a_parquet_int64_epoch_column_is_not_read_as_times_and_stops_the_night(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # epoch milliseconds in INT64 without a timestamp type; row 38's `unknown` becomes null
    folder = tmp_path / "delivery"
    shutil.copytree(SAMPLE, folder)
    frame = pd.read_csv(folder / "labs.csv", dtype=str, keep_default_na=False)
    times = pd.to_datetime(frame["specimen_time"], format="ISO8601", errors="coerce")
    millis = [None if pd.isna(t) else int((t - UNIX_EPOCH).total_seconds()) * 1000 for t in times]
    table = pa.Table.from_pandas(frame, preserve_index=False)
    at = table.schema.get_field_index("specimen_time")
    table = table.set_column(at, "specimen_time", pa.array(millis, pa.int64()))
    (folder / "labs.csv").unlink()
    pq.write_table(table, folder / "labs.parquet")
    status, night = screen(folder)
    err = capsys.readouterr().err
    start = "labs.parquet (labs): 168 of 170 row(s) (99%) have a specimen_time that does not read"
    shape = "168 look like Unix epoch milliseconds"
    assert_stopped(status, night, err, start, shape, "Examples: labs.parquet:1; labs.parquet:2;")


@pytest.mark.parametrize(
    ("number", "shape"),
    [
        (lambda t: (t - EXCEL_EPOCH) / pd.Timedelta(days=1), "168 look like Excel serial day"),
        (lambda t: (t - UNIX_EPOCH).total_seconds(), "168 look like Unix epoch seconds"),
    ],
    ids=["excel_serial", "epoch_seconds"],
)
def test_a_parquet_float64_time_column_is_told_by_its_shape(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    number: Callable[[pd.Timestamp], float],
    shape: str,
) -> None:
    # numbers in a DOUBLE column (pandas writes an integer column with a gap as float64, a
    # spreadsheet read without its date format gives serial days): the original holds JSON
    # numbers (46346.256944444445, 1795155000.0), told by their shape like the same text;
    # row 38's `unknown` becomes NaN, written as null: an empty time
    folder = tmp_path / "delivery"
    shutil.copytree(SAMPLE, folder)
    frame = pd.read_csv(folder / "labs.csv", dtype=str, keep_default_na=False)
    times = pd.to_datetime(frame["specimen_time"], format="ISO8601", errors="coerce")
    frame["specimen_time"] = [float("nan") if pd.isna(t) else number(t) for t in times]
    (folder / "labs.csv").unlink()
    frame.to_parquet(folder / "labs.parquet", index=False)  # as pandas writes it: NaN is null
    status, night = screen(folder)
    err = capsys.readouterr().err
    start = "labs.parquet (labs): 168 of 170 row(s) (99%) have a specimen_time that does not read"
    assert_stopped(status, night, err, start, shape, "Examples: labs.parquet:1; labs.parquet:2;")
    assert "A date format the site mapping does not declare" not in err
    assert "46346.2569" not in err and "1795155000" not in err


def test_medication_starts_as_epoch_seconds_stop_the_night(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, night = screen(rewritten(tmp_path, "medications", "start_time", epoch_seconds))
    err = capsys.readouterr().err
    start = "medications.csv (medications): 30 of 30 row(s) (100%) have a start_time"
    shape = "30 look like Unix epoch seconds"
    assert_stopped(status, night, err, start, shape, "Examples: medications.csv:2;")


def test_medication_ends_as_excel_serials_warn_rather_than_pass_as_a_quiet_night(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the two end_times (rows 21, 28) no longer read: both drugs are quarantined bad_time, so
    # their risk factors are lost; 2 of the 30 rows that matter (7 %) is above the 5 % limit
    status, night = screen(rewritten(tmp_path, "medications", "end_time", excel_serial))
    err = capsys.readouterr().err
    assert status == 4, err
    manifest = json.loads((night / "run_manifest.json").read_text())
    (warning,) = [w for w in manifest["warnings"] if w["code"] == "unreadable_times"]
    assert warning["message"].startswith(
        "2 of 30 medications row(s) (7%) have an end_time that does not read (e.g. "
        "medications.csv:21, medications.csv:28; limit 5%): they are quarantined bad_time. "
        "Of them, 2 look like Excel serial day numbers"
    )
    assert "P023" not in warning["message"] and "46338" not in warning["message"]


def test_diagnosis_dates_as_excel_serials_warn_with_their_shape_on_too_few_rows_to_stop(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = rewritten(
        tmp_path, "diagnoses", "recorded_time", lambda t: str((t - EXCEL_EPOCH).days)
    )
    status, night = screen(folder)
    err = capsys.readouterr().err
    assert status == 4, err
    assert (night / "review_list.csv").exists()
    assert (
        "14 of 14 diagnoses row(s) (100%) have a recorded_time that does not read" in err
        and "Of them, 14 look like Excel serial day numbers" in err
        and "no datetime_formats entry reads them" in err
    ), err


@pytest.mark.parametrize(
    ("table", "column", "start"),
    [
        ("labs", "specimen_time", "labs.csv (labs): the specimen_time is empty in all 170 row(s)"),
        (
            "medications",
            "start_time",
            "medications.csv (medications): the start_time is empty in all 30 row(s)",
        ),
    ],
)
def test_a_key_time_column_empty_in_every_row_stops_the_night(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], table: str, column: str, start: str
) -> None:
    # every row's time empty (row 38's `unknown` too): nothing of the table can be placed
    folder = tmp_path / "delivery"
    shutil.copytree(SAMPLE, folder)
    frame = pd.read_csv(folder / f"{table}.csv", dtype=str, keep_default_na=False)
    frame[column] = ""
    frame.to_csv(folder / f"{table}.csv", index=False)
    status, night = screen(folder)
    err = capsys.readouterr().err
    assert_stopped(status, night, err, start, "cannot be screened", f"Examples: {table}.csv:2;")


@pytest.mark.parametrize("word", ["UNKNOWN", "N/A", "PRN", "-", "0000-00-00 00:00:00", "0"])
def test_home_medications_whose_start_is_a_word_warn_without_stopping_the_night(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], word: str
) -> None:
    # 60 listed drugs (furosemide, sertraline, hydrochlorothiazide) of a medication list whose
    # start the export writes as a word or zeros (MySQL's zero date): 93 rows, 3 of drugs not
    # listed, 90 matter; the 60 words are no times written another way, so the night is
    # screened (the sample's 35 cases listed) and warns that 60 of 93 rows (65 %, over half)
    # have no start, as blank starts do
    patients = [f"P{n % 40 + 1:03d}" for n in range(60)]
    status, night = screen(with_home_medications(tmp_path, patients, word, route="oral"))
    err = capsys.readouterr().err
    assert status == 4, err
    assert len(pd.read_csv(night / "review_list.csv")) == 35
    manifest = json.loads((night / "run_manifest.json").read_text())
    (warning,) = manifest["warnings"]
    assert warning["code"] == "missing_keys"
    assert warning["message"] == (
        "60 of 93 medications row(s) (65%) have an empty key (patient_id, start_time; e.g. "
        "medications.csv:35, medications.csv:36, medications.csv:37; limit 50%): they are "
        "quarantined missing_key. Of them, 60 have the start_time written as a word or zeros "
        "(such as unknown or a zero date), no time: the export left it blank in another way. "
        "See quarantine.csv."
    )
    # no date format reads a word, and no column is read from the wrong place: not asked


@pytest.mark.parametrize("word", ["", "UNKNOWN", "0000-00-00 00:00:00"])
def test_a_few_home_medications_without_a_start_are_quiet_however_the_export_leaves_it_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], word: str
) -> None:
    # 9 home medications of listed drugs whose start nobody knows (42 rows, 39 matter: 23 %),
    # left blank, written as a word or as MySQL's zero date: the same rows, quarantined
    # missing_key and only that (as rules.yaml max_missing_key_share says of empty keys: common
    # in real records), where a word or a zero date warned every night as an unreadable time
    patients = [f"P{n + 45:03d}" for n in range(9)]
    status, night = screen(with_home_medications(tmp_path, patients, word))
    err = capsys.readouterr().err
    manifest = json.loads((night / "run_manifest.json").read_text())
    medications = manifest["reconciliation"]["medications"]
    assert medications["reasons"]["quarantined"]["missing_key"] == 9
    assert manifest["warnings"] == []
    assert status == 0, err
    assert len(pd.read_csv(night / "review_list.csv")) == 35


@pytest.mark.parametrize("word", ["UNKNOWN", "0000-00-00 00:00:00"])
def test_medication_starts_left_out_blank_and_as_words_count_together_to_the_missing_keys_share(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], word: str
) -> None:
    # 20 home medications whose start is blank and 20 whose start is a word or a zero date: 73
    # rows, each kind 27 % (under the 50 % of max_missing_key_share), together 40 of 73 (55 %)
    # with no start. A word is no time, as a blank is none: they are judged together, where
    # neither half warned alone and the night was quiet
    patients = [f"P{n % 40 + 1:03d}" for n in range(40)]
    status, night = screen(with_home_medications(tmp_path, patients, [""] * 20 + [word] * 20))
    err = capsys.readouterr().err
    assert status == 4, err
    assert len(pd.read_csv(night / "review_list.csv")) == 35
    manifest = json.loads((night / "run_manifest.json").read_text())
    assert manifest["reconciliation"]["medications"]["reasons"]["quarantined"]["missing_key"] == 40
    (warning,) = manifest["warnings"]
    assert warning["code"] == "missing_keys"
    assert warning["message"].startswith(
        "40 of 73 medications row(s) (55%) have an empty key (patient_id, start_time; e.g. "
        "medications.csv:35, medications.csv:36, medications.csv:37; limit 50%): they are "
        "quarantined missing_key. Of them, 20 have the start_time written as a word or zeros "
        "(such as unknown or a zero date), no time: the export left it blank in another way. "
        "The other 20: a column the site mapping reads from the wrong place, or one the export "
        "left empty? See quarantine.csv."
    ), warning["message"]
    assert "P001" not in warning["message"] and word not in warning["message"]


def test_medication_starts_of_words_and_serials_are_told_each_with_what_fits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # of the 30 medication rows that matter, rows 2-4 write their start `unknown` and rows 5-7
    # as Excel serials: 6 (20 %) do not read, a warning (under the half that stops)
    folder = tmp_path / "delivery"
    shutil.copytree(SAMPLE, folder)
    frame = pd.read_csv(folder / "medications.csv", dtype=str, keep_default_na=False)
    frame.loc[0:2, "start_time"] = "unknown"
    starts = pd.to_datetime(frame.loc[3:5, "start_time"], format="ISO8601")
    frame.loc[3:5, "start_time"] = [excel_serial(t) for t in starts]
    frame.to_csv(folder / "medications.csv", index=False)
    status, night = screen(folder)
    err = capsys.readouterr().err
    assert status == 4, err
    manifest = json.loads((night / "run_manifest.json").read_text())
    (warning,) = [w for w in manifest["warnings"] if w["code"] == "unreadable_times"]
    message = warning["message"]
    assert "6 of 30 medications row(s) (20%) have a start_time that does not read" in message
    assert (
        "Of them, 3 look like Excel serial day numbers (days since 1899-12-30, as a spreadsheet "
        "keeps a date or date-time: 46346.25 is 2026-11-20 06:00); 3 are written as words, not "
        "times ("
    ) in message
    assert "Numbers are never read as times" in message
    assert "The words are no times: the export left them blank in another way" in message
    assert "A date format the site mapping does not declare" not in message


def test_a_key_time_column_of_words_in_every_row_stops_as_an_empty_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # every start of the 30 medication rows that matter is `N/A`: the column holds no time
    folder = tmp_path / "delivery"
    shutil.copytree(SAMPLE, folder)
    frame = pd.read_csv(folder / "medications.csv", dtype=str, keep_default_na=False)
    frame["start_time"] = "N/A"
    frame.to_csv(folder / "medications.csv", index=False)
    status, night = screen(folder)
    err = capsys.readouterr().err
    start = "medications.csv (medications): the start_time is empty in all 30 row(s) that matter"
    assert_stopped(status, night, err, start, "(or a word without a time", "medications.csv:2;")
