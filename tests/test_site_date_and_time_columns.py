"""A site extract that delivers the collection time as two columns, a date and a time of day
(`COLLECT_DATE`, `COLLECT_TIME`), as laboratory systems and SQL exports often do. The mapping
names both (`specimen_time: [COLLECT_DATE, COLLECT_TIME]`) and the delivery screens as the
sample does; before, only one column could be named, and the date alone put every result at
midnight."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hyposcreen.cli import main
from sample_delivery import DAY, SAMPLE, screen

MAPPING = "tables:\n  labs:\n    columns: {specimen_time: [COLLECT_DATE, COLLECT_TIME]}\n"


def _split(labs: pd.DataFrame, style: str) -> pd.DataFrame:
    """The sample's specimen_time as a date and a time column, written in `style`."""
    times = labs.pop("specimen_time")
    iso = times.str.match(r"^\d{4}-")  # the sample's "unknown" time stays in the date column
    day, clock = times.str.slice(0, 10), times.str.slice(11, 19)
    written = {
        "iso": (day, clock),
        "sql": (day + " 00:00:00.000", "1900-01-01 " + clock + ".0000000"),
        "digits": (day, times.str.slice(11, 13) + times.str.slice(14, 16)),
        "us": (_us_day(times) + " 12:00:00 AM", _us_clock(times)),
    }[style]
    labs["COLLECT_DATE"] = written[0].where(iso, times)
    labs["COLLECT_TIME"] = written[1].where(iso, "")
    return labs


def _us_day(times: pd.Series) -> pd.Series:
    """`11/20/2026`, as a US export writes the day (month first, no leading zeros)."""
    parsed = pd.to_datetime(times, errors="coerce")
    return (
        parsed.dt.month.astype("Int64").astype(str)
        + "/"
        + parsed.dt.day.astype("Int64").astype(str)
        + "/"
        + parsed.dt.year.astype("Int64").astype(str)
    )


def _us_clock(times: pd.Series) -> pd.Series:
    """`8:05 PM`: a 12-hour clock without a leading zero."""
    parsed = pd.to_datetime(times, errors="coerce")
    return parsed.dt.strftime("%I:%M %p").str.lstrip("0")


def _deliver(tmp_path: Path, style: str, parquet: bool = False) -> Path:
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    labs = _split(pd.read_csv(folder / "labs.csv", dtype=str, keep_default_na=False), style)
    if not parquet:
        labs.to_csv(folder / "labs.csv", index=False)
    else:  # typed columns: a Parquet date32 and time64
        table = pa.Table.from_pandas(labs, preserve_index=False)
        day = pd.to_datetime(labs["COLLECT_DATE"], errors="coerce").dt.date
        clock = pd.to_datetime(labs["COLLECT_TIME"], format="%H%M", errors="coerce").dt.time
        for name, values, kind in (
            ("COLLECT_DATE", day, pa.date32()),
            ("COLLECT_TIME", clock, pa.time64("us")),
        ):
            at = table.schema.get_field_index(name)
            table = table.set_column(at, name, pa.array(values, kind, from_pandas=True))
        pq.write_table(table, folder / "labs.parquet")
        (folder / "labs.csv").unlink()
    formats = '\ndatetime_formats: ["%m/%d/%Y %I:%M %p"]\n' if style == "us" else ""
    (tmp_path / "site.yaml").write_text(MAPPING + formats)
    return folder


def _outputs(night: Path, lines: bool = True) -> tuple[pd.DataFrame, list[tuple[str, ...]], dict]:
    """Review list (run_id aside), quarantined rows (table, reason and, for a CSV, line: a
    Parquet file numbers data rows, not lines) and the reconciliation."""
    review = pd.read_csv(night / "review_list.csv", dtype=str).drop(columns=["run_id"])
    quarantine = pd.read_csv(night / "quarantine.csv", dtype=str)
    keys = ["table", "reason", *(["source_row"] if lines else [])]
    rows = sorted(map(tuple, quarantine[keys].values.tolist()))
    counts = json.loads((night / "run_manifest.json").read_text())["reconciliation"]
    return review, rows, counts


def _assert_screens_as_the_sample(tmp_path: Path, folder: Path, parquet: bool) -> None:
    """The delivery in `folder`, run with tmp_path's site.yaml, lists what the sample lists."""
    out = tmp_path / "out"
    argv = ["run", "--no-flow", "--input", str(folder), "--out", str(out), "--window-start", DAY]
    assert main([*argv, "--mapping", str(tmp_path / "site.yaml")]) == 0
    _, want = screen(shutil.copytree(SAMPLE, tmp_path / "sample"))
    got, expected = _outputs(out / DAY, not parquet), _outputs(want, not parquet)
    pd.testing.assert_frame_equal(got[0], expected[0])
    assert got[1:] == expected[1:]


@pytest.mark.parametrize("style", ["iso", "sql", "digits", "us", "parquet"])
def test_a_date_and_a_time_column_are_read_as_one_time(tmp_path: Path, style: str) -> None:
    parquet = style == "parquet"
    folder = _deliver(tmp_path, "digits" if parquet else style, parquet)
    _assert_screens_as_the_sample(tmp_path, folder, parquet)


@pytest.mark.parametrize(
    "columns",
    ["{patient_id: [A, B]}", "{specimen_time: [A]}", "{specimen_time: [A, B, C]}"],
)
def test_a_list_of_columns_is_only_a_time_s_date_and_time(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], columns: str
) -> None:
    (tmp_path / "site.yaml").write_text(f"tables:\n  labs:\n    columns: {columns}\n")
    argv = ["run", "--no-flow", "--input", str(SAMPLE), "--out", str(tmp_path / "out")]
    status = main([*argv, "--window-start", DAY, "--mapping", str(tmp_path / "site.yaml")])
    err = capsys.readouterr().err
    assert status == 2
    assert "tables.labs: columns." in err and "[COLLECT_DATE, COLLECT_TIME]" in err


def test_a_missing_time_column_stops_the_night_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _deliver(tmp_path, "iso")
    labs = pd.read_csv(folder / "labs.csv", dtype=str).drop(columns=["COLLECT_TIME"])
    labs.to_csv(folder / "labs.csv", index=False)
    argv = ["run", "--no-flow", "--input", str(folder), "--out", str(tmp_path / "out")]
    status = main([*argv, "--window-start", DAY, "--mapping", str(tmp_path / "site.yaml")])
    err = capsys.readouterr().err
    assert status == 3
    assert "lacks required column(s) specimen_time" in err
    assert "COLLECT_DATE+COLLECT_TIME" in err


def test_one_date_column_serves_the_collection_and_the_result_time(tmp_path: Path) -> None:
    """`specimen_time: [DAY, TAKEN]` and `result_time: [DAY, REPORTED]`: the date column is
    read for both (it is not renamed), and each time is its own."""
    folder = _deliver(tmp_path, "iso")
    labs = pd.read_csv(folder / "labs.csv", dtype=str, keep_default_na=False)
    labs["REPORTED"] = labs.pop("result_time").str.slice(11, 19)
    labs.to_csv(folder / "labs.csv", index=False)
    (tmp_path / "site.yaml").write_text(
        "tables:\n  labs:\n    columns: {specimen_time: [COLLECT_DATE, COLLECT_TIME], "
        "result_time: [COLLECT_DATE, REPORTED]}\n"
    )
    out = tmp_path / "out"
    argv = ["run", "--no-flow", "--input", str(folder), "--out", str(out), "--window-start", DAY]
    assert main([*argv, "--mapping", str(tmp_path / "site.yaml")]) == 0
    _, want = screen(shutil.copytree(SAMPLE, tmp_path / "sample"))
    got, expected = _outputs(out / DAY), _outputs(want)
    pd.testing.assert_frame_equal(got[0], expected[0])
    assert got[1:] == expected[1:]


@pytest.mark.parametrize("parquet", [False, True])
def test_a_date_and_a_time_column_in_another_letter_case_are_read_as_one_time(
    tmp_path: Path, parquet: bool
) -> None:
    """An export that writes the names in lower case (`collect_date`, `collect_time`) under the
    mapping's COLLECT_DATE and COLLECT_TIME is read as its single columns are (the night
    stopped for lacking specimen_time)."""
    folder = _deliver(tmp_path, "iso" if not parquet else "digits", parquet)
    if parquet:
        table = pq.read_table(folder / "labs.parquet")
        lowered = [
            name.lower() if name.startswith("COLLECT_") else name for name in table.schema.names
        ]
        pq.write_table(table.rename_columns(lowered), folder / "labs.parquet")
    else:
        labs = pd.read_csv(folder / "labs.csv", dtype=str, keep_default_na=False)
        labs.rename(columns=str.lower).to_csv(folder / "labs.csv", index=False)
    _assert_screens_as_the_sample(tmp_path, folder, parquet)
