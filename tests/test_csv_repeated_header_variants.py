"""Repeated header lines as concatenation really writes them: each part's own byte-order mark
before its header (`cat` of two "CSV UTF-8" exports from Excel), or the header of a part
exported by another tool in other case (`PATIENT_ID`). Read as rows, they were labs with the
LOINC `loinc` (dropped as unknown, unreported). They are quarantined `repeated_header` with
their lines; a part with its columns in another order is still refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from csv_lab_rows import HEADER, read, row
from hyposcreen.errors import InputError

BOM = "\ufeff"


@pytest.mark.parametrize(
    "again",
    [
        BOM + HEADER,  # each part starts with its byte-order mark
        HEADER.upper(),
        BOM + HEADER.title(),
        BOM + ",".join(f'"{name}"' for name in HEADER.split(",")),  # quoted after the mark
    ],
)
def test_a_repeated_header_with_its_own_mark_or_in_other_case_is_set_aside(
    tmp_path: Path, again: str
) -> None:
    assert read(tmp_path, [BOM + HEADER, row("S2"), again, row("S4")]) == [
        ["S2", "2", None],
        ["S4", "4", None],
        [None, "3", "repeated_header"],
    ]


def test_a_marked_header_in_another_column_order_is_still_refused(tmp_path: Path) -> None:
    reordered = ",".join(reversed(HEADER.upper().split(",")))
    with pytest.raises(InputError, match=r"labs\.csv:3: the header line comes back"):
        read(tmp_path, [HEADER, row("S2"), BOM + reordered, row("S4")])
