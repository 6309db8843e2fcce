"""How outputs round numbers: to 1 decimal, half away from zero, on the decimal value (spec §4).

Binary floating point holds 125.05 as 125.04999999999999715..., so float rounding (numpy,
`round`) prints 125.0 beside a "mild" severity. Rounding here works on the shortest decimal
text of the float (its repr, '125.05'), which is the number a reader of the data sees, so
125.05 prints 125.1 and -3.25 prints -3.3. Classification never uses these: it compares the
unrounded values.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

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


def round_one_decimal(values: pd.Series) -> pd.Series:
    """A float Series rounded to 1 decimal, half away from zero; missing stays missing.

    Each distinct value is rounded once (an output holds a few hundred rows at most)."""
    numbers = values.astype("float64")
    distinct = numbers.dropna().unique()
    lookup = {v: round_half_away(v) for v in distinct}
    return numbers.map(lookup).astype("float64")


def one_decimal_text(values: pd.Series) -> pd.Series:
    """Text with exactly one decimal ('125.1', '130.0'); '' where the value is missing."""
    rounded = round_one_decimal(values)
    present = rounded.notna().to_numpy()
    text = np.char.mod("%.1f", np.where(present, rounded.to_numpy(), 0.0)).astype(object)
    return pd.Series(np.where(present, text, ""), index=values.index, dtype="str")


def general_text(values: pd.Series) -> pd.Series:
    """`f"{value:g}"` of each number ('3', '3.25', '-0', 'nan'), each distinct number (told
    apart by its bits, so -0.0 is not 0.0) formatted once."""
    numbers = values.to_numpy()
    if numbers.dtype != np.float64:  # anything but plain floats: as it always was
        return values.map(lambda v: f"{v:g}").astype("str")
    position, distinct = pd.factorize(numbers.view(np.int64))
    shown = np.array([f"{v:g}" for v in distinct.view(np.float64)], dtype=object)
    return pd.Series(shown[position], index=values.index, dtype="str")


def format_one_decimal(value: float | None) -> str:
    """One number as text with one decimal, rounded half away from zero; '' when missing."""
    return format_decimals(value, 1)


def format_decimals(value: float | None, places: int) -> str:
    """One number as text with `places` decimals, rounded half away from zero; '' when
    missing."""
    if value is None or pd.isna(value):
        return ""
    return f"{round_half_away(float(value), places):.{places}f}"
