"""The decimal-comma judgement of quarantined lab values, remembered per distinct text for
the process (a backfill's nights quarantine the same results), is the judgement made afresh,
on hostile values: padded and censored commas, thousands groups, formula-like and unicode
texts, blanks, missing values and values that are not text."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hyposcreen import decimal_commas

HOSTILE = [
    "3,4",
    "\u00a03,4",
    "≤0,5",
    "less than 0,5",
    "+3,4",
    "1,050",
    "1.234,5",
    "=3,4",
    "3,4,5",
    "٣,٤",
    "abc",
    "",
    " ",
    "3.4",
    ",5",
    "@1,2",
]


def test_remembered_judgements_are_the_fresh_ones() -> None:
    decimal_commas._JUDGED.clear()
    values = pd.Series([*HOSTILE, None, *HOSTILE[::-1], 5, np.nan], dtype=object)
    distinct = pd.unique(values.dropna())
    fresh = dict(zip(distinct, decimal_commas._decimal_comma_judged(distinct), strict=True))
    expected = [bool(fresh[v]) if not pd.isna(v) else False for v in values]
    first = decimal_commas.decimal_comma_numbers(values)
    assert list(first) == expected
    assert set(decimal_commas._JUDGED) == {v for v in distinct if type(v) is str}
    assert decimal_commas._JUDGED["3,4"] and not decimal_commas._JUDGED["1,050"]
    again = decimal_commas.decimal_comma_numbers(values.iloc[::-1])  # every text remembered
    assert list(again) == expected[::-1]
    arrow = decimal_commas.decimal_comma_numbers(pd.Series([*HOSTILE, None], dtype="str"))
    assert list(arrow) == [bool(fresh[v]) for v in HOSTILE] + [False]
    assert list(decimal_commas.decimal_comma_numbers(pd.Series([], dtype="str"))) == []


def test_a_full_memory_starts_again() -> None:
    decimal_commas._JUDGED.clear()
    decimal_commas._JUDGED.update({f"x{i}": False for i in range(decimal_commas._JUDGED_MAX + 1)})
    shown = decimal_commas.decimal_comma_numbers(pd.Series(["3,4", "1,050"], dtype="str"))
    assert list(shown) == [True, False]
    assert decimal_commas._JUDGED == {"3,4": True, "1,050": False}
