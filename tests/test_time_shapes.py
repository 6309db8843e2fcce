"""What unread time texts look like (time_shapes, rules/time_shapes.csv), with hand-counted
shapes: each text takes the first shape it matches, and no number is read as a time."""

from __future__ import annotations

import pandas as pd

from hyposcreen.time_shapes import shape_counts, shapes_told


def test_each_text_takes_the_first_shape_it_matches() -> None:
    texts = pd.Series(
        [
            "46346.2083333",  # 2026-11-20 05:00 as an Excel serial
            " 46346 ",  # a date alone, padded
            "1763614800",  # epoch seconds
            "1763614800.5",
            "1763614800000",  # epoch milliseconds
            "1763614800000000000",  # epoch nanoseconds
            "202611200500",  # digits alone: 2026-11-20 05:00, not epoch milliseconds
            "20/11/2026 05:00",  # day-first
            "20.11.2026",
            "11/20/2026 05:00",  # month-first
            "05/11/2026 05:00",  # either order
            "2026112005",  # digits alone: 2026-11-20, 05 h (not epoch seconds)
            "1763614800000.0",  # epoch milliseconds through a spreadsheet
            "20.11.26 05:00",  # day-first, two-digit year
            "11/20/26",  # month-first, two-digit year
            "unknown",  # none
            None,
        ]
    )
    assert shape_counts(texts) == {
        "compact_date_time": 2,
        "excel_serial": 2,
        "epoch_seconds": 2,
        "epoch_milliseconds": 2,
        "epoch_microseconds": 1,
        "day_first": 3,
        "month_first": 2,
        "numeric_date": 1,
    }


def test_the_sentence_counts_each_shape_and_says_each_remedy_once() -> None:
    told = shapes_told(pd.Series(["46346.25", "46347", "1763614800"]))
    assert told is not None
    assert told.startswith("Of them, 2 look like Excel serial day numbers (")
    assert "; 1 like Unix epoch seconds (" in told
    assert told.count("Numbers are never read as times") == 2  # two remedies, each once
    assert shapes_told(pd.Series(["46346.25", "46347.5"])).count("Numbers are never") == 1  # type: ignore[union-attr]


def test_texts_of_no_known_shape_tell_nothing() -> None:
    assert shapes_told(pd.Series(["unknown", "n/a", None])) is None
