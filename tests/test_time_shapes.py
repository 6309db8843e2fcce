"""What unread time texts look like (time_shapes, rules/time_shapes.csv), with hand-counted
shapes: each text takes the first shape it matches, and no number is read as a time."""

from __future__ import annotations

import pandas as pd

from hyposcreen.quarantine_text import KeyValues
from hyposcreen.time_shapes import UNDECLARED, shape_counts, unread_told


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


def told(texts: list[str]) -> str:
    """What the warning says of these unread texts, words told by the quarantine's own test
    of a time (a digit other than 0: KeyValues.holds_time)."""
    values = pd.Series(texts, dtype=object)
    others = pd.Series([None] * len(texts), dtype=object)
    return unread_told(values, KeyValues(values, others).holds_time())


def test_the_sentence_counts_each_shape_and_says_each_remedy_once() -> None:
    sentence = told(["46346.25", "46347", "1763614800"])
    assert sentence.startswith("Of them, 2 look like Excel serial day numbers (")
    assert "; 1 like Unix epoch seconds (" in sentence
    assert sentence.count("Numbers are never read as times") == 2  # two remedies, each once
    assert told(["46346.25", "46347.5"]).count("Numbers are never") == 1


def test_times_of_no_known_shape_ask_for_a_date_format() -> None:
    assert told(["2026-11-20 06h10", "Nov 20 2026"]) == UNDECLARED


def test_words_and_zeros_are_told_as_no_times_without_asking_for_a_date_format() -> None:
    # `00/00/0000` would take the numeric-date shape were it told as a time
    sentence = told(["unknown", "N/A", "PRN", "0000-00-00 00:00:00", "00/00/0000"])
    assert sentence.startswith("All 5 are written as words, not times (")
    assert "the export left them blank in another way" in sentence
    assert UNDECLARED not in sentence and "numbers with day and month" not in sentence


def test_words_among_shaped_times_are_told_with_the_shapes_remedy() -> None:
    sentence = told(["20/11/2026 06:10", "21/11/2026 07:00", "unknown"])
    assert sentence.startswith(
        "Of them, 2 look like day-first dates (31/12/2026, 31.12.26: the first number is above "
        "12); 1 is written as words, not times ("
    )
    assert "Declare the format in the site mapping's datetime_formats" in sentence
    assert "The words are no times: the export left them blank in another way" in sentence
    assert UNDECLARED not in sentence


def test_words_among_times_of_no_known_shape_ask_for_a_date_format_for_those_times() -> None:
    sentence = told(["2026-11-20 06h10", "N/A", "N/A"])
    assert sentence.startswith("Of them, 2 are written as words, not times (")
    assert "; 1 is a time of no shape known here." in sentence
    assert sentence.endswith(
        "The times of no known shape: a date format the site mapping does not declare "
        "(datetime_formats)?"
    )
