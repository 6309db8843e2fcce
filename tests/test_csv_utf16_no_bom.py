"""UTF-16 without a byte-order mark: SQL Server's `bcp -w` and `sqlcmd -u` write UTF-16 LE with
none. Without a mapping, the file was refused as "binary bytes" (exit 3); with the mapping's
`encoding: utf-16` (no byte order named), Python's decoder raised "UTF-16 stream does not start
with BOM" out of the reader: a traceback, exit 70. The byte order is read off the zero bytes of
the first characters (an ASCII header), so both read as the UTF-8 text, line for line."""

from __future__ import annotations

from pathlib import Path

import pytest

from hyposcreen.config import SiteMapping
from hyposcreen.ingest.canonical import SCHEMAS
from hyposcreen.ingest.tabular import read_table

HEADER = "patient_id,specimen_id,specimen_time,loinc,value_raw,unit,comment"
TEXT = (
    "\n".join(
        [
            HEADER,
            "P1,S2,2026-11-20T06:00:00,2951-2,128,mmol/L,Natrium née",
            "one field only",  # line 3: malformed_row
            HEADER,  # line 4: repeated_header
            "P1,S5,2026-11-20T07:00:00,2951-2,127,mmol/L,",
        ]
    )
    + "\n"
)
WANT = [
    ["S2", "2", None],
    ["S5", "5", None],
    [None, "3", "malformed_row"],
    [None, "4", "repeated_header"],
]


@pytest.mark.parametrize(
    ("written", "mapping_encoding"),
    [
        ("utf-16-le", "utf-8"),  # no mapping: the default encoding
        ("utf-16-be", "utf-8"),
        ("utf-16-le", "utf-16"),
        ("utf-16-be", "utf-16"),
        ("utf-32-le", "utf-8"),
        ("utf-32-be", "utf-32"),
    ],
)
def test_utf16_and_utf32_without_a_byte_order_mark_read_line_for_line(
    tmp_path: Path, written: str, mapping_encoding: str
) -> None:
    (tmp_path / "labs.csv").write_bytes(TEXT.encode(written))
    frame = read_table(tmp_path, SCHEMAS["labs"], SiteMapping(encoding=mapping_encoding)).frame
    rows = frame[["specimen_id", "source_row", "malformed_reason"]].astype(object)
    assert rows.where(rows.notna(), None).values.tolist() == WANT
