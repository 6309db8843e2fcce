"""`file:row` references must point at the row they name. A CSV row the parser cannot split
(a short line, a pasted note) is quarantined `malformed_row`; the rows after it were numbered
by the rows the parser kept, so each of their quarantine references was one row too early (it
named the row before), and the malformed row itself carried no row number at all (the parser,
with `newlines_in_values`, gives none). ingest/recordscan now finds each record's line by a
scan of the file's bytes (tests/test_csv_line_numbers.py for the other layouts)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from hyposcreen.cli import main

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"
DAY = "2026-11-20"
BROKEN_LINE = 10  # a one-field line inserted here (the header is line 1)


def test_quarantine_rows_name_their_own_line_after_a_malformed_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "delivery"
    shutil.copytree(SAMPLE, folder)
    lines = (folder / "labs.csv").read_text(encoding="utf-8").splitlines()
    lines.insert(BROKEN_LINE - 1, "see attached note")
    (folder / "labs.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    status = main(
        ["run", "--no-flow", "--input", str(folder), "--out", str(out), "--window-start", DAY]
    )
    assert status in (0, 4), capsys.readouterr().err
    quarantine = pd.read_csv(out / DAY / "quarantine.csv", dtype=str, keep_default_na=False)
    labs = quarantine[quarantine["table"] == "labs"]
    for _, row in labs[labs["reason"] != "malformed_row"].iterrows():
        original = json.loads(row["original"])
        named_line = lines[int(row["source_row"]) - 1]  # the line the reference names
        assert original["specimen_id"] in named_line.split(","), (row["source_row"], named_line)
    assert labs.loc[labs["reason"] == "malformed_row", "source_row"].tolist() == [str(BROKEN_LINE)]
