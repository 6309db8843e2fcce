"""Spreadsheet-safe cell text: the one neutraliser every CSV and XLSX writer uses.

A spreadsheet treats a cell whose text starts with `=`, `+`, `-`, `@`, a tab or a carriage
return as a formula (OWASP "CSV injection"). Such text gets a leading single quote, which
spreadsheets show as text and never evaluate. A plain number written as text ("-5.0", "+3")
is left alone: it is read as the number it is and cannot run anything. Values that are not
text (numbers, times, booleans, missing) pass through unchanged.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_RISKY = r"^[=+\-@\t\r]"


def neutralise_text(value: object) -> object:
    """One cell: risky text gets a leading `'`; anything else is returned as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        if not _PLAIN_NUMBER.match(value):
            return "'" + value
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` whose text columns are neutralised (vectorised per column); numeric,
    boolean and time columns are untouched. Returns `frame` itself when nothing is risky."""
    changed: dict[str, pd.Series] = {}
    for column in frame.columns:
        series = frame[column]
        if not (pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)):
            continue
        present = series.notna()
        text = series.where(present, "").astype("str")
        risky = present & text.str.contains(_RISKY, regex=True) & ~text.str.match(_PLAIN_NUMBER)
        if risky.any():
            fixed = series.astype(object).copy()
            fixed[risky] = np.char.add("'", text[risky].to_numpy().astype(str)).astype(object)
            changed[column] = fixed
    if not changed:
        return frame
    return frame.assign(**changed)
