"""The times a contract compares with each other, as the instants they name on a night the
clocks go back.

Times are held as naive site-local wall time, with a hidden column marking the rows a written
offset or typed zone places in the repeated hour's second occurrence (ingest/clock_folds.py).
A check comparing two times of a row (medications: `end_time` not before `start_time`) would
compare wall times, and a medication started at 02:40 summer time and stopped at 02:20 winter
time (40 minutes later) would fail it and be quarantined. Where a table carries such marks,
the columns a column-pair check compares are given to it as UTC instants (spec §11: elapsed
time); on other nights, and for the other checks, the view holds wall time as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from hyposcreen.ingest.clock_folds import fold_column, second_marks
from hyposcreen.ingest.timeparse import is_utc, to_instants

PAIR_CHECK = "expect_column_pair_values_a_to_be_greater_than_b"


def compared_as_instants(
    frame: pd.DataFrame, spec: Mapping[str, Any], timezone: str
) -> dict[str, pd.Series]:
    """The time columns of `frame` a column-pair check of the suite `spec` compares, as UTC
    instants read with their fold columns, for each pair with a second occurrence in a row;
    none in UTC or without such rows."""
    if is_utc(timezone):
        return {}
    converted: dict[str, pd.Series] = {}
    for expectation in spec["expectations"]:
        if expectation["type"] != PAIR_CHECK:
            continue
        pair = [expectation["kwargs"].get(k) for k in ("column_A", "column_B")]
        if not all(isinstance(c, str) and c in frame.columns for c in pair):
            continue
        if not any(_has_second(frame, c) for c in pair):
            continue
        for column in pair:
            if pd.api.types.is_datetime64_dtype(frame[column].dtype):
                second = frame.get(fold_column(column))
                converted[column] = to_instants(frame[column], timezone, second)
    return converted


def _has_second(frame: pd.DataFrame, column: str) -> bool:
    marks = second_marks(frame, column)
    return marks is not None and bool(marks.any())
