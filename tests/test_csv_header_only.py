"""A table with no rows exported as its header line alone, without a line end (many export
tools write none after the last line): the parser could not skip the header ("Could not skip
initial 1 rows") and the delivery was refused as not a readable CSV (exit 3). It is a table
of no rows, like the same header with a line end."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from hyposcreen.config import SiteMapping
from hyposcreen.ingest.canonical import SCHEMAS
from hyposcreen.ingest.tabular import read_table

HEADER = "patient_id,specimen_id,specimen_time,loinc,value_raw,unit,comment"


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("labs.csv", HEADER),
        ("labs.csv", HEADER + "\n"),
        ("labs.csv", "\ufeff" + HEADER),
        ("labs.csv", HEADER + ","),  # a trailing delimiter on the header line
        ("labs.csv.gz", HEADER),
    ],
)
def test_a_header_line_alone_is_a_table_of_no_rows(tmp_path: Path, name: str, text: str) -> None:
    data = text.encode()
    (tmp_path / name).write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    table = read_table(tmp_path, SCHEMAS["labs"], SiteMapping())
    assert table.rows_in == 0 and len(table.frame) == 0
    assert [record["rows"] for record in table.files] == [0]
