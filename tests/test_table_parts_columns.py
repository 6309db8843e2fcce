"""The parts of one table carrying other columns (two exports of different queries in one
folder): a part without `status` read every one of its rows as having no status, so P017's
entered-in-error sodium of 119 mmol/L (sample labs.csv line 49) was screened as a result. The
night now stops (exit 3) naming both parts and the column; parts alike still screen as the
sample."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from hyposcreen.cli import main
from sample_delivery import DAY, SAMPLE, assert_screens_as_the_sample

SPLIT = 40  # rows in the first part: P017's entered-in-error row (row 48) is in the second


def _two_parts(tmp_path: Path, second_drops: list[str]) -> Path:
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    labs = pd.read_csv(folder / "labs.csv", dtype=str, keep_default_na=False)
    assert labs.iloc[47]["status"] == "entered-in-error"
    (folder / "labs.csv").unlink()
    (folder / "labs").mkdir()
    labs.iloc[:SPLIT].to_csv(folder / "labs" / "part1.csv", index=False)
    labs.iloc[SPLIT:].drop(columns=second_drops).to_csv(folder / "labs" / "part2.csv", index=False)
    return folder


def test_a_part_without_the_status_column_stops_the_night(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _two_parts(tmp_path, ["status"])
    out = tmp_path / "out"
    argv = ["run", "--no-flow", "--input", str(folder), "--out", str(out)]
    status = main([*argv, "--window-start", DAY])
    err = capsys.readouterr().err
    assert status == 3
    part1, part2 = folder / "labs" / "part1.csv", folder / "labs" / "part2.csv"
    assert f"{part2} (labs) does not carry the columns of {part1}: it lacks status." in err
    assert "Traceback" not in err


def test_parts_with_the_same_columns_screen_as_the_sample(tmp_path: Path) -> None:
    assert_screens_as_the_sample(_two_parts(tmp_path, []), tmp_path, same_quarantine_file=False)
