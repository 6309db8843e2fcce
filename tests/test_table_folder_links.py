"""A table's parts as Spark writes them and as a data team links them into an extract folder.

Spark's `write.parquet("labs.parquet")` leaves a folder named `labs.parquet/` holding its parts
(and `_SUCCESS`): it is read as the table's folder, where the night stopped saying it had "no
labs table" while naming labs.parquet among the names it looked for. A table file or part that
is a symbolic link to nothing (its target on an unmounted share, or a loop) was skipped without a
word (its rows never counted, exit 0) or reported as a missing table; a link to a folder inside
a table's folder is not followed, so its parts went unread. Each now stops the night (exit 3)
naming the link; a table folder that is itself a link is read as before."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hyposcreen.cli import main
from sample_delivery import DAY, SAMPLE, assert_screens_as_the_sample

SPLIT = 120  # the sample's lab rows split into two parts after this many rows


def _spark_folder(folder: Path, name: str) -> Path:
    """The sample with its labs as Spark writes them into `name`/ (two parts, _SUCCESS and
    hidden checksum files); the folder of parts."""
    shutil.copytree(SAMPLE, folder)
    labs = pd.read_csv(folder / "labs.csv", dtype=str, keep_default_na=False)
    (folder / "labs.csv").unlink()
    parts = folder / name
    parts.mkdir()
    for number, rows in enumerate([labs.iloc[:SPLIT], labs.iloc[SPLIT:]]):
        part = parts / f"part-0000{number}-c0ffee.snappy.parquet"
        pq.write_table(pa.Table.from_pandas(rows, preserve_index=False), part)
        (parts / f".{part.name}.crc").write_bytes(b"crc")
    (parts / "_SUCCESS").write_bytes(b"")
    return parts


def _run(capsys: pytest.CaptureFixture[str], folder: Path) -> tuple[int, str]:
    out = folder.parent / "out"
    argv = ["run", "--no-flow", "--input", str(folder), "--out", str(out)]
    status = main([*argv, "--window-start", DAY])
    return status, capsys.readouterr().err


def test_a_folder_named_labs_parquet_is_the_labs_table(tmp_path: Path) -> None:
    folder = tmp_path / "delivery"
    _spark_folder(folder, "labs.parquet")
    assert_screens_as_the_sample(folder, tmp_path, same_quarantine_file=False)


def test_a_table_folder_that_is_a_link_is_read(tmp_path: Path) -> None:
    folder = tmp_path / "delivery"
    parts = _spark_folder(folder, "labs")
    parts.rename(tmp_path / "share")
    os.symlink(tmp_path / "share", folder / "labs")
    assert_screens_as_the_sample(folder, tmp_path, same_quarantine_file=False)


def test_labs_and_labs_parquet_folders_hold_the_table_twice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "delivery"
    parts = _spark_folder(folder, "labs.parquet")
    shutil.copytree(parts, folder / "labs")
    status, err = _run(capsys, folder)
    assert status == 3
    assert "holds the labs table twice (labs/, labs.parquet/)" in err


def test_a_part_linked_to_nothing_stops_the_night(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "delivery"
    parts = _spark_folder(folder, "labs")
    moved = parts / "part-00001-c0ffee.snappy.parquet"
    moved.rename(tmp_path / "share.parquet")
    os.symlink(tmp_path / "unmounted" / "share.parquet", moved)
    status, err = _run(capsys, folder)
    assert status == 3
    assert f"{moved} is a symbolic link that leads to no file" in err


@pytest.mark.parametrize("target", ["gone.csv", "labs.csv"])  # missing, or a loop
def test_a_table_file_linked_to_nothing_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], target: str
) -> None:
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    (folder / "labs.csv").unlink()
    os.symlink(target, folder / "labs.csv")
    status, err = _run(capsys, folder)
    assert status == 3
    assert f"{folder / 'labs.csv'} is a symbolic link that leads to no file" in err
    assert "has no labs table" not in err


def test_a_linked_folder_inside_a_table_folder_stops_the_night(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "delivery"
    parts = _spark_folder(folder, "labs")
    (tmp_path / "november").mkdir()
    moved = parts / "part-00001-c0ffee.snappy.parquet"
    moved.rename(tmp_path / "november" / moved.name)
    os.symlink(tmp_path / "november", parts / "month=11")
    status, err = _run(capsys, folder)
    assert status == 3
    assert f"{parts / 'month=11'} is a symbolic link to a folder, which is not followed" in err
