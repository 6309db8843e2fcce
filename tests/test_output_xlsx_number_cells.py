"""The workbook's number and time cells are made for all such columns of a sheet at once
(xlsx_cells.frame_cell_parts): each column's cells are those it makes alone (cell_parts)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hyposcreen.report.xlsx_cells import cell_parts, frame_cell_parts


def _joined(parts: list) -> list[str]:
    count = next(len(p) for p in parts if not isinstance(p, str))
    columns = [np.full(count, p, dtype=object) if isinstance(p, str) else p for p in parts]
    return ["".join(row) for row in np.column_stack(columns).tolist()]


def test_columns_made_together_equal_each_column_made_alone() -> None:
    frame = pd.DataFrame(
        {
            "rank": pd.Series([1, 2, 3], dtype="int64"),
            "sodium": [118.4, np.nan, -0.0],
            "text": pd.Series(["a & b", None, " x"], dtype="str"),
            "time": pd.to_datetime(["2026-11-20 05:07:30", None, "1900-02-01 12:00:00"]),
            "flag": [True, False, True],
            "glucose": [0.0, 1e20, 2.5e-7],
            "count": pd.Series([7, None, 0], dtype="Int64"),
        }
    )
    together = frame_cell_parts(frame)
    for position, name in enumerate(frame.columns):
        assert _joined(together[position]) == _joined(cell_parts(frame[name])), name
    assert _joined(together[1]) == [' t="n"><v>118.4</v></c>', ' t="n" />', ' t="n"><v>-0</v></c>']
    assert _joined(together[6])[1] == ' t="n" />'
    assert _joined(together[3])[0] == ' t="n"><v>46346.21354166666</v></c>'


def test_a_frame_of_numbers_only_and_one_without_rows() -> None:
    numbers = pd.DataFrame({"a": [1.5, 2.0], "b": pd.to_datetime(["2026-01-01", None])})
    together = frame_cell_parts(numbers)
    assert _joined(together[0]) == [' t="n"><v>1.5</v></c>', ' t="n"><v>2</v></c>']
    assert _joined(together[1]) == [' t="n"><v>46023</v></c>', ' t="n" />']
    empty = frame_cell_parts(numbers.iloc[:0])
    assert [len(p) for p in empty[0] if not isinstance(p, str)] == [0, 0, 0]


def test_times_of_several_resolutions_and_numbers_of_several_types_made_together() -> None:
    # times of one type become serials in one call; each column's cells stay its own
    stamps = ["2026-11-20 05:07:30.250000", None, "1900-02-28 23:59:59.000000"]
    frame = pd.DataFrame(
        {
            "seconds": pd.Series(pd.to_datetime(stamps)).astype("datetime64[s]"),
            "micro": pd.Series(pd.to_datetime(stamps)).astype("datetime64[us]"),
            "nano": pd.Series(pd.to_datetime(stamps)).astype("datetime64[ns]"),
            "micro_again": pd.Series(pd.to_datetime(stamps[::-1])).astype("datetime64[us]"),
            "small": pd.Series([1.5, np.nan, np.inf], dtype="float32"),
            "bytes": pd.Series([0, 255, 7], dtype="uint8"),
        }
    )
    together = frame_cell_parts(frame)
    for position, name in enumerate(frame.columns):
        assert _joined(together[position]) == _joined(cell_parts(frame[name])), name
    assert _joined(together[3])[1] == ' t="n" />'
