"""The array forms of the one-decimal rounding (report/numbers.py) write and round each
number as the one-number functions do: half away from zero on the decimal value."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from hyposcreen.report.numbers import (
    format_one_decimal,
    one_decimal_array,
    round_half_away,
    round_one_decimal_array,
)

SPECIAL = [125.05, -3.25, -0.0, 0.0, 0.05, -0.05, float("nan"), float("inf"), -float("inf")]
NUMBERS = st.lists(  # Decimal rounding holds 28 digits: lab values are far below 1e15
    st.one_of(st.floats(min_value=-1e15, max_value=1e15), st.sampled_from(SPECIAL)),
    max_size=30,
)


@settings(max_examples=200, deadline=None)
@given(NUMBERS)
def test_one_decimal_texts_are_each_numbers_own(values: list[float]) -> None:
    numbers = np.array(values, dtype="float64")
    assert one_decimal_array(numbers).tolist() == [format_one_decimal(v) for v in values]


@settings(max_examples=200, deadline=None)
@given(NUMBERS, st.integers(1, 3))
def test_columns_rounded_at_once_are_each_numbers_own(values: list[float], width: int) -> None:
    numbers = np.array(values[: len(values) // width * width], dtype="float64")
    grid = numbers.reshape(-1, width)
    rounded = round_one_decimal_array(grid)
    assert rounded.shape == grid.shape
    expected = [round_half_away(v) for v in grid.reshape(-1).tolist()]
    assert np.array_equal(rounded.reshape(-1), np.array(expected), equal_nan=True)
