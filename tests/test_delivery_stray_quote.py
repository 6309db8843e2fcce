"""A stray double quote in a field (`"final (see note`) opens a quoted field that runs on over
the following lines until the next quote in the file: the rows in between are swallowed into
one malformed record. They used to vanish from the count (rows_in two short of the file's rows,
the manifest still "reconciled", exit 0, a case missing). Such a delivery stops the night (exit
3) naming the file and the line where the runaway field starts, without quoting it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hyposcreen.cli import main

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"
DAY = "2026-11-20"
STRAY_LINE = 3  # header = line 1


def test_a_stray_quote_that_swallows_rows_stops_the_night_naming_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "delivery"
    shutil.copytree(SAMPLE, folder)
    lines = (folder / "labs.csv").read_text(encoding="utf-8").splitlines()
    assert lines[STRAY_LINE - 1].count(",final,") == 1
    lines[STRAY_LINE - 1] = lines[STRAY_LINE - 1].replace(",final,", ',"final (see note,')
    (folder / "labs.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    status = main(
        ["run", "--no-flow", "--input", str(folder), "--out", str(out), "--window-start", DAY]
    )
    err = capsys.readouterr().err
    assert status == 3, err
    assert f"{folder / 'labs.csv'}:{STRAY_LINE}" in err and "quote" in err
    assert "see note" not in err and "P002" not in err and "Traceback" not in err
    assert not (out / DAY / "review_list.csv").exists()


def test_a_quoted_field_holding_line_breaks_still_reads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "delivery"
    shutil.copytree(SAMPLE, folder)
    lines = (folder / "labs.csv").read_text(encoding="utf-8").splitlines()
    lines[STRAY_LINE - 1] = lines[STRAY_LINE - 1].replace(",final,", ',"final\n(see note)",')
    (folder / "labs.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    status = main(
        ["run", "--no-flow", "--input", str(folder), "--out", str(out), "--window-start", DAY]
    )
    assert status in (0, 4), capsys.readouterr().err
