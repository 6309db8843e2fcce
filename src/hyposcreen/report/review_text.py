"""Spec §10: the review list as text for its CSV (report/review_list.py makes the list):
ISO times (one in an hour the clocks repeat with its UTC offset), numbers at one decimal,
true/false."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from hyposcreen.ingest.clock_folds import time_offsets
from hyposcreen.report.evidence import iso
from hyposcreen.report.evidence_arrays import iso_texts, str_array
from hyposcreen.report.html_text import choose
from hyposcreen.report.numbers import one_decimal_array
from hyposcreen.report.safe_cells import NUMERIC_ATTR

# the review-list columns to_text writes as numbers in text (write_csv keeps them numbers)
NUMBERS_AS_TEXT = (
    "index_sodium",
    "corrected_sodium",
    "latest_sodium",
    "delta_48h",
    "index_glucose",
)


TIMES = ("index_time", "nadir_time", "window_start", "window_end")
FLAGS = ("overcorrection", "correction_risk", "cramp_documented")
# the list's attrs: {time column: {patient_id: UTC offset}} of the case times in an hour the
# clocks repeat (the screen's clock_folds.offset_column), by patient (one case each), so a
# slice of the list finds its own; absent when no case time falls in such an hour
TIME_OFFSETS = "time_offsets"


def held_offsets(cases: pd.DataFrame, columns: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """`TIME_OFFSETS` of the listed `cases`' `columns` (empty without any)."""
    held: dict[str, dict[str, str]] = {}
    for column in columns:
        offsets = time_offsets(cases, column)
        if offsets is not None:
            known = ~pd.isna(offsets)
            patients = cases["patient_id"].to_numpy(dtype=object)[known]
            held[column] = dict(zip(map(str, patients), offsets[known], strict=True))
    return held


def review_offsets(review: pd.DataFrame, column: str) -> np.ndarray | None:
    """The UTC offset of each row's `column` time in a repeated hour (None elsewhere), from
    the list's `TIME_OFFSETS`; None when no row has one."""
    held = review.attrs.get(TIME_OFFSETS, {}).get(column)
    if not held or "patient_id" not in review:
        return None
    offsets = review["patient_id"].astype("str").map(held).to_numpy(dtype=object)
    known = ~pd.isna(offsets)
    if not known.any():
        return None
    offsets[~known] = None
    return offsets


def to_text(review: pd.DataFrame) -> pd.DataFrame:
    """CSV rendering: ISO times, one decimal, true/false, '' for missing (the columns written
    as they are are not copied; the rest made from arrays: each kind of column at once)."""
    columns = dict(review.items())  # each column read once
    count = len(review)
    shown: dict[str, Any] = {}
    times = [columns[c] for c in TIMES]
    offsets = [review_offsets(review, c) for c in TIMES]  # in a repeated hour: its offset
    if len({t.dtype for t in times}) == 1 and _naive_times(times[0]):
        both = None
        if any(o is not None for o in offsets):
            both = np.concatenate([np.full(count, None) if o is None else o for o in offsets])
        stamps = iso_texts(np.concatenate([t.to_numpy() for t in times]), both)
        for i, column in enumerate(TIMES):
            shown[column] = str_array(stamps[i * count : (i + 1) * count])
    else:
        for column, values, offset in zip(TIMES, times, offsets, strict=True):
            if not _naive_times(values):
                values = pd.to_datetime(values)
            shown[column] = iso(values, offset).array
    numbers = np.concatenate(
        [columns[c].to_numpy(dtype="float64", na_value=np.nan) for c in NUMBERS_AS_TEXT]
    )
    decimals = one_decimal_array(numbers)
    for i, column in enumerate(NUMBERS_AS_TEXT):
        shown[column] = str_array(decimals[i * count : (i + 1) * count])
    for column in FLAGS:
        flags = columns[column]
        flags = flags.to_numpy() if flags.dtype == bool else flags.astype(bool).to_numpy()
        shown[column] = str_array(choose(flags, "true", "false"))
    text = pd.DataFrame(
        {c: shown[c] if c in shown else values.array for c, values in columns.items()},
        index=review.index,
        copy=False,
    )
    text.attrs = {**review.attrs, NUMERIC_ATTR: NUMBERS_AS_TEXT}  # write_csv keeps numbers
    return text


def _naive_times(values: pd.Series) -> bool:
    return isinstance(values.dtype, np.dtype) and values.dtype.kind == "M"
