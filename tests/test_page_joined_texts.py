"""The page's texts made in one joined text (html_text): escaping, runs of rows, rows of parts
and printed numbers give what the one-text-at-a-time and pandas ways give, a text holding the
joins' own marks (NUL, \\x01) or a value that is not a plain `str` included."""

from __future__ import annotations

import numpy as np
import pandas as pd
from markupsafe import Markup, escape

from hyposcreen.report.html_text import (
    _escaped_in_arrow,
    escape_texts,
    formatted,
    join_part_runs,
    join_parts,
    join_runs,
)
from hyposcreen.report.numbers import one_decimal_array

TEXTS = ["a & b", "\"'<>&", "&amp;", "", "plain", "é<ü>", "nul\x00<x>", "mark\x01", "x" * 40]


def test_a_column_is_escaped_as_markupsafe_escapes_each_text() -> None:
    for texts in (TEXTS, [t for t in TEXTS if "\x00" not in t], ["no special"] * 3, []):
        column = np.array(texts, dtype=object)
        assert list(escape_texts(column)) == [str(escape(t)) for t in texts]
    for odd in (["<a>", Markup("<b>"), "c"], ["<a>", None, np.nan]):  # not all plain `str`
        column = np.array(odd, dtype=object)
        assert list(escape_texts(column)) == list(_escaped_in_arrow(column))


def test_runs_of_rows_joined_at_once_equal_the_rows_joined_one_by_one() -> None:
    rng = np.random.default_rng(3)
    for texts in (TEXTS, [t for t in TEXTS if "\x01" not in t]):
        count = 40
        first = np.array(rng.choice(texts, count), dtype=object)
        second = np.array(rng.choice(texts, count), dtype=object)
        starts = rng.random(count) < 0.3
        starts[0] = True
        parts = ["<p>", first, "|", second, "</p>"]
        rows = "<p>" + first + "|" + second + "</p>"
        assert list(join_part_runs(parts, starts)) == list(join_runs(rows, starts))
    assert len(join_part_runs(["x"], np.zeros(0, dtype=bool))) == 0


def test_rows_of_parts_join_row_by_row() -> None:
    numbers = np.char.mod("%.1f", np.array([1.25, 2.0, -3.5]))  # fixed-width numpy text
    parts = ["<tr>", numbers, pd.Series(["a", "b", "c"], index=[7, 8, 9]), ["x", "y", "z"], "\n"]
    assert join_parts(parts, 3) == "<tr>1.2ax\n<tr>2.0by\n<tr>-3.5cz\n"
    assert join_parts(parts, 0) == ""


def test_numbers_print_as_numpy_and_the_one_decimal_rounding_print_them() -> None:
    values = np.array([125.05, -3.25, 0.0, -0.0, np.nan, np.inf, 1e20, 2.675, 119.95])
    for pattern in ("%.1f", "%.3f", "%.0f"):
        assert list(formatted(pattern, values)) == list(np.char.mod(pattern, values))
    # rounded half away from zero as the value is written (125.05, 2.675), then printed
    assert one_decimal_array(values).tolist() == [
        *("125.1", "-3.3", "0.0", "0.0", "", "inf", "100000000000000000000.0", "2.7", "120.0")
    ]
