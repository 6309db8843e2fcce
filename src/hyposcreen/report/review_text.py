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


def to_text(review: pd.DataFrame) -> pd.DataFrame:
    """CSV rendering: ISO times, one decimal, true/false, '' for missing (the columns written
    as they are are not copied; the rest made from arrays, the numbers rounded at once)."""
    shown: dict[str, Any] = {}
    for column in ("index_time", "nadir_time", "window_start", "window_end"):
        values = review[column]
        if isinstance(values.dtype, np.dtype) and values.dtype.kind == "M":
            shown[column] = str_array(iso_texts(values.to_numpy()))
        else:
            shown[column] = iso(pd.to_datetime(values)).array
    numbers = np.column_stack(
        [review[c].to_numpy(dtype="float64", na_value=np.nan) for c in NUMBERS_AS_TEXT]
    )
    decimals = one_decimal_array(numbers.reshape(-1)).reshape(numbers.shape)
    for i, column in enumerate(NUMBERS_AS_TEXT):
        shown[column] = str_array(decimals[:, i])
    for column in ("overcorrection", "correction_risk", "cramp_documented"):
        flags = review[column].astype(bool).to_numpy()
        shown[column] = str_array(choose(flags, "true", "false"))
    text = pd.DataFrame(
        {c: shown[c] if c in shown else values.array for c, values in review.items()},
        index=review.index,
        copy=False,
    )
    text.attrs = {**review.attrs, NUMERIC_ATTR: NUMBERS_AS_TEXT}  # write_csv keeps numbers
    return text
