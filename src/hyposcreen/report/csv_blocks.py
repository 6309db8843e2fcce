"""CSV text of a frame's blocks of rows, each block's text remembered by its exact content.

The nights of a backfill quarantine the same medication and diagnosis rows, night after
night (only their labs' rows change): quarantine.csv's rows come grouped by table, so each
table's block of rows is compared with the block of that table the process wrote last (its
columns as Arrow text, equal value for value, missing for missing) and, when equal, its CSV
text is taken as it was made then. A CSV's rows are made field by field (report.safe_cells
neutralises a cell on its own text, report.csv_text quotes a field on its own text), so the
text of the blocks one after the other is the text of the whole frame.

Only while `remembering_blocks()` is open (a loop of windows: runners/window_loop.py), and in
memory only: for a frame of at most `MAX_ROWS` rows, the last block of each (file, value),
and the header line of each set of column names (made from the names alone); nothing is
written anywhere else, and leaving the loop forgets them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hyposcreen.arrow_columns import arrow_text, holds_arrow_text
from hyposcreen.report.csv_text import csv_chunks
from hyposcreen.report.safe_cells import NUMERIC_ATTR, neutralise_frame

_REMEMBERING = [False]  # set while a loop of windows is open
MAX_ROWS = 200_000  # a longer frame is written whole (its blocks would be kept in memory)

# (file name, block value) -> the block's columns (names and Arrow text) and its CSV rows
_LAST_BLOCKS: dict[tuple[str, str], tuple[tuple[str, ...], list[pa.Array], bytes]] = {}
_HEADERS: dict[tuple[str, ...], bytes] = {}  # column names -> the CSV's header line


def csv_of_blocks(
    frame: pd.DataFrame, blocks_by: str, file_name: str, numeric: Iterable[str] = ()
) -> list[bytes] | None:
    """The CSV's bytes (the header, then each block's rows) as `write_csv` writes the whole
    frame, each run of rows of one `blocks_by` value a block; None when the frame is not for
    this (a column not of Arrow text, a block value missing or in two runs, columns that are
    not distinct names, or a long frame): the caller writes the whole frame."""
    if not _REMEMBERING[0] or not 0 < len(frame) <= MAX_ROWS or blocks_by not in frame.columns:
        return None
    names = tuple(str(c) for c in frame.columns)
    if len(set(names)) != len(names) or not all(isinstance(c, str) for c in frame.columns):
        return None
    columns = [frame[c] for c in frame.columns]
    if not all(holds_arrow_text(column) for column in columns):
        return None
    texts = [arrow_text(column) for column in columns]
    keys = texts[names.index(blocks_by)]
    if keys.null_count:
        return None
    starts = np.flatnonzero(_run_starts(keys))
    values = [str(keys[int(s)].as_py()) for s in starts]
    if len(set(values)) != len(values):  # a value's rows not together
        return None
    header = _HEADERS.get(names)
    if header is None:
        header = next(iter(csv_chunks(frame.iloc[:0]) or ()), None)
        if header is None:
            return None
        _HEADERS[names] = header  # the header's text is its column names'
    pieces = [header]
    numbers = (*numeric, *frame.attrs.get(NUMERIC_ATTR, ()))
    for start, end, value in zip(starts, [*starts[1:], len(frame)], values, strict=True):
        block = [text.slice(start, end - start) for text in texts]
        key = (file_name, value)
        known = _LAST_BLOCKS.get(key)
        if known is not None and known[0] == names and _equal(known[1], block):
            pieces.append(known[2])
            continue
        rows = _rows_text(frame.iloc[start:end], numbers)
        if rows is None:
            return None
        _LAST_BLOCKS[key] = (names, block, rows)
        pieces.append(rows)
    return pieces


def _run_starts(keys: pa.Array) -> np.ndarray:
    """True where the text (none missing) differs from the row before, and on the first row
    (html_text.run_starts, compared by Arrow without a Python string per row)."""
    starts = np.zeros(len(keys), dtype=bool)
    if len(keys):
        starts[0] = True
        differs = pc.not_equal(keys.slice(1), keys.slice(0, len(keys) - 1))
        starts[1:] = np.asarray(differs, dtype=bool)
    return starts


def _equal(known: list[pa.Array], block: list[pa.Array]) -> bool:
    return len(known) == len(block) and all(a.equals(b) for a, b in zip(known, block, strict=True))


def _rows_text(block: pd.DataFrame, numeric: Iterable[str]) -> bytes | None:
    """The block's rows as `write_csv` writes them (without the header)."""
    pieces = csv_chunks(neutralise_frame(block, numeric))
    if pieces is None:
        return None
    return b"".join(list(pieces)[1:])


@contextmanager
def remembering_blocks() -> Iterator[None]:
    """Blocks are remembered inside the block (a loop of windows), forgotten when it ends."""
    _REMEMBERING[0] = True
    try:
        yield
    finally:
        _REMEMBERING[0] = False
        _LAST_BLOCKS.clear()
        _HEADERS.clear()
