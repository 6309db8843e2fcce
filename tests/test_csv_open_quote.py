"""A quote that opens a value in a CSV's last column and is never closed (`"Serum (see note`)
runs on to the end of the file: the parser reads every line after it into that one value and
keeps the record, whose field count is right. The rows after it vanished (exit 0, rows_in
short of the file's rows, the manifest "reconciled", patients missing from the review list).
The record scan ends inside a quoted value: the night stops (exit 3) naming `file:line` where
the value opens, never its text. A quote on line 5 is closed by the next quote in the file (a
malformed record over many lines): in a `.csv.gz` that message named no line; the scan's now."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest

from hyposcreen.cli import main

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"
DAY = "2026-11-20"


def _delivery(tmp_path: Path, line: int, gz: bool = False) -> Path:
    folder = tmp_path / "delivery"
    shutil.copytree(SAMPLE, folder)
    lines = (folder / "labs.csv").read_text(encoding="utf-8").splitlines()
    assert lines[line - 1].endswith(",Serum")
    lines[line - 1] = lines[line - 1].removesuffix("Serum") + '"Serum (see note'
    text = ("\n".join(lines) + "\n").encode()
    if gz:
        (folder / "labs.csv").unlink()
        (folder / "labs.csv.gz").write_bytes(gzip.compress(text))
    else:
        (folder / "labs.csv").write_bytes(text)
    return folder


@pytest.mark.parametrize(("line", "gz"), [(5, False), (5, True), (171, False), (171, True)])
def test_a_quote_left_open_in_the_last_column_stops_the_night_naming_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], line: int, gz: bool
) -> None:
    folder = _delivery(tmp_path, line, gz)
    out = tmp_path / "out"
    status = main(
        ["run", "--no-flow", "--input", str(folder), "--out", str(out), "--window-start", DAY]
    )
    err = capsys.readouterr().err
    name = "labs.csv.gz" if gz else "labs.csv"
    assert status == 3, err
    assert f"{folder / name}:{line}" in err and "quote" in err
    assert "see note" not in err and "P004" not in err and "Traceback" not in err
    assert not (out / DAY / "review_list.csv").exists()
