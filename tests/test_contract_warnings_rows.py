"""The rows a warning expectation flagged that the contracts quarantine
(recipe_contracts.apply_contract_warnings): those the frame holds with bucket `used`, found by
position in a whole table, a partition and a frame whose labels repeat."""

from __future__ import annotations

import pandas as pd
import pytest

from hyposcreen.clean import QUARANTINED, USED
from hyposcreen.recipe_contracts import _used_rows

BUCKETS = [USED, QUARANTINED, USED, USED]


@pytest.mark.parametrize(
    ("index", "candidates", "expected"),
    [
        (pd.RangeIndex(4), [3, 1, 0, 9], [3, 0]),  # 1 is quarantined already, 9 not held
        (pd.Index([10, 11, 12, 13]), [12, 2, 11, 13], [12, 13]),  # a partition's row numbers
        (pd.Index([10, 11, 12, 13]), [], []),
    ],
)
def test_flagged_rows_held_and_used(index: pd.Index, candidates: list[int], expected: list[int]):
    frame = pd.DataFrame({"bucket": BUCKETS}, index=index)
    found = _used_rows(frame, pd.Index(candidates, dtype="int64"))
    assert list(found) == expected


def test_labels_that_repeat_are_judged_by_label() -> None:
    frame = pd.DataFrame({"bucket": [USED, QUARANTINED, USED]}, index=pd.Index([5, 6, 7]))
    frame = frame.iloc[[0, 1, 2]].set_axis(pd.Index([5, 6, 6]))  # 6: quarantined and used
    assert list(_used_rows(frame, pd.Index([5, 7], dtype="int64"))) == [5]
