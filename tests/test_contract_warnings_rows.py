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
        (pd.Index([13, 10, 11, 12]), [11, 2, 10, 12], [11, 12]),  # labels not running upwards
        (pd.Index([10, 11, 12, 13]), [9, 14, 13], [13]),  # before the first, after the last
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


def test_a_night_without_flagged_rows_leaves_the_frames_as_marking_no_row_does() -> None:
    from types import SimpleNamespace

    from hyposcreen.recipe_contracts import apply_contract_warnings
    from hyposcreen.validate.outcomes import ValidationReport

    def table() -> pd.DataFrame:
        frame = pd.DataFrame({"bucket": BUCKETS, "reason": [None, "status", None, None]})
        return frame.astype({"bucket": "str", "reason": object})

    cleaned = SimpleNamespace(labs=table(), medications=table(), diagnoses=table())
    done = apply_contract_warnings(ValidationReport([], [], 0.0), cleaned)  # type: ignore[arg-type]
    assert done == {"labs": 0, "medications": 0, "diagnoses": 0}
    marked = table()
    marked.loc[pd.Index([], dtype="int64"), "bucket"] = QUARANTINED
    marked.loc[pd.Index([], dtype="int64"), "reason"] = []
    for name in ("labs", "medications", "diagnoses"):
        pd.testing.assert_frame_equal(getattr(cleaned, name), marked, check_exact=True)


@pytest.mark.parametrize("index", [[10, 11, 12, 13], [13, 10, 11, 12], [10, 10, 11, 13]])
def test_flagged_rows_are_marked_as_marking_them_by_label_does(index: list[int]) -> None:
    """Rows found by position (labels unique) are marked as `.loc` by label marks them."""
    from types import SimpleNamespace

    from hyposcreen.recipe_contracts import apply_contract_warnings
    from hyposcreen.validate.outcomes import ValidationReport

    def table() -> pd.DataFrame:
        frame = pd.DataFrame({"bucket": BUCKETS, "reason": [None, "status", None, None]})
        return frame.astype({"bucket": "str", "reason": object}).set_axis(pd.Index(index))

    # row -> the expectation that flagged it, and the reason code its warning quarantines for
    flagged = {13: "expect_unit", 11: "expect_range", 12: "expect_unit", 99: "held by none"}
    reasons = {13: "bad_unit", 11: "implausible", 12: "bad_unit", 99: "bad_unit"}

    class Flagged(ValidationReport):
        def warning_rows(self, name: str) -> dict[int, str]:
            return flagged if name == "labs" else {}

        def warning_reasons(self, name: str) -> dict[int, str]:
            return reasons if name == "labs" else {}

    cleaned = SimpleNamespace(labs=table(), medications=table(), diagnoses=table())
    done = apply_contract_warnings(Flagged([], [], 0.0), cleaned)  # type: ignore[arg-type]
    marked = table()
    labels = [k for k in flagged if k in marked.index and (marked.loc[[k], "bucket"] == USED).all()]
    marked.loc[labels, "bucket"] = QUARANTINED
    marked.loc[labels, "reason"] = [reasons[k] for k in labels]  # the code alone (spec §6)
    assert done["labs"] == len(labels)
    pd.testing.assert_frame_equal(cleaned.labs, marked, check_exact=True)
