"""Rows that hold only delimiters (`,,,,,,,,`), as a spreadsheet saves the formatted but empty
rows below its data: no record of any table. They were read as a lab without a name, a
medication without a drug (`unlisted_drug`) and a diagnosis without its keys (`missing_key`,
whose share then warned of a mis-mapped column, exit 4). They are now counted not relevant as
`empty_row` in every table (the reconciliation still adds up), and the night screens as the
sample does."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from sample_delivery import SAMPLE, screen

EMPTY_ROWS = 30


def test_delimiter_only_rows_are_empty_rows(tmp_path: Path) -> None:
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    for table in ("labs", "medications", "diagnoses"):
        path = folder / f"{table}.csv"
        text = path.read_text(encoding="utf-8")
        commas = text.splitlines()[0].count(",")
        path.write_text(text + ("," * commas + "\n") * EMPTY_ROWS, encoding="utf-8")
    status, night = screen(folder)
    expected_status, expected = screen(shutil.copytree(SAMPLE, tmp_path / "sample"))
    assert status == expected_status == 0
    assert (night / "review_list.csv").read_text().replace(
        json.loads((night / "run_manifest.json").read_text())["run_id"], "RUN"
    ) == (expected / "review_list.csv").read_text().replace(
        json.loads((expected / "run_manifest.json").read_text())["run_id"], "RUN"
    )
    got = json.loads((night / "run_manifest.json").read_text())["reconciliation"]
    want = json.loads((expected / "run_manifest.json").read_text())["reconciliation"]
    for table in ("labs", "medications", "diagnoses"):
        assert got[table]["rows_in"] == want[table]["rows_in"] + EMPTY_ROWS
        assert got[table]["not_relevant"] == want[table]["not_relevant"] + EMPTY_ROWS
        assert got[table]["reasons"]["not_relevant"]["empty_row"] == EMPTY_ROWS
        assert got[table]["quarantined"] == want[table]["quarantined"]
        assert got[table]["used"] == want[table]["used"]
        assert got[table]["reconciled"] is True
    assert (night / "quarantine.csv").read_bytes() == (expected / "quarantine.csv").read_bytes()
