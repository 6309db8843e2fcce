"""The derived columns of a partitioned run's gathered (categorical) contract columns are the
ones the view makes of the same values as text."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hyposcreen.validate.derived import _blank_as_missing


def _as_text_then_categories(series: pd.Series) -> pd.Series:
    """The text path: blank texts missing, then the categorical the view makes of the text."""
    text = series.astype("str")
    return text.where(text.str.strip().str.len() > 0).astype("category")


def test_blank_patient_ids_of_a_categorical_are_missing_and_categories_sorted() -> None:
    # unused "zz", blank " " and "" go; missing stays missing; the rest sorted: p1 < p2
    ids = pd.Series(
        pd.Categorical(
            ["p2", " ", None, "p1", "", "p2"], categories=pd.Index(["zz", "p2", " ", "", "p1"])
        )
    )
    derived = _blank_as_missing(ids)
    assert list(derived.cat.categories) == ["p1", "p2"]
    assert derived.isna().tolist() == [False, True, True, False, True, False]
    assert derived.cat.codes.tolist() == [1, -1, -1, 0, -1, 1]


def test_categorical_and_text_paths_agree() -> None:
    rng = np.random.default_rng(7)
    pool = np.array(["p10", "p2", " ", "", "  p3 ", "Ärzt", "é", "P1", "10", "b b", "\t"], object)
    for _ in range(100):
        n = int(rng.integers(0, 50))
        values = pool[rng.integers(0, len(pool), n)]
        values[rng.random(n) < 0.2] = None
        categories = pd.Index(rng.permutation(pool), dtype="str")
        ids = pd.Series(pd.Categorical(pd.Series(values, dtype="str"), categories=categories))
        derived = _blank_as_missing(ids)
        expected = _as_text_then_categories(ids)
        pd.testing.assert_series_equal(derived, expected)
        assert derived.cat.categories.dtype == expected.cat.categories.dtype
