"""The rows an outcome quotes (validate/results.py `_rows`): taken by position, the same rows
and values as pandas' label lookup, which still answers for labels it does not find."""

from __future__ import annotations

import pandas as pd
import pytest

from hyposcreen.validate.results import _rows

COLUMNS = ["source_file", "source_row"]


def _frame(index: list[int]) -> pd.DataFrame:
    n = len(index)
    frame = pd.DataFrame(
        {
            "source_file": pd.Series(["labs.csv"] * n, dtype="str"),
            "source_row": pd.Series([str(i + 2) for i in range(n)], dtype="str"),
            "unit": pd.Series(["mmol/L", None, "g/L", "mmol/L"][:n], dtype="str"),
        }
    )  # a range index, or the given labels (a partition's row numbers, repeated labels)
    return frame if index == list(range(n)) else frame.set_axis(pd.Index(index))


@pytest.mark.parametrize(
    ("index", "labels"),
    [([0, 1, 2, 3], [3, 0]), ([10, 11, 12, 13], [12, 10, 13]), ([5, 6, 6, 7], [5, 7])],
)
def test_rows_are_those_of_the_label_lookup(index: list[int], labels: list[int]) -> None:
    frame = _frame(index)
    for columns in (COLUMNS, ["unit"]):
        taken = _rows(frame, labels, columns)
        pd.testing.assert_frame_equal(taken, frame.loc[labels, columns])
    assert list(_rows(frame, labels, COLUMNS)["source_row"]) == [
        str(index.index(label) + 2) for label in labels
    ]


def test_a_label_not_held_is_a_key_error_as_before() -> None:
    with pytest.raises(KeyError):
        _rows(_frame([10, 11, 12, 13]), [10, 99], COLUMNS)
