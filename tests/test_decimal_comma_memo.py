"""The judgements of quarantined lab values' shapes (decimal commas, thousands separators,
abnormal-result flags, numbers with text), remembered per distinct text for the process (a
backfill's nights quarantine the same results: ingest.judged_texts), are the judgements made
afresh, on hostile values: padded and censored commas, thousands groups, flags, formula-like
and unicode texts, blanks, missing values and values that are not text."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hyposcreen import decimal_commas
from hyposcreen.ingest import values as result_values
from hyposcreen.ingest.judged_texts import JudgedTexts

HOSTILE = [
    "3,4",
    "\u00a03,4",
    "≤0,5",
    "less than 0,5",
    "+3,4",
    "1,050",
    ">1,000",
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
    "125 L",
    "125.0 (H)",
    "3.1LL",
    "<2.0 L",
    "125*",
    "L",
    "104 mmol/L",
    "~104",
    "104 (repeated)",
    "1,2,3",
    "Ärztin 5",
]

JUDGES = [
    (decimal_commas.decimal_comma_numbers, decimal_commas._DECIMAL_COMMA_NUMBERS),
    (decimal_commas.thousands_numbers, decimal_commas._THOUSANDS_NUMBERS),
    (result_values.flagged_numbers, result_values._FLAGGED_NUMBERS),
    (result_values.numbers_with_text, result_values._NUMBERS_WITH_TEXT),
]


@pytest.mark.parametrize(("judged", "memory"), JUDGES)
def test_remembered_judgements_are_the_fresh_ones(judged, memory: JudgedTexts) -> None:  # type: ignore[no-untyped-def]
    memory.known.clear()
    values = pd.Series([*HOSTILE, None, *HOSTILE[::-1], 5, np.nan], dtype=object)
    distinct = pd.unique(values.dropna())
    fresh = dict(zip(distinct, memory.judge(np.asarray(distinct, dtype=object)), strict=True))
    expected = [bool(fresh[v]) if not pd.isna(v) else False for v in values]
    first = judged(values)
    assert list(first) == expected
    assert set(memory.known) == {v for v in distinct if type(v) is str}
    assert any(memory.known.values()) and not all(memory.known.values())
    again = judged(values.iloc[::-1])  # every text remembered
    assert list(again) == expected[::-1]
    arrow = judged(pd.Series([*HOSTILE, None], dtype="str"))
    assert list(arrow) == [bool(fresh[v]) for v in HOSTILE] + [False]
    assert list(judged(pd.Series([], dtype="str"))) == []


def test_the_judgements_are_those_of_each_shape() -> None:
    texts = pd.Series(["3,4", "1,050", "125 L", "104 mmol/L", "abc"], dtype="str")
    for _, memory in JUDGES:
        memory.known.clear()
    assert list(decimal_commas.decimal_comma_numbers(texts)) == [1, 0, 0, 0, 0]
    assert list(decimal_commas.thousands_numbers(texts)) == [0, 1, 0, 0, 0]
    assert list(result_values.flagged_numbers(texts)) == [0, 0, 1, 0, 0]
    assert list(result_values.numbers_with_text(texts)) == [0, 0, 1, 1, 0]


def test_a_full_memory_starts_again() -> None:
    memory = decimal_commas._DECIMAL_COMMA_NUMBERS
    memory.known.clear()
    memory.known.update({f"x{i}": False for i in range(memory.limit + 1)})
    shown = decimal_commas.decimal_comma_numbers(pd.Series(["3,4", "1,050"], dtype="str"))
    assert list(shown) == [True, False]
    assert memory.known == {"3,4": True, "1,050": False}


def test_a_column_of_more_new_texts_than_the_memory_holds_stays_within_it() -> None:
    """A night of millions of distinct quarantined texts (a result with a sample number in it)
    kept them all in a long-lived process's memory until its next call: at most `limit`."""
    memory = JudgedTexts(decimal_commas._DECIMAL_COMMA_NUMBERS.judge, limit=8)
    texts = pd.Series([f"{i},5" for i in range(50)] + ["1,050"], dtype="str")
    assert list(memory(texts)) == [True] * 50 + [False]
    assert len(memory.known) <= 8
    more = pd.Series([f"{i},5" for i in range(100, 105)], dtype="str")
    assert list(memory(more)) == [True] * 5
    assert len(memory.known) <= 8
