"""Data Docs percentages are rounded for reading, but a share above zero never reads 0 %."""

from __future__ import annotations

import pytest

from hyposcreen.validate.docs import _round


@pytest.mark.parametrize(
    ("number", "shown"),
    [("79.9999999", "80"), ("4.065", "4.07"), ("0.5952", "0.6"), ("0.06", "0.06"),
     ("0.004", "0.004"), ("0.0049999", "0.005"), ("0.0", "0")],
)  # fmt: skip
def test_rounded_percentages(number: str, shown: str) -> None:
    assert _round(number) == shown
