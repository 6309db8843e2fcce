"""How outputs round numbers: to 1 decimal, half away from zero, on the decimal value (spec §4).

Binary floating point holds 125.05 as 125.04999999999999715..., so float rounding (numpy,
`round`) prints 125.0 beside a "mild" severity. Rounding here works on the shortest decimal
text of the float (its repr, '125.05'), which is the number a reader of the data sees, so
125.05 prints 125.1 and -3.25 prints -3.3. Classification never uses these: it compares the
unrounded values.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

import numpy as np
import pandas as pd

_ONE_DECIMAL = Decimal("0.1")


def round_half_away(value: float, places: int = 1) -> float:
    """`value` rounded to `places` decimals, half away from zero (ROUND_HALF_UP works on
    magnitude)."""
    if not np.isfinite(value):
        return value
    quantum = _ONE_DECIMAL if places == 1 else Decimal(1).scaleb(-places)
    rounded = Decimal(repr(float(value))).quantize(quantum, rounding=ROUND_HALF_UP)
    return float(rounded) + 0.0  # + 0.0: -0.0 prints as 0.0


@lru_cache(maxsize=1 << 16)
def _one_decimal(value: float) -> float:
    return round_half_away(value)


def _distinct_rounded(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Each distinct number rounded once (and remembered across calls: a run's numbers
    recur in its columns and outputs) and where each value's is."""
    return _distinct_rounded_numbers(values.to_numpy(dtype="float64", na_value=np.nan))


def _distinct_rounded_numbers(numbers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    numbers = np.asarray(numbers, dtype="float64").reshape(-1)
    position, distinct = pd.factorize(numbers)  # missing: -1, the NaN after the distinct
    rounded = np.empty(len(distinct) + 1, dtype="float64")  # -0.0 and 0.0 round alike
    rounded[:-1] = [_one_decimal(v) for v in distinct.tolist()]
    rounded[-1] = np.nan
    return rounded, position


def round_one_decimal(values: pd.Series) -> pd.Series:
    """A float Series rounded to 1 decimal, half away from zero; missing stays missing."""
    rounded, position = _distinct_rounded(values)
    return pd.Series(rounded[position], index=values.index, dtype="float64", name=values.name)


def round_one_decimal_array(numbers: np.ndarray) -> np.ndarray:
    """`round_one_decimal` of an array of floats of any shape (all its columns at once)."""
    numbers = np.asarray(numbers, dtype="float64")
    rounded, position = _distinct_rounded_numbers(numbers.reshape(-1))
    return rounded[position].reshape(numbers.shape)


def one_decimal_text(values: pd.Series) -> pd.Series:
    """Text with exactly one decimal ('125.1', '130.0'); '' where the value is missing."""
    return pd.Series(one_decimal_objects(values), index=values.index, dtype="str")


def one_decimal_objects(values: pd.Series) -> np.ndarray:
    """`one_decimal_text` as an object array of Python strings (for markup joined as objects:
    no round trip through a column of Arrow text)."""
    return one_decimal_array(values.to_numpy(dtype="float64", na_value=np.nan))


def one_decimal_array(numbers: np.ndarray) -> np.ndarray:
    """`one_decimal_objects` of an array of floats (NaN for missing): each distinct number's
    text made once (and remembered across calls)."""
    position, distinct = pd.factorize(np.asarray(numbers, dtype="float64").reshape(-1))
    text = np.empty(len(distinct) + 1, dtype=object)  # missing: -1, the '' after the distinct
    text[:-1] = [_one_decimal_text(v) for v in distinct.tolist()]
    text[-1] = ""
    return text[position]


@lru_cache(maxsize=1 << 16)
def _one_decimal_text(value: float) -> str:
    return "" if np.isnan(value) else f"{_one_decimal(value):.1f}"  # as "%.1f" prints it


def general_text(values: pd.Series) -> pd.Series:
    """`f"{value:g}"` of each number ('3', '3.25', '-0', 'nan'), each distinct number (told
    apart by its bits, so -0.0 is not 0.0) formatted once."""
    numbers = values.to_numpy()
    if numbers.dtype != np.float64:  # anything but plain floats: as it always was
        return values.map(lambda v: f"{v:g}").astype("str")
    return pd.Series(general_array(numbers), index=values.index, dtype="str")


def general_array(numbers: np.ndarray) -> np.ndarray:
    """`general_text` of an array of float64 as an object array of Python strings."""
    position, distinct = pd.factorize(numbers.view(np.int64))
    shown = np.array([f"{v:g}" for v in distinct.view(np.float64)], dtype=object)
    return shown[position]


def format_one_decimal(value: float | None) -> str:
    """One number as text with one decimal, rounded half away from zero; '' when missing."""
    return format_decimals(value, 1)


def format_decimals(value: float | None, places: int) -> str:
    """One number as text with `places` decimals, rounded half away from zero; '' when
    missing."""
    if value is None or pd.isna(value):
        return ""
    return f"{round_half_away(float(value), places):.{places}f}"
