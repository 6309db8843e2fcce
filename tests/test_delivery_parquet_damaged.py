"""A Parquet extract cut short (an interrupted transfer keeps its first half, without the
footer) or empty (zero bytes) stops the night with exit 3 naming the file, as a damaged CSV
does, instead of an internal error (exit 70) from the in-memory size estimate that reads every
Parquet footer before the tables are read."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hyposcreen.cli import main

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"
DAY = "2026-11-20"


def _parquet_bytes() -> bytes:
    labs = pd.read_csv(SAMPLE / "labs.csv", dtype=str, keep_default_na=False)
    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pandas(labs, preserve_index=False), sink)
    return sink.getvalue().to_pybytes()


@pytest.mark.parametrize("damage", ["first_half", "zero_bytes"])
@pytest.mark.parametrize("where", ["labs.parquet", "labs/part-1.parquet"])
def test_a_damaged_parquet_file_stops_the_night_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: str, where: str
) -> None:
    folder = tmp_path / "delivery"
    shutil.copytree(SAMPLE, folder)
    (folder / "labs.csv").unlink()
    whole = _parquet_bytes()
    if where.startswith("labs/"):
        (folder / "labs").mkdir()
        (folder / "labs" / "part-0.parquet").write_bytes(whole)
    (folder / where).write_bytes(whole[: len(whole) // 2] if damage == "first_half" else b"")
    out = tmp_path / "out"
    status = main(
        ["run", "--no-flow", "--input", str(folder), "--out", str(out), "--window-start", DAY]
    )
    err = capsys.readouterr().err
    assert status == 3, err
    assert str(folder / where) in err and "Parquet" in err
    assert "Traceback" not in err and "internal error" not in err
    assert not (out / DAY / "review_list.csv").exists()


@pytest.mark.parametrize("typed_times", [False, True], ids=["text-times", "typed-times"])
def test_a_parquet_file_with_a_damaged_data_page_stops_the_night_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], typed_times: bool
) -> None:
    """The footer is whole, a data page is not: read batch by batch (typed times take the
    reader that skips row groups outside the window by their statistics)."""
    labs = pd.read_csv(SAMPLE / "labs.csv", dtype=str, keep_default_na=False)
    if typed_times:
        labs["specimen_time"] = pd.to_datetime(labs["specimen_time"], errors="coerce")
    folder = tmp_path / "delivery"
    shutil.copytree(SAMPLE, folder)
    (folder / "labs.csv").unlink()
    path = folder / "labs.parquet"
    pq.write_table(pa.Table.from_pandas(labs, preserve_index=False), path)
    column = pq.ParquetFile(path).metadata.row_group(0).column(0)  # patient_id: always read
    damaged = bytearray(path.read_bytes())
    start = column.data_page_offset + 8
    damaged[start : start + 64] = bytes(b ^ 0x5A for b in damaged[start : start + 64])
    path.write_bytes(bytes(damaged))
    out = tmp_path / "out"
    status = main(
        ["run", "--no-flow", "--input", str(folder), "--out", str(out), "--window-start", DAY]
    )
    err = capsys.readouterr().err
    assert status == 3, err
    assert str(path) in err and "Parquet" in err
    assert "internal error" not in err and "Traceback" not in err
