"""Header lines repeated inside a CSV: extracts joined by concatenating their files (`cat
part1.csv part2.csv > labs.csv`, a query tool appending each run's output) carry the header
again where each part starts. The parser reads such a line as a row of text: a lab whose LOINC
is `loinc` was dropped as an unknown analyte, not reported.

A row whose every read cell is the name of its own column is a repeated header (names
compared without case, surrounding spaces, quotes and the byte-order mark each concatenated
part starts with: a quoted name after the mark is text to the parser): it is set aside,
quarantined `repeated_header` with its line. A row whose read cells are all header
names but in other columns is the header of a part with another column order: the rows after
it would be read into the wrong columns, so the delivery is refused (InputError naming
`file:line`). Only the first read column is searched on every row (one Arrow set lookup per
batch); the others only on the rows it finds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hyposcreen.errors import InputError

REASON = "repeated_header"


_AROUND = '\ufeff"'  # a part's byte-order mark; quotes the parser read as text after it


def _cells(batch: pa.RecordBatch, name: str) -> pa.Array:
    """The column's cells as compared with the header's names (`_name`)."""
    bare = pc.utf8_trim(pc.utf8_trim_whitespace(batch.column(name)), characters=_AROUND)
    return pc.utf8_lower(pc.utf8_trim_whitespace(bare))


def _name(name: str) -> str:
    return name.strip().strip(_AROUND).strip().lower()


def repeated_headers(
    batch: pa.RecordBatch, read: list[str], header: list[str], lines: np.ndarray, path: Path
) -> np.ndarray | None:
    """Where `batch` holds repeated header lines (a bool array), None when it holds none;
    `read` are its columns of the file (named as in `header`), `lines` its rows' lines. An
    InputError when a header line comes back with its columns in another order."""
    if not read or batch.num_rows == 0:
        return None
    names = pa.array(sorted({_name(name) for name in header}), pa.string())
    found = pc.is_in(_cells(batch, read[0]), value_set=names)
    if not pc.any(found).as_py():
        return None
    rows = np.flatnonzero(found.to_numpy(zero_copy_only=False))
    candidates = batch.take(pa.array(rows))
    named = np.ones(len(rows), bool)  # every read cell is a header name
    in_place = np.ones(len(rows), bool)  # ... the name of its own column
    for column in read:
        cells = _cells(candidates, column)
        named &= pc.is_in(cells, value_set=names).to_numpy(zero_copy_only=False)
        in_place &= pc.fill_null(pc.equal(cells, _name(column)), False).to_numpy(
            zero_copy_only=False
        )
    moved = named & ~in_place
    if len(read) > 1 and moved.any():
        line = int(lines[rows[np.flatnonzero(moved)[0]]])
        raise InputError(
            f"{path}:{line}: the header line comes back here with its columns in another "
            "order: the file joins extracts of different layouts, and the rows after this line "
            "would be read into the wrong columns. Deliver each extract as its own file (e.g. "
            "as parts in a folder named for the table); nothing was screened.",
            file=str(path),
        )
    if not in_place.any():
        return None
    repeated = np.zeros(batch.num_rows, bool)
    repeated[rows[in_place]] = True
    return repeated
