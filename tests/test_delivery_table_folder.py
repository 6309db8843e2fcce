"""A table delivered as a folder of parts (`labs/part1.csv`, `labs/part2.…`): every part is read,
or the night stops naming the part it cannot read. A part whose name ends in `.CSV`, `.txt`,
`.tsv` or `.csv.bz2` used to be skipped without a word (its rows never counted, the night
exit 0); Spark's and Hadoop's bookkeeping files (`_SUCCESS`, `.part1.csv.crc`) are no parts and
stay ignored. A lone `labs.CSV` is named in the error that says the table is missing."""

from __future__ import annotations

import bz2
import json
import os
import shutil
from pathlib import Path

import pytest

from hyposcreen.cli import main

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"
DAY = "2026-11-20"
SPLIT = 120  # the sample's labs split into two parts after this many lines (header included)


def _parts(tmp_path: Path, second_name: str, second: bytes | None = None) -> Path:
    folder = tmp_path / "delivery"
    shutil.copytree(SAMPLE, folder)
    lines = (folder / "labs.csv").read_text(encoding="utf-8").splitlines()
    (folder / "labs.csv").unlink()
    (folder / "labs").mkdir()
    (folder / "labs" / "part1.csv").write_text("\n".join(lines[:SPLIT]) + "\n")
    text = ("\n".join([lines[0], *lines[SPLIT:]]) + "\n").encode()
    (folder / "labs" / second_name).write_bytes(second if second is not None else text)
    return folder


def _run(capsys: pytest.CaptureFixture[str], folder: Path) -> tuple[int, str, Path]:
    out = folder.parent / "out"
    status = main(
        ["run", "--no-flow", "--input", str(folder), "--out", str(out), "--window-start", DAY]
    )
    return status, capsys.readouterr().err, out / DAY


@pytest.mark.parametrize("name", ["part2.CSV", "part2.txt", "part2.tsv", "part2.csv.bz2"])
def test_a_part_the_reader_cannot_read_stops_the_night_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    text = None
    if name.endswith(".bz2"):
        lines = (SAMPLE / "labs.csv").read_text(encoding="utf-8").splitlines()
        text = bz2.compress(("\n".join([lines[0], *lines[SPLIT:]]) + "\n").encode())
    folder = _parts(tmp_path, name, text)
    status, err, day_out = _run(capsys, folder)
    assert status == 3, err
    assert str(folder / "labs" / name) in err
    assert "Traceback" not in err
    assert not (day_out / "review_list.csv").exists()


def test_bookkeeping_files_beside_the_parts_are_ignored_and_every_row_counted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _parts(tmp_path, "part2.csv")
    (folder / "labs" / "_SUCCESS").write_bytes(b"")
    (folder / "labs" / ".part1.csv.crc").write_bytes(b"crc\x00\x01")
    status, err, day_out = _run(capsys, folder)
    assert status == 0, err
    manifest = json.loads((day_out / "run_manifest.json").read_text())
    assert manifest["reconciliation"]["labs"]["rows_in"] == 171  # the sample's rows, all


def test_a_lone_upper_case_suffix_is_named_in_the_missing_table_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "delivery"
    shutil.copytree(SAMPLE, folder)
    (folder / "labs.csv").rename(folder / "labs.CSV")
    status, err, _ = _run(capsys, folder)
    assert status == 3, err
    assert "labs.CSV" in err


def test_a_table_delivered_as_a_file_and_a_folder_is_refused_like_csv_and_gz(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An old `labs.csv` left beside a new `labs/` folder: reading both would mix two
    deliveries (and count the rows both hold twice); labs.csv beside labs.csv.gz is refused."""
    folder = _parts(tmp_path, "part2.csv")
    shutil.copy(SAMPLE / "labs.csv", folder / "labs.csv")
    status, err, day_out = _run(capsys, folder)
    assert status == 3, err
    assert "labs table twice" in err and "labs.csv" in err and "labs/" in err
    assert not (day_out / "review_list.csv").exists()


def test_parts_under_hidden_or_bookkeeping_folders_are_no_parts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A notebook's checkpoint copy and an unfinished Spark attempt beside the parts: as Spark
    and Arrow datasets do, nothing under a name starting with '.' or '_' is read (reading them
    would count the rows twice)."""
    folder = _parts(tmp_path, "part2.csv")
    labs = folder / "labs"
    for copy in (".ipynb_checkpoints/part1-checkpoint.csv", "_temporary/0/attempt_1/part2.csv"):
        (labs / copy).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(labs / "part1.csv", labs / copy)
    (labs / "_temporary" / "0" / "attempt_1" / "notes.txt").write_text("spark")
    status, err, day_out = _run(capsys, folder)
    assert status == 0, err
    manifest = json.loads((day_out / "run_manifest.json").read_text())
    assert manifest["reconciliation"]["labs"]["rows_in"] == 171  # the sample's rows, once
    read = json.dumps(manifest)
    assert "part1-checkpoint" not in read and "attempt_1" not in read


@pytest.mark.parametrize("where", ["medications.csv", "labs/part2.csv"])
def test_a_named_pipe_for_a_table_or_a_part_stops_the_night_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    """A named pipe where a table or a part belongs (an export tool streaming into it) was
    "no medications table", or a part skipped: it is named as no file (exit 3)."""
    folder = _parts(tmp_path, "part2.csv")
    pipe = folder / where
    pipe.unlink()
    os.mkfifo(pipe)
    status, err, day_out = _run(capsys, folder)
    assert status == 3, err
    assert f"{pipe} is not a file (a named pipe" in err
    assert not (day_out / "review_list.csv").exists()
