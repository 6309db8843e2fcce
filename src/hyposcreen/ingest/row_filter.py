"""What a reader may drop early, and the shared tail every reader runs on a canonical batch.

Reasons are decided in this order, by every reader of the canonical layout: a row whose every
column read is empty (`empty_row`, a spreadsheet's empty rows), a LOINC the rules do not know
(`unknown_loinc`, in Arrow before any pandas conversion), then the selector's reasons (for labs
the analyte: `unknown_lab_name`, `urine_specimen` …), then `outside_window`. A dropped row is
counted under the first reason that applies, never silently.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hyposcreen.config import SiteMapping
from hyposcreen.ingest.canonical import TableSchema
from hyposcreen.ingest.frames import parse_time_columns
from hyposcreen.ingest.loinc_shapes import LoincShapeCounter, RowPlace
from hyposcreen.rules.loinc_text import with_plain_dashes

# A selector receives one canonical batch and returns (rows kept, not-relevant counts by reason).
Selector = Callable[[pd.DataFrame], tuple[pd.DataFrame, Counter[str]]]


@dataclass(frozen=True)
class RowFilter:
    """What a reader may drop early (counted as not relevant, never silently).

    `loinc_keep`: rows whose LOINC is present and not in this set are dropped in Arrow, before
    any pandas conversion (reason unknown_loinc). `select`: a pandas selector on the canonical
    batch (before time parsing). `window`: (time column, start, end) — rows whose time parsed
    and lies outside [start, end) are dropped (reason outside_window). `select_reads`: the
    canonical columns the selector decides on (row by row); when given, a file whose window
    column is a typed timestamp has the window applied in Arrow before the selector, and the
    rows outside it are classified by the selector once per distinct value of these columns
    (ingest.window_pushdown: the same counts by reason, a fraction of the work).
    `loinc_shapes`: counts the rows dropped as unknown_loinc whose code is a listed LOINC
    written another way (ingest.loinc_shapes), filled while reading.
    """

    loinc_keep: frozenset[str] | None = None
    select: Selector | None = None
    window: tuple[str, pd.Timestamp, pd.Timestamp] | None = None
    # (column, value) -> rows dropped as unrecognised (the coverage report), filled while reading
    unrecognised: Counter[tuple[str, str]] = field(default_factory=Counter)
    select_reads: tuple[str, ...] | None = None
    loinc_shapes: LoincShapeCounter | None = None


def prefilter_loinc(
    batch: pa.RecordBatch,
    site_loinc: str,
    keep: frozenset[str],
    unrecognised: Counter[tuple[str, str]] | None = None,
    shapes: tuple[LoincShapeCounter, RowPlace] | None = None,
) -> tuple[pa.RecordBatch, int]:
    """The rows of a known (or blank) LOINC, and how many were dropped as unknown_loinc. A code
    written with another dash (`2951–2`) is the known code (rules.loinc_text). `shapes`: the
    read's counter of the dropped codes' shapes and where the batch's rows are."""
    if site_loinc not in batch.schema.names:
        return batch, 0
    column = batch.column(site_loinc)
    if pa.types.is_dictionary(column.type):  # judged once per distinct code, not per row
        words = _trimmed(column.dictionary)
        mask = pc.fill_null(pc.take(_known_or_blank(words, keep), column.indices), True)
        kept = decoded(batch.filter(mask), (site_loinc,))
    else:
        loinc = _trimmed(column)
        mask = pc.fill_null(_known_or_blank(loinc, keep), True)
        kept = batch.filter(mask)
    if (unrecognised is not None or shapes is not None) and kept.num_rows < batch.num_rows:
        dropped = pc.invert(mask)
        if pa.types.is_dictionary(column.type):  # the trimmed codes, as a dictionary of them
            distinct = pc.unique(words)
            of_word = pc.index_in(words, value_set=distinct)
            codes = pa.DictionaryArray.from_arrays(
                pc.take(of_word, pc.filter(column.indices, dropped)), distinct
            )
        else:
            codes = pc.filter(loinc, dropped)
        counted = pc.value_counts(codes).to_pylist()
        if unrecognised is not None:
            unrecognised.update({("loinc", str(c["values"])): int(c["counts"]) for c in counted})
        if shapes is not None:
            shapes[0].count(batch, dropped, codes, counted, shapes[1])
    return kept, batch.num_rows - kept.num_rows


def _trimmed(codes: pa.Array) -> pa.Array:
    return pc.utf8_trim_whitespace(pc.cast(codes, pa.string()))


def _known_or_blank(trimmed: pa.Array, keep: frozenset[str]) -> pa.Array:
    blank = pc.or_kleene(pc.is_null(trimmed), pc.equal(pc.utf8_length(trimmed), 0))
    return pc.or_kleene(blank, pc.is_in(with_plain_dashes(trimmed), pa.array(sorted(keep))))


def decoded(batch: pa.RecordBatch, sites: Sequence[str]) -> pa.RecordBatch:
    """`batch` with its dictionary columns among `sites` (text read as dictionaries,
    ingest.parquet_batches.parquet_file) as plain text again, as every later step reads it."""
    arrays = list(batch.columns)
    found = False
    for site in sites:
        at = batch.schema.get_field_index(site)
        if at >= 0 and pa.types.is_dictionary(arrays[at].type):
            arrays[at], found = arrays[at].dictionary_decode(), True
    return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names) if found else batch


def outside_window(times: pd.Series, window: tuple[str, pd.Timestamp, pd.Timestamp]) -> pd.Series:
    """Rows whose parsed time lies outside [start, end) (a missing time is not outside)."""
    _, start, end = window
    return times.notna() & ((times < start) | (times >= end))


def apply_window(
    frame: pd.DataFrame, window: tuple[str, pd.Timestamp, pd.Timestamp]
) -> tuple[pd.DataFrame, int]:
    outside = outside_window(frame[window[0]], window)
    dropped = int(outside.sum())
    if not dropped:  # the window was applied already (ingest.window_pushdown): no copy
        return frame, 0
    return frame.loc[~outside], dropped


def finish_batch(
    frame: pd.DataFrame,
    schema: TableSchema,
    mapping: SiteMapping,
    row_filter: RowFilter,
    not_relevant: Counter[str],
) -> pd.DataFrame:
    """The shared tail of every reader (tabular files and source adapters alike).

    `frame` holds the canonical columns as text (times as text or typed timestamps) plus
    `source_file`/`source_row`; the selector and the window drop rows (counted in
    `not_relevant`), times are parsed to naive site-local time with the text kept in `<col>_raw`.
    A time column a reader already parsed travels with its rows as `parsed_column(column)`.
    """
    if row_filter.select is not None:
        frame, dropped = row_filter.select(frame)
        not_relevant.update(dropped)
    frame = parse_time_columns(frame, schema, mapping, mapping.table(schema.name))
    if row_filter.window is not None:
        frame, outside = apply_window(frame, row_filter.window)
        not_relevant["outside_window"] += outside
    return frame


EMPTY_ROW = "empty_row"  # not relevant: every column the table reads is empty


def drop_empty_rows(batch: pa.RecordBatch, keep_column: str) -> tuple[pa.RecordBatch, int]:
    """`batch` without the rows whose every column but `keep_column` (the row numbers) is
    empty, and how many they were: a spreadsheet's formatted but empty rows (`,,,,,`), no
    record of any table, counted not relevant as `empty_row` rather than read as a lab without
    a name, a medication without a drug or a diagnosis without its keys."""
    names = [n for n in batch.schema.names if n != keep_column]
    if not names or batch.num_rows == 0:
        return batch, 0
    empty = pc.is_null(batch.column(names[0]))
    for name in names[1:]:
        empty = pc.and_(empty, pc.is_null(batch.column(name)))
    count = int(pc.sum(empty).as_py() or 0)
    return (batch.filter(pc.invert(empty)), count) if count else (batch, 0)
