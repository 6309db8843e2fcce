"""Lab results written with a decimal comma at a site whose decimal is '.'.

Such a result is quarantined `non_numeric` (spec §3 reads a number with the site's decimal),
so the co-factor or glucose correction it carries is lost. This module tells which texts are
such numbers (as ingest.values would read them at a site with csv: {decimal: ","}), counts
them among the cleaned labs, and words the hint a stopped night gives: its reason and the
mapping key to set, with a count only (recipe.contracts, runners.partitioned). The warning of
a night that screened is quarantine_warnings' `decimal_commas`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd

from hyposcreen.errors import InputError
from hyposcreen.ingest.judged_texts import JudgedTexts
from hyposcreen.ingest.values import decimal_comma_text, parse_values

# a number with groups of three digits after a leading 1-9 (`1,050`) is a thousands separator,
# which csv: {decimal: ","} would read as 1.05: no decimal comma
_THOUSANDS = r"^\D*[1-9][0-9]{0,2}(?:,[0-9]{3})+\s*$"


def decimal_comma_count(labs: pd.DataFrame, decimal: str = ".") -> int:
    """How many cleaned lab rows quarantined non_numeric hold a number with a decimal comma at
    a '.' site (0 at a ',' site, or without the columns)."""
    if decimal != "." or not {"reason", "value_raw"} <= set(labs.columns):
        return 0
    text = labs["value_raw"].loc[(labs["reason"] == "non_numeric").to_numpy(dtype=bool)]
    return int(decimal_comma_numbers(text).sum())


def decimal_comma_numbers(text: pd.Series) -> np.ndarray:
    """Which values are numbers written as text with a decimal comma: no number as
    written, one once the comma is the decimal as ingest.values reads it for a site with
    csv: {decimal: ","} (`3,4`, `\\u00a03,4`, `≤0,5`, `less than 0,5`, `+3,4`), and no
    thousands separator (`1,050`). Judged once per distinct text, and a text judged before in
    the process (a backfill's nights quarantine the same results) as it was judged then
    (ingest.judged_texts)."""
    return _DECIMAL_COMMA_NUMBERS(text)


def _decimal_comma_judged(distinct: np.ndarray) -> np.ndarray:
    """`_decimal_comma_numbers` of distinct values, each judged on its own text."""
    values = pd.Series(distinct, dtype=object)
    words = values.astype("str")
    blank = pd.Series(np.nan, index=words.index)
    return np.asarray(
        np.array([isinstance(value, str) for value in values], dtype=bool)
        & words.str.contains(",", regex=False).to_numpy()
        & parse_values(words, blank)[0].isna().to_numpy()
        & parse_values(decimal_comma_text(words), blank)[0].notna().to_numpy()
        & ~words.str.match(_THOUSANDS).to_numpy(),
        dtype=bool,
    )


def thousands_numbers(text: pd.Series) -> np.ndarray:
    """Which values are numbers written with a comma between groups of three digits (`1,050`,
    `>1,000`): spec §3 reads no number in them at a '.' site (quarantine_warnings'
    `thousands_separators`). Judged once per distinct text for the process (judged_texts)."""
    return _THOUSANDS_NUMBERS(text)


def _thousands_judged(distinct: np.ndarray) -> np.ndarray:
    values = pd.Series(distinct, dtype=object)
    words = values.astype("str").where(values.map(lambda value: isinstance(value, str)), "")
    return np.asarray(words.str.match(_THOUSANDS).to_numpy(), dtype=bool)


_DECIMAL_COMMA_NUMBERS = JudgedTexts(_decimal_comma_judged)
_THOUSANDS_NUMBERS = JudgedTexts(_thousands_judged)


def decimal_comma_hint(count: int) -> str | None:
    """What to say when a night stops on its labs with `count` decimal-comma results (the
    count and the mapping key that reads them); None when there is none."""
    if not count:
        return None
    return (
        f"{count} lab result(s) are numbers written with a decimal comma but the site's decimal "
        "is '.': set csv: {decimal: \",\"} in the site mapping if the extract writes decimal "
        "commas."
    )


def with_decimal_comma_hint(stop: InputError, count: int) -> InputError:
    """The contracts' stop `stop` with the decimal-comma hint put before its examples (the
    message FAILED.json and the alerts keep); `stop` itself when there is no such row."""
    hint = decimal_comma_hint(count)
    if hint is None:
        return stop
    said = str(stop).split(" Examples: ")[0] if stop.examples else str(stop)
    return InputError(f"{said} {hint}", file=stop.file, column=stop.column, examples=stop.examples)


@contextmanager
def hinting_decimal_commas(count: Callable[[], int]) -> Iterator[None]:
    """The contracts' stop raised within, re-raised with the decimal-comma hint when `count()`
    (the lab results written with decimal commas, counted only on a stop) finds such rows."""
    try:
        yield
    except InputError as stop:
        hinted = with_decimal_comma_hint(stop, count())
        if hinted is stop:
            raise
        raise hinted from stop
