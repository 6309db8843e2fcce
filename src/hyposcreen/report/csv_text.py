"""CSV files built a column at a time in Arrow: the bytes `DataFrame.to_csv(index=False,
lineterminator="\\n")` writes, without pandas' row-by-row writer.

pandas hands each row to Python's csv module (minimal quoting): a field holding a comma, a
double quote or a line feed is quoted, its quotes doubled; a missing value is written empty;
a row of one empty field is written `""`. Here each column becomes its text (Arrow text as it
is, Python strings, integers and booleans as `str()` prints them), quoted where needed, and a
slice of rows is joined at once. A frame holding anything else (floats, times, other
objects) is left to pandas (`csv_chunks` returns None).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hyposcreen.arrow_columns import arrow_text, holds_arrow_text

ROWS_PER_SLICE = 65_536  # rows joined at a time (bounds the text held at once)
FIELDS_AT_ONCE = 65_536  # fewer fields than this are tested for quotes in one pass
_TEXT = pa.large_string()
_NEEDS_QUOTES = '[,"\n]'


def _scalar(text: str) -> pa.Scalar:
    return pa.scalar(text, _TEXT)


def _column_text(values: pd.Series) -> pa.Array | None:
    """The column's fields as pandas writes them ('' for missing), or None for a kind of
    value left to pandas."""
    dtype = values.dtype
    if holds_arrow_text(values):
        return pc.fill_null(arrow_text(values), "")
    if isinstance(dtype, np.dtype) and dtype.kind in "iu":
        return pc.cast(pa.array(values.to_numpy()), _TEXT)
    if isinstance(dtype, np.dtype) and dtype.kind == "b":
        return pa.array(np.where(values.to_numpy(), "True", "False"), _TEXT)
    if isinstance(dtype, pd.StringDtype) or pd.api.types.is_object_dtype(dtype):
        present = values.notna().to_numpy()
        objects = np.where(present, values.to_numpy(dtype=object), "")
        try:
            return pa.array(objects, type=_TEXT)  # only text converts
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return None
    return None


def _all_quoted(columns: list[pa.Array], alone: bool) -> list[pa.Array]:
    """The columns' fields quoted where csv's minimal quoting quotes them (`alone`: the row's
    only field, which is quoted when empty too). Which fields need quotes is found for all
    columns in one pass (one pattern compiled, not one per column), and only the columns
    holding such a field are rewritten. Long columns go one at a time (joining them would
    copy their text for no gain)."""
    if len(columns) > 1 and sum(len(column) for column in columns) > FIELDS_AT_ONCE:
        return [_all_quoted([column], alone)[0] for column in columns]
    text = columns[0] if len(columns) == 1 else pa.concat_arrays(columns)
    needed = np.asarray(pc.match_substring_regex(text, _NEEDS_QUOTES), dtype=bool)
    if alone:
        needed = needed | np.asarray(pc.equal(text, ""), dtype=bool)
    shown = []
    ends = np.cumsum([len(column) for column in columns])
    for column, end in zip(columns, ends, strict=True):
        mask = needed[end - len(column) : end]
        if not mask.any():
            shown.append(column)
            continue
        at = pa.array(mask)
        doubled = pc.replace_substring(column.filter(at), '"', '""')
        quoted = pc.binary_join_element_wise(_scalar('"'), doubled, _scalar('"'), _scalar(""))
        shown.append(pc.replace_with_mask(column, at, quoted))
    return shown


def _lines(columns: list[pa.Array]) -> bytes:
    """The rows' text, each row's fields joined by commas and ended by a line feed."""
    row = pc.binary_join_element_wise(*columns, _scalar(",")) if len(columns) > 1 else columns[0]
    joined = pc.binary_join_element_wise(row, _scalar("\n"), _scalar(""))
    _, offsets_buffer, data = joined.buffers()
    offsets = np.frombuffer(offsets_buffer, np.int64)[
        joined.offset : joined.offset + len(joined) + 1
    ]
    if data is None or offsets[-1] == offsets[0]:
        return b""
    return data.slice(int(offsets[0]), int(offsets[-1] - offsets[0])).to_pybytes()


def csv_chunks(frame: pd.DataFrame, rows_per_slice: int | None = None) -> Iterator[bytes] | None:
    """The CSV file's bytes in pieces (header, then a slice of rows at a time), or None when
    a column holds values left to pandas."""
    if len(frame.columns) == 0:
        return None
    fields: list[pa.Array] = []
    for column in frame.columns:
        field = _column_text(frame[column])
        if field is None:
            return None
        fields.append(field)
    alone = len(fields) == 1
    step = rows_per_slice or ROWS_PER_SLICE

    def pieces() -> Iterator[bytes]:
        yield _lines(_all_quoted([pa.array([str(c)], _TEXT) for c in frame.columns], alone))
        for first in range(0, len(frame), step):
            yield _lines(_all_quoted([field.slice(first, step) for field in fields], alone))

    return pieces()
