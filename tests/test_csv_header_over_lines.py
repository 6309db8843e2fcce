"""A header whose quoted column name holds a line break (a spreadsheet title typed with
Alt+Enter: `"Comment\\n(free text)"`). The header was read as its first line alone: the names
after the break were lost (a required column after it: the delivery refused as lacking it),
and the parser skipped one line only, so the name's second line was a malformed row with no
line. The header is read as one record over its lines, the parser skips them all, and the
rows keep their physical lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from hyposcreen.config import SiteMapping
from hyposcreen.ingest.canonical import SCHEMAS
from hyposcreen.ingest.tabular import read_table

COLUMNS = "patient_id,specimen_id,specimen_time,loinc,value_raw,unit"


def row(specimen: str, first: bool) -> str:
    values = f"P1,{specimen},2026-11-20T06:00:00,2951-2,128,mmol/L"
    return f"note,{values}" if first else f"{values},note"


@pytest.mark.parametrize("first", [True, False])
@pytest.mark.parametrize("end", ["\n", "\r\n"])
def test_a_header_over_two_lines_is_one_header(tmp_path: Path, first: bool, end: str) -> None:
    title = '"Comment\nfree text"'
    header = f"{title},{COLUMNS}" if first else f"{COLUMNS},{title}"
    lines = [header.replace("\n", end), row("S3", first), "one field only", row("S5", first)]
    (tmp_path / "labs.csv").write_bytes((end.join(lines) + end).encode())
    frame = read_table(tmp_path, SCHEMAS["labs"], SiteMapping()).frame
    rows = frame[["specimen_id", "source_row", "malformed_reason"]].astype(object)
    assert rows.where(rows.notna(), None).values.tolist() == [
        ["S3", "3", None],
        ["S5", "5", None],
        [None, "4", "malformed_row"],
    ]
