"""Column helpers shared by the source-layout adapters (OMOP, MIMIC): source columns as
trimmed text, ids without a '.0' tail, dates from date/time column pairs, and a cheap Arrow
pre-filter on ISO-dated text."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def text_column(column: pa.Array) -> pa.Array:
    """A column as trimmed text, blanks as null."""
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    text = column if pa.types.is_string(column.type) else pc.cast(column, pa.string())
    text = pc.utf8_trim_whitespace(text)
    return pc.if_else(pc.equal(pc.utf8_length(text), 0), None, text)


def normalize_ids(values: pa.Array) -> pa.Array:
    """Concept / item ids compared as text: '8753', '8753.0' and ' 8753' are the same id."""
    return pc.replace_substring_regex(text_column(values), pattern=r"\.0+$", replacement="")


def timestamp(frame: pd.DataFrame, stem: str, time: str = "") -> pd.Series:
    """`<stem>_datetime`, else `<stem>_date` (plus a separate time-of-day column when given)."""
    date = frame[f"{stem}_date"]
    if time:
        clock = frame[time]
        date = date.where(clock.isna() | date.isna(), date + " " + clock)
    return first_present(frame.assign(_date=date), [f"{stem}_datetime", "_date"])


def first_present(frame: pd.DataFrame, columns: Sequence[str]) -> pd.Series:
    """Per row, the first non-null value among `columns` (all text)."""
    result = frame[columns[0]]
    for column in columns[1:]:
        result = result.where(result.notna(), frame[column])
    return result.astype("str").where(result.notna())


def batch_column(batch: pa.RecordBatch, name: str) -> pa.Array:
    """A column of a raw batch as trimmed text, or all nulls when the file does not have it."""
    if name in batch.schema.names:
        return text_column(batch.column(name))
    return pa.nulls(batch.num_rows, pa.string())


def id_text(values: pd.Series) -> pd.Series:
    """Ids as text without a '.0' tail, null where blank."""
    text = values.astype("str").str.strip().str.replace(r"\.0+$", "", regex=True)
    return text.where(values.notna() & (text != ""))


def outside_read_window(
    times: pa.Array, window: tuple[str, pd.Timestamp, pd.Timestamp] | None
) -> pa.Array:
    """True where an ISO-dated text lies more than a day outside the read window.

    A cheap Arrow pre-filter for huge event tables: only text starting with YYYY-MM-DD is
    judged, with a day of margin for time-zone offsets; everything else (other formats,
    unreadable times) goes on to the exact window of `finish_batch`.
    """
    if window is None:
        return pa.array(np.zeros(len(times), dtype=bool))
    _, start, end = window
    text = text_column(times)
    dated = pc.match_substring_regex(text, r"^\d{4}-\d{2}-\d{2}")
    day = pc.utf8_slice_codeunits(text, 0, 10)
    first = (start - pd.Timedelta(days=1)).strftime("%Y-%m-%d")
    last = (end + pd.Timedelta(days=1)).strftime("%Y-%m-%d")
    outside = pc.or_kleene(pc.less(day, first), pc.greater(day, last))
    return pc.fill_null(pc.and_kleene(dated, outside), False)
