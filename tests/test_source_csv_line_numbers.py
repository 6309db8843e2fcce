"""The source layouts (OMOP, MIMIC) read their CSVs with the canonical reader's batches: their
rows are numbered by the physical line they start on too, after a blank line, a quoted value
over two lines and a line the parser cannot split (counted by hand below)."""

from __future__ import annotations

from pathlib import Path

from hyposcreen.adapters._files import SourceTable
from hyposcreen.config import SiteMapping


def test_source_rows_are_numbered_by_their_lines(tmp_path: Path) -> None:
    lines = [
        "person_id,measurement_id,value_source_value",  # line 1
        "1,10,128",  # 2
        "",  # 3
        '2,11,"see\nnote"',  # 4-5
        "see attached note",  # 6: cannot be split
        "3,12,130",  # 7
    ]
    path = tmp_path / "measurement.csv"
    path.write_text("\n".join(lines) + "\n")
    table = SourceTable("measurement", [path], SiteMapping())
    frames = list(table.batches(["person_id", "measurement_id", "value_source_value"]))
    rows = [r for f in frames for r in f[["measurement_id", "source_row"]].values.tolist()]
    assert rows == [["10", "2"], ["11", "4"], ["12", "7"]]
    assert [r["line"] for _, m in table.malformed for r in m.rows] == ["6"]
