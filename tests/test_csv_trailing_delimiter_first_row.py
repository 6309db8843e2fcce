"""An export that ends every data line with the delimiter is read with one column name more;
whether it does was judged on the first data row alone. A first row that is a note line, or
one with a value after its last column, made every row of the file malformed_row (the night
screened none of them). The field count of most of the first records decides it now."""

from __future__ import annotations

from pathlib import Path

import pytest

from csv_lab_rows import HEADER, read, row


@pytest.mark.parametrize(
    ("header", "first", "end"),
    [
        (HEADER, "see note,", ","),  # data lines end with the delimiter; a note line first
        (HEADER, row("S2") + ",x", ","),  # a value after the last column in the first row
        (HEADER + ",", "see note", ""),  # only the header line ends with the delimiter
    ],
)
def test_an_odd_first_row_does_not_make_every_row_malformed(
    tmp_path: Path, header: str, first: str, end: str
) -> None:
    lines = [header, first, row("S3") + end, row("S4") + end, row("S5") + end]
    assert read(tmp_path, lines) == [
        ["S3", "3", None],
        ["S4", "4", None],
        ["S5", "5", None],
        [None, "2", "malformed_row"],
    ]
