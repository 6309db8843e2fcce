"""Rows of an OMOP vocabulary file that were not read as rows, counted with their places.

An Athena file is tab-separated without quoting: a row with a tab too many or too few does not
split into the header's columns and is skipped (`unsplit`). A comma-separated vocabulary file
is quoted, and no vocabulary field holds a line break: a record whose field runs over line
ends holds a stray double quote that swallowed the rows on those lines (the general CSV reader
stops only when the record is also malformed: data tables may hold multi-line text). Such a
record is not used (`run_on` records, `run_on_line_ends` lines swallowed). Counts and the first
`file:row` of each (a file's line, header = 1) only; omop_vocabulary_gaps warns.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hyposcreen.adapters._files import SourceTable
from hyposcreen.adapters._omop_concept_ids import EXAMPLES

_LINE_BREAK = re.compile(b"\n")
Counts = dict[str, dict[str, int]]
Places = dict[str, tuple[str, ...]]


def runs_on(batch: pa.RecordBatch, columns: Sequence[str]) -> pa.Array:
    """Per row of a raw batch, whether one of `columns` holds a line break (each column's
    bytes are searched first, ~0.1 s for 6M concept names: the rows are looked at only when
    one is there)."""
    found = pa.array(np.zeros(batch.num_rows, dtype=bool))
    for name in columns:
        column = batch.column(name) if name in batch.schema.names else None
        if column is None or not _holds_line_break(column):
            continue
        broken = pc.match_substring(column, "\n")
        found = pc.or_(found, pc.fill_null(broken, False))
    return found


def _holds_line_break(column: pa.Array) -> bool:
    """Whether a text column's bytes hold a line break (a slice's whole buffer is searched:
    at worst the rows are looked at for nothing). Other types hold none."""
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        return False
    data = column.buffers()[2]
    return data is not None and _LINE_BREAK.search(data) is not None  # no copy of the bytes


def note_read(table: SourceTable, counts: Counts, places: Places) -> None:
    """The counts of a vocabulary table read into `counts[table]`: rows read, those that did
    not split into the header's columns (`unsplit`, skipped; their first places in `places`)."""
    found = table.unsplit_places()  # a repeated header line is none
    counts[table.name] = {"read": table.rows_read, "kept": 0}
    if found:
        counts[table.name]["unsplit"] = len(found)
        places[table.name] = tuple(found[:EXAMPLES])


def without_run_on(
    raw: pd.DataFrame, table: str, columns: Sequence[str], counts: Counts, places: Places
) -> pd.DataFrame:
    """`raw` (text columns, source_file, source_row) without its records whose field runs
    over line ends, counted into `counts[table]` with their first places."""
    breaks = np.zeros(len(raw), dtype=np.int64)
    for name in columns:  # in Arrow, each column's bytes searched first (runs_on)
        text = pa.array(raw[name], pa.string(), from_pandas=True)
        if isinstance(text, pa.ChunkedArray):
            text = text.combine_chunks()
        if _holds_line_break(text):
            breaks += pc.fill_null(pc.count_substring(text, "\n"), 0).to_numpy()
    broken = breaks > 0
    if not broken.any():
        return raw
    counts[table]["run_on"] = int(broken.sum())
    counts[table]["run_on_line_ends"] = int(breaks[broken].sum())
    first = raw.loc[broken].head(EXAMPLES)
    found = [f"{f}:{r}" for f, r in zip(first["source_file"], first["source_row"], strict=True)]
    places[f"{table}_run_on"] = tuple(found)
    return raw.loc[~broken].reset_index(drop=True)
