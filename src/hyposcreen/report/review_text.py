"""Spec §10: the review list as text for its CSV (report/review_list.py makes the list):
ISO times, numbers at one decimal, true/false."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

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


def to_text(review: pd.DataFrame) -> pd.DataFrame:
    """CSV rendering: ISO times, one decimal, true/false, '' for missing (the columns written
    as they are are not copied; the rest made from arrays: each kind of column at once)."""
    columns = dict(review.items())  # each column read once
    count = len(review)
    shown: dict[str, Any] = {}
    times = [columns[c] for c in TIMES]
    if len({t.dtype for t in times}) == 1 and _naive_times(times[0]):
        stamps = iso_texts(np.concatenate([t.to_numpy() for t in times]))
        for i, column in enumerate(TIMES):
            shown[column] = str_array(stamps[i * count : (i + 1) * count])
    else:
        for column, values in zip(TIMES, times, strict=True):
            if not _naive_times(values):
                values = pd.to_datetime(values)
            shown[column] = iso(values).array
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
