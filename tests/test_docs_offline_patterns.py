"""The offline copy's rewrites of a Data Docs page (validate/docs.py) leave what the plain
patterns they stand for leave: "Data asset: None<br>" with the whitespace before it, the
percentages and the long decimals alone in a badge."""

from __future__ import annotations

import re
import sys

import pytest

from hyposcreen.validate import docs

# the plain patterns (each tried at every position of a page)
DATA_ASSET_NONE = re.compile(r"\s*Data asset: None<br>", re.I)
PERCENT = re.compile(r"≈?(\d+\.\d+)\s*%")
LONG_DECIMAL = re.compile(r"(?<=>)(\d+\.\d{5,})(?=<)")

PAGES = [
    "",
    "Data asset: None<br>",
    "<p>  \n\t Data asset: None<br>  Data asset: None<br>\u00a0\u2003DATA ASSET: NONE<BR>x</p>",
    "a\nData aſſet: None<br>b",  # ſ is an s for a pattern that ignores case
    "Data asset: None<br>Data asset: None<br>   ",
    "Data asset: None<b> Data asset: Nonex<br>",
    "≈79.9999999 % of 4.065% and ≈ 5.5 %, 12.5\u00a0%, 3.%, .5 %, 1.0≈2.25 %%",
    ">0.1234567<>2.1234567< >>1.123456<< >1.1234<x >12.345678 < >9.99999<",
    "<td>≈99.99999 %</td><span>0.33333333</span>",
]


@pytest.mark.parametrize("page", PAGES)
def test_the_rewrites_leave_what_the_plain_patterns_leave(page: str) -> None:
    assert docs._without_data_asset(page) == DATA_ASSET_NONE.sub("", page)
    assert docs._PERCENT.sub(lambda m: f"[{m.group(1)}]", page) == PERCENT.sub(
        lambda m: f"[{m.group(1)}]", page
    )
    rounded = docs._LONG_DECIMAL.sub(lambda m: f">{docs._round(m.group(1))}<", page)
    assert rounded == LONG_DECIMAL.sub(lambda m: docs._round(m.group(1)), page)


def test_whitespace_is_what_the_pattern_takes_for_whitespace() -> None:
    """`str.isspace` and the pattern's `\\s` agree on every character."""
    space = re.compile(r"\s")
    everything = (chr(c) for c in range(sys.maxunicode + 1))
    assert all(c.isspace() == (space.fullmatch(c) is not None) for c in everything)
