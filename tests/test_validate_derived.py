"""The derived columns of a partitioned run's gathered (categorical) contract columns hold the
values the view makes of the same values as text; the clean stage's reasons become the flags."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hyposcreen.validate.derived import _blank_as_missing, as_categories, derived_columns
from hyposcreen.validate.views import _reasons_read


def _as_text_then_blank_missing(series: pd.Series) -> list[object]:
    """The text path written out: blank texts (empty or whitespace only) missing."""
    text = series.astype("str")
    return [None if pd.isna(t) or not str(t).strip() else str(t) for t in text]


def _values(series: pd.Series) -> list[object]:
    return [None if pd.isna(v) else v for v in series.astype("object")]


def test_blank_patient_ids_of_a_categorical_are_missing_and_its_codes_kept() -> None:
    # blank " " and "" rows go missing; missing stays missing; other rows keep their code
    ids = pd.Series(
        pd.Categorical(
            ["p2", " ", None, "p1", "", "p2"], categories=pd.Index(["zz", "p2", " ", "", "p1"])
        )
    )
    derived = _blank_as_missing(ids)
    assert derived.isna().tolist() == [False, True, True, False, True, False]
    assert derived.cat.codes.tolist() == [1, -1, -1, 4, -1, 1]
    assert _values(derived) == ["p2", None, None, "p1", None, "p2"]


def test_categorical_and_text_paths_agree() -> None:
    rng = np.random.default_rng(7)
    pool = np.array(["p10", "p2", " ", "", "  p3 ", "Ärzt", "é", "P1", "10", "b b", "\t"], object)
    for _ in range(100):
        n = int(rng.integers(0, 50))
        values = pool[rng.integers(0, len(pool), n)]
        values[rng.random(n) < 0.2] = None
        categories = pd.Index(rng.permutation(pool), dtype="str")
        text = pd.Series(values, dtype="str")
        ids = pd.Series(pd.Categorical(text, categories=categories))
        expected = _as_text_then_blank_missing(text)
        assert _values(_blank_as_missing(ids)) == expected
        assert _values(_blank_as_missing(text)) == expected
        assert isinstance(_blank_as_missing(text).dtype, pd.CategoricalDtype)


def test_text_as_categories_keeps_every_value_and_missing() -> None:
    text = pd.Series(["b", None, "a", "b", " "], dtype="str", index=[5, 6, 7, 8, 9])
    encoded = as_categories(text)
    assert isinstance(encoded.dtype, pd.CategoricalDtype)
    assert _values(encoded) == ["b", None, "a", "b", " "]
    assert encoded.index.tolist() == [5, 6, 7, 8, 9]


def test_flags_come_from_the_clean_stage_reasons_in_one_byte() -> None:
    reason = pd.Series([None, "duplicate", "non_numeric", "status", "non_numeric"], dtype=object)
    frame = pd.DataFrame(
        {
            "analyte": pd.Series(["sodium", "sodium", "sodium", "potassium", "potassium"]),
            "reason": _reasons_read(reason),
        }
    )
    assert _values(frame["reason"]) == [None, "duplicate", "non_numeric", None, "non_numeric"]
    derived = derived_columns("labs", frame, list(frame.columns), None)
    assert derived["duplicate_flag"].tolist() == [0, 1, 0, 0, 0]
    assert derived["non_numeric"].tolist() == [0, 0, 1, 0, 1]
    assert derived["duplicate_flag"].dtype == "int8"
    sodium = derived["sodium_non_numeric"]
    assert _values(sodium) == [0.0, 0.0, 1.0, None, None]  # missing on other analytes
