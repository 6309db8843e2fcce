"""A MIMIC-IV or OMOP table whose header names a column it reads twice, in any letter case
(`charttime` and `CHARTTIME`: an export joining a second table's time under the same name),
stops the night (exit 3) naming the file and the column, as a canonical table's does. Before,
the reader matched names in any letter case and took the last of them: labevents' storetime,
written `CHARTTIME` after its `charttime`, became every result's specimen time, 5 to 50
minutes late (each listed case's index time too), and the night passed as clean (exit 0)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hyposcreen.cli import main

MIMIC = Path(__file__).resolve().parent / "data" / "mimic"


def test_a_column_named_twice_in_labevents_stops_the_night(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = shutil.copytree(MIMIC, tmp_path / "mimic")
    labevents = root / "hosp" / "labevents.csv"
    header, rest = labevents.read_text().split("\n", 1)
    assert ",charttime,storetime," in header
    labevents.write_text(header.replace(",storetime,", ",CHARTTIME,") + "\n" + rest)
    status = main(
        ["run", "--no-flow", "--source", "mimic", "--input", str(root), "--out",
         str(tmp_path / "out"), "--window-start", "2150-03-10"]
    )  # fmt: skip
    error = capsys.readouterr().err
    assert status == 3, error
    assert "hosp/labevents.csv (labevents) has the column(s) charttime more than once" in error
    assert not (tmp_path / "out" / "2150-03-10" / "review_list.csv").exists()
