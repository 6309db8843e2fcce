"""A CSV saved for Excel may start with the line `sep=;` (Excel's delimiter hint). It is no
header: the night stops (exit 3) saying what the line is and what to do, rather than asking
whether the header line is missing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hyposcreen.cli import main
from sample_delivery import DAY, SAMPLE


@pytest.mark.parametrize("hint", ["sep=,\n", "sep=;\r\n", '\ufeff"sep=,"\n'])
def test_an_excel_delimiter_line_stops_the_night_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], hint: str
) -> None:
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    labs = folder / "labs.csv"
    labs.write_bytes(hint.encode("utf-8") + labs.read_bytes())
    argv = ["run", "--no-flow", "--input", str(folder), "--out", str(tmp_path / "out")]
    status = main([*argv, "--window-start", DAY])
    err = capsys.readouterr().err
    assert status == 3
    assert "labs.csv starts with Excel's delimiter line" in err
    assert "header line missing" not in err
