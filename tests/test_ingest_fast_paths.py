"""The reader's shortcuts give what the row-by-row work gives: the analyte selector that keeps
a whole batch without copying it, the analytes and row numbers made text in Arrow."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hyposcreen.clean.selector import select_known_analytes
from hyposcreen.ingest.frames import row_texts
from hyposcreen.rules.loader import load_rules


def test_row_numbers_as_text_are_what_astype_str_gives() -> None:
    numbers = pd.Series(np.array([2, 3, 10, 1_000_001], dtype=np.int64), index=[5, 6, 7, 9])
    texts = row_texts(numbers)
    assert texts.equals(numbers.astype("str"))
    assert texts.dtype == numbers.astype("str").dtype
    assert texts.tolist() == ["2", "3", "10", "1000001"]


def test_the_selector_keeps_a_whole_batch_as_it_keeps_part_of_one() -> None:
    """Every row relevant (no copy) or some dropped: the same rows, index and analytes."""
    rules = load_rules()
    frame = pd.DataFrame(
        {
            "loinc": pd.array(["2951-2", "2345-7", None], dtype="str"),
            "lab_name": pd.array([None, None, "Sodium, serum"], dtype="str"),
            "specimen_type": pd.array(["serum", "serum", "serum"], dtype="str"),
            "value_raw": pd.array(["128", "5.1", "131"], dtype="str"),
        },
        index=pd.RangeIndex(3, 6),
    )
    kept, _ = select_known_analytes(frame, rules)
    assert kept.index.equals(frame.index)
    assert kept["analyte"].tolist() == ["sodium", "glucose", "sodium"]
    assert kept["analyte"].dtype == "str"
    assert "analyte" not in frame.columns  # the caller's frame is not changed
    dropped = pd.concat([frame, frame.iloc[[0]].assign(loinc="9999-9")]).reset_index(drop=True)
    part, _ = select_known_analytes(dropped, rules)
    assert part.index.tolist() == [0, 1, 2]
    assert part["analyte"].tolist() == ["sodium", "glucose", "sodium"]
    assert pc.all(pc.is_valid(pa.array(part["analyte"]))).as_py()
