"""Columns of text as one Arrow array (chunks joined) and id membership tested in Arrow give
what pandas gives (arrow_columns.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hyposcreen.arrow_columns import arrow_text, is_listed


def test_a_column_of_several_chunks_becomes_one_array() -> None:
    part = pd.Series(["a", None, "c"], dtype="str")
    column = pd.concat([part, part], ignore_index=True)  # two Arrow chunks
    text = arrow_text(column)
    assert text.to_pylist() == ["a", None, "c", "a", None, "c"]
    assert arrow_text(pd.Series([], dtype="str")).to_pylist() == []


def test_ids_are_listed_as_pandas_isin_says() -> None:
    listed = pd.Series(["P3", "P1"], dtype=object)
    for ids in (
        pd.Series(["P1", "P2", None, "P3"], dtype="str"),
        pd.Series(["P1", np.nan, "P3"], dtype=object),
        pd.Series([1, 2]),
    ):
        assert list(is_listed(ids, listed)) == list(ids.isin(listed))
    both_missing = pd.Series(["P1", None], dtype="str")
    assert list(is_listed(both_missing, both_missing)) == [True, True]
