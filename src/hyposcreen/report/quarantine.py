"""The quarantine file: every quarantined row with its original content and reason."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from hyposcreen.arrow_columns import text_on_every_row
from hyposcreen.clean import QUARANTINED
from hyposcreen.clean.labs import read_numbers
from hyposcreen.ingest.canonical import SCHEMAS
from hyposcreen.ingest.clock_folds import repeated_hour_offsets, second_marks
from hyposcreen.ingest.timeparse import is_utc, to_instants
from hyposcreen.report.quarantine_json import (
    TEXT_COLUMN,
    coded_json,
    json_of_codes,
    json_text_of_codes,
    json_texts,
)

QUARANTINE_COLUMNS = ["table", "source_file", "source_row", "reason", "patient_id", "original"]
LABEL = "_label"
# a column of the rows that is never written: a serum sodium's number (in mmol/L where its
# unit converts, else as written; NaN for any other row), for quarantined_low_sodiums
SODIUM_NUMBER = "_sodium_number"


def _original_columns(table: str, frame: pd.DataFrame) -> list[str]:
    schema = SCHEMAS[table]
    columns = []
    for column in schema.columns:
        if column == "source_row":
            continue
        columns.append(f"{column}_raw" if column in schema.time_columns else column)
    if "malformed_text" in frame.columns:
        columns.append("malformed_text")
    return [c for c in columns if c in frame.columns]


def quarantine_rows(
    cleaned: dict[str, pd.DataFrame],
    keep_labels: bool = False,
    timezone: str = "UTC",
    decimal: str = ".",
) -> pd.DataFrame:
    """Quarantined rows of every table; `original` is the row as read, as JSON (nulls omitted).
    A time typed with its zone (no text kept) is written in the site's `timezone`, with the
    offset of its instant when it is a repeated hour's second occurrence (`_second_texts`);
    `decimal`: the site's, as the labs were cleaned with (a sodium's number, `_sodium_numbers`).

    With `keep_labels` the rows come unordered with their frame label in `_label`, for
    `order_quarantine` after the partitions of a run are put together."""
    parts = []
    for table, frame in cleaned.items():
        rows = frame.loc[frame["bucket"] == QUARANTINED]
        if rows.empty:
            continue
        time_raw = {f"{c}_raw": c for c in SCHEMAS[table].time_columns}
        coded = {}
        for column in _original_columns(table, rows):
            codes, texts = coded_json(rows[column])
            typed = time_raw.get(column)
            if typed is not None and typed in rows.columns:  # typed source: no text kept
                typed_codes, typed_texts = coded_json(rows[typed])
                typed_codes, typed_texts = _second_texts(
                    rows, typed, timezone, typed_codes, typed_texts
                )
                fill = (codes < 0) & (typed_codes >= 0)
                codes = np.where(fill, typed_codes + len(texts), codes)
                texts = np.concatenate([texts, typed_texts])
            coded[time_raw.get(column, column)] = (codes, texts)
        payload = (  # pandas' text column kept in Arrow (no Python string made per row)
            pd.array(json_text_of_codes(coded), dtype=TEXT_COLUMN)
            if coded
            else json_of_codes(coded, len(rows))
        )
        parts.append(
            pd.DataFrame(
                {
                    "table": table,
                    "source_file": _text_values(rows["source_file"]),
                    "source_row": _text_values(rows["source_row"].astype("str")),
                    "reason": _text_values(rows["reason"]),
                    "patient_id": _text_values(rows["patient_id"]),
                    "original": payload,
                    SODIUM_NUMBER: _sodium_numbers(rows, decimal),
                    LABEL: rows.index.to_numpy(),
                }
            )
        )
    if not parts:
        return pd.DataFrame(columns=QUARANTINE_COLUMNS)
    out = pd.concat(parts, ignore_index=True)
    return out if keep_labels else order_quarantine(out)


def _text_values(values: pd.Series) -> Any:
    """The column's values for a new frame: pandas' `str` column as its Arrow text (the column
    it becomes either way), any other as numpy's."""
    return values.array if values.dtype == TEXT_COLUMN else values.to_numpy()


def _sodium_numbers(rows: pd.DataFrame, decimal: str) -> np.ndarray:
    """Each quarantined row's number if it is a serum sodium result with one (clean.labs: in
    canonical units where the unit converts, else the number as written, read again here for
    those rows alone: clean.labs.read_numbers), NaN for any other row (and every row of
    another table)."""
    if "analyte" not in rows.columns or "value_canonical" not in rows.columns:
        return np.full(len(rows), np.nan)
    number = rows["value_canonical"].to_numpy(dtype="float64", na_value=np.nan, copy=True)
    sodium = (rows["analyte"] == "sodium").to_numpy(dtype=bool, na_value=False)
    unread = np.flatnonzero(sodium & np.isnan(number))
    if len(unread) and "value_raw" in rows.columns:
        number[unread] = read_numbers(rows.iloc[unread], decimal)
    return np.where(sodium, number, np.nan)


def _second_texts(
    rows: pd.DataFrame, column: str, timezone: str, codes: np.ndarray, texts: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """`codes` and `texts` of a typed time column with each time the parse marked as a
    repeated hour's second occurrence (clock_folds) written with its offset ('2026-10-25
    02:30:00+01:00'): its wall time alone would read as the first. As they are without any."""
    second = second_marks(rows, column)
    if second is None or is_utc(timezone) or not second.any():
        return codes, texts
    at = np.flatnonzero(second)
    wall = rows[column].iloc[at].astype("datetime64[us]").reset_index(drop=True)
    offsets = repeated_hour_offsets(
        to_instants(wall, timezone, pd.Series(True, wall.index)), timezone
    )
    if offsets is None:
        return codes, texts
    written = [f"{pd.Timestamp(t)}{o or ''}" for t, o in zip(wall, offsets, strict=True)]
    codes = codes.copy()
    codes[at] = len(texts) + np.arange(len(at))
    return codes, np.concatenate([texts, json_texts(np.array(written, dtype=object))])


def order_quarantine(rows: pd.DataFrame) -> pd.DataFrame:
    """The file's order: table, file, row number; ties by the row's label in its table (the
    order it was read in), so the merged partitions of a run sort as the whole table does."""
    if rows.empty:
        return pd.DataFrame(columns=QUARANTINE_COLUMNS)
    kept = [column for column in rows.columns if column != LABEL]
    return rows[kept].take(quarantine_order(rows)).reset_index(drop=True)


def quarantine_order(rows: pd.DataFrame) -> np.ndarray:
    """The positions of `rows` (with their `_label`) in the file's order (`order_quarantine`).
    Rows of one table keep their relative order in any subset of them whose labels keep
    theirs: every key but the label is the row's own."""
    number = pd.to_numeric(rows["source_row"], errors="coerce").to_numpy(dtype="float64")
    keys = [  # np.lexsort: the last key sorts first; ties keep the rows' order (stable)
        rows[LABEL].to_numpy(),
        _sort_codes(rows["source_row"]),
        number,  # a row number that is no number (NaN) sorts last, as sort_values puts it
        _sort_codes(rows["source_file"]),
        _sort_codes(rows["table"]),
    ]
    return np.lexsort(keys)


def by_table(rows: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Quarantine rows with their `_label`, split by table, each in the file's order."""
    return {
        str(table): order_quarantine(rows.loc[(rows["table"] == table).to_numpy(dtype=bool)])
        for table in pd.unique(rows["table"])
    }


def in_table_order(parts: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The quarantine file from each table's rows in the file's order: the table is the
    first key of that order, so the tables follow one another by name."""
    shown = [parts[table] for table in sorted(parts) if len(parts[table])]
    if not shown:
        return pd.DataFrame(columns=QUARANTINE_COLUMNS)
    return pd.concat(shown, ignore_index=True)


def for_csv(quarantine: pd.DataFrame, timezone: str) -> pd.DataFrame:
    """quarantine.csv's rows: the file's columns (`SODIUM_NUMBER` is never written), then
    `time_zone` on every row: the site's zone (`timezone`), in which a naive time in `original`
    is read and into which a time typed with its zone was written (spec §11)."""
    written = quarantine.drop(columns=[SODIUM_NUMBER], errors="ignore")
    return written.assign(time_zone=text_on_every_row(len(written), timezone))


def _sort_codes(values: pd.Series) -> np.ndarray:
    """Each value's rank among the column's distinct values in sorted order (a missing value
    last, as `sort_values` puts it): the column as one sort key of `np.lexsort`."""
    codes, distinct = pd.factorize(values, sort=True)
    return np.where(codes < 0, len(distinct), codes)
