"""CSV text of a frame's blocks of rows, each block's text remembered by its exact content.

The nights of a backfill quarantine the same medication and diagnosis rows, night after
night (only their labs' rows change): quarantine.csv's rows come grouped by table, so each
table's block of rows is compared with the block of that table the process wrote last (its
columns as Arrow text, equal value for value, missing for missing) and, when equal, its CSV
text is taken as it was made then. A CSV's rows are made field by field (report.safe_cells
neutralises a cell on its own text, report.csv_text quotes a field on its own text), so the
text of the blocks one after the other is the text of the whole frame.

Only while `remembering_blocks()` is open (a loop of windows: runners/window_loop.py), and in
memory only: for a frame of at most `MAX_ROWS` rows, the last block of each (file, value);
nothing is written anywhere else, and leaving the loop forgets them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd
import pyarrow as pa

from hyposcreen.arrow_columns import arrow_text, holds_arrow_text
from hyposcreen.report.csv_text import csv_chunks
from hyposcreen.report.html_text import run_starts
from hyposcreen.report.safe_cells import NUMERIC_ATTR, neutralise_frame

_REMEMBERING = [False]  # set while a loop of windows is open
MAX_ROWS = 200_000  # a longer frame is written whole (its blocks would be kept in memory)

# (file name, block value) -> the block's columns (names and Arrow text) and its CSV rows
_LAST_BLOCKS: dict[tuple[str, str], tuple[tuple[str, ...], list[pa.Array], bytes]] = {}


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
    if not all(holds_arrow_text(frame[c]) for c in frame.columns):
        return None
    texts = [arrow_text(frame[c]) for c in frame.columns]
    keys = frame[blocks_by].to_numpy(dtype=object)
    if pd.isna(keys).any():
        return None
    starts = np.flatnonzero(run_starts(keys))
    values = [str(keys[s]) for s in starts]
    if len(set(values)) != len(values):  # a value's rows not together
        return None
    header = next(iter(csv_chunks(frame.iloc[:0]) or ()), None)
    if header is None:
        return None
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
