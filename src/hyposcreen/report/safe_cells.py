"""Spreadsheet-safe cell text: the one neutraliser every CSV and XLSX writer uses.

A spreadsheet treats a cell whose text starts with `=`, `+`, `-`, `@`, a tab or a carriage
return as a formula (OWASP "CSV injection"), and one in an East Asian locale reads the
full-width `＝`, `＋`, `－` and `＠` as those signs. Blanks before the sign do not make it
safe: an import that trims cells (LibreOffice's "Trim spaces") reads ` =1+1` as `=1+1`, so
spaces, no-break and ideographic spaces before a sign count too. Such text gets a leading
single quote, which spreadsheets show as text and never evaluate. A leading line feed counts
too: a reader that splits a quoted cell at its line break starts a row with the formula that
follows. Text is neutralised whatever it looks like: a patient id "-0012" or "+1" in a text
column would otherwise be read as the number -12 or 1, and the identifier lost. Only the
columns the caller names as numeric (numbers written as text, e.g. "-5.0" with one decimal)
keep a plain number as it is. Values that are not text (numbers, times, booleans, missing)
pass through unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hyposcreen.arrow_columns import arrow_text, holds_arrow_text
from hyposcreen.ingest.excel_forms import FORMULA_STARTS

_PLAIN_NUMBER = r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?"
# blanks a trimming import skips before a sign: Python's whitespace, written out so that Arrow's
# RE2 (whose \s is ASCII only) and Python's `re` read the pattern alike
LEADING_BLANKS = " \t\n\v\f\r\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# a text starting with one of FORMULA_STARTS, after blanks or none
FORMULA_START_PATTERN = f"^[{LEADING_BLANKS}]*[=+\\-@\t\r\n＝＋－＠]"
_RISKY = FORMULA_START_PATTERN
_RISKY_TEXT = re.compile(FORMULA_START_PATTERN)
# `_PLAIN_NUMBER` as pandas' str.fullmatch hands it to Arrow (anchored, in two groups)
_FULL_NUMBER = f"^(({_PLAIN_NUMBER})$)"
# a frame's attribute naming its columns of numbers written as text (set by the code that
# formats them, e.g. review_list.to_text), honoured like the `numeric` argument
NUMERIC_ATTR = "numbers_as_text"
FIELDS_AT_ONCE = 65_536  # a frame with fewer text cells is tested in one pass (not per column)


def neutralise_text(value: object) -> object:
    """One text cell: risky text gets a leading `'`; anything else is returned as it is."""
    if isinstance(value, str) and _RISKY_TEXT.match(value):
        return "'" + value
    return value


def neutralise_frame(frame: pd.DataFrame, numeric: Iterable[str] = ()) -> pd.DataFrame:
    """A copy of `frame` whose text columns are neutralised (vectorised per column); numeric,
    boolean and time columns are untouched, and so is a plain number in a column named in
    `numeric` or in the frame's `NUMERIC_ATTR` attribute. Returns `frame` itself when
    nothing is risky. Only the columns that can hold text are taken out of the frame (their
    types read once), and a short frame with no risky text anywhere is returned after one
    test of all its Arrow text."""
    numbers_as_text = set(numeric) | set(frame.attrs.get(NUMERIC_ATTR, ()))
    if not frame.columns.is_unique:  # a name is not one column: each name as pandas gives it
        columns = {c: frame[c] for c in dict.fromkeys(frame.columns)}
        return _neutralised(frame, columns, {}, numbers_as_text)
    source = frame
    if frame.attrs:  # its columns taken from a view without them: pandas copies them to each
        source = frame.copy(deep=False)
        source.attrs = {}
    dtypes = source.dtypes
    columns = {c: source[c] for c, dtype in dtypes.items() if _may_hold_text(dtype)}
    return _neutralised(frame, columns, _risky_arrow_columns(columns, len(frame)), numbers_as_text)


def _may_hold_text(dtype: object) -> bool:
    """Columns `_risky` tests: text, categories and objects (numbers, booleans, times never)."""
    return isinstance(dtype, (pd.StringDtype, pd.CategoricalDtype)) or (
        pd.api.types.is_object_dtype(dtype)
    )


def _neutralised(
    frame: pd.DataFrame,
    columns: dict[str, pd.Series],
    risky_in_arrow: dict[str, np.ndarray],
    numbers_as_text: set[str],
) -> pd.DataFrame:
    """`frame` with the risky text of `columns` (its columns that may hold text, by name)
    neutralised; `risky_in_arrow` holds where some of them are risky, found already."""
    changed: dict[str, pd.Series] = {}
    for column, series in columns.items():
        risky_at = risky_in_arrow[column] if column in risky_in_arrow else _risky(series)
        if risky_at is None or not risky_at.any():
            continue
        if column in numbers_as_text:  # a plain number written as text stays a number
            risky_at[np.flatnonzero(risky_at)[_plain_numbers(series, risky_at)]] = False
            if not risky_at.any():
                continue
        text = series[risky_at].astype("str")
        fixed = series.astype(object).to_numpy(copy=True)
        fixed[risky_at] = np.char.add("'", text.to_numpy().astype(str)).astype(object)
        changed[column] = pd.Series(fixed, index=series.index, dtype=object)
    if not changed:
        return frame
    return frame.assign(**changed)


def _plain_numbers(series: pd.Series, at: np.ndarray) -> np.ndarray:
    """Which of the column's texts `at` (all present) are a plain number: `str.fullmatch` of
    `_PLAIN_NUMBER` (Python's `re`). ASCII Arrow text without a line feed is matched by Arrow
    (RE2), as pandas itself matches such text: there RE2 and `re` agree (`\\d` only differs
    on other digits, `$` before a final line feed); pandas would first parse the pattern
    again for every column. Any other text is matched by pandas."""
    if holds_arrow_text(series):
        text = arrow_text(series).filter(pa.array(at))
        if (
            pc.all(pc.string_is_ascii(text)).as_py() is not False
            and not pc.any(pc.match_substring(text, "\n")).as_py()
        ):
            return np.asarray(pc.fill_null(pc.match_substring_regex(text, _FULL_NUMBER), False))
    text = series[at].astype("str")
    return text.str.fullmatch(_PLAIN_NUMBER).to_numpy(dtype=bool)


def _risky_arrow_columns(columns: dict[str, pd.Series], rows: int) -> dict[str, np.ndarray]:
    """`_risky` of every column of Arrow text of a short frame, tested in one pass over all
    of them (one pattern compiled for the frame, not one per column), each column's own
    array of flags; {} for a long frame (joining its columns would copy their text for no
    gain)."""
    arrow = [c for c, series in columns.items() if holds_arrow_text(series)]
    if not arrow or rows * len(arrow) > FIELDS_AT_ONCE:  # long: a column at a time
        return {}
    texts = [arrow_text(columns[c]) for c in arrow]
    flags = risky_starts(pa.concat_arrays(texts))
    if not flags.any():
        return dict.fromkeys(arrow, np.zeros(0, dtype=bool))  # none risky: nothing to mark
    ends = np.cumsum([len(text) for text in texts])
    return {c: flags[end - len(t) : end] for c, t, end in zip(arrow, texts, ends, strict=True)}


_ASCII_STARTS = "".join(s for s in FORMULA_STARTS if s.isascii())
_RISKY_BYTES = np.frombuffer(_ASCII_STARTS.encode("ascii"), dtype=np.uint8)
# first bytes of the LEADING_BLANKS that are no sign themselves: a text starting with one is
# matched against the pattern (rare: a blank first)
_BLANK_LEADS = np.array([0x20, 0x0B, 0x0C, 0xC2, 0xE1, 0xE2, 0xE3], dtype=np.uint8)
# the full-width signs: three UTF-8 bytes each, all starting 0xEF; their last two as one number
_WIDE_LEAD = 0xEF
_WIDE_TAILS = np.array(
    [int.from_bytes(s.encode()[1:], "big") for s in FORMULA_STARTS if not s.isascii()],
    dtype=np.uint32,
)


def risky_starts(text: pa.Array) -> np.ndarray:
    """Where Arrow text (large_string) starts as a formula would (`_RISKY`; False where
    missing), read from each text's first bytes: an ASCII sign is its first byte (no other
    character's UTF-8 encoding starts with an ASCII byte), a full-width one its first three
    (no pattern to run over the text); only a text whose first byte may begin a blank is
    matched against the pattern, for a sign after its blanks."""
    if not pa.types.is_large_string(text.type):
        return np.array(pc.fill_null(pc.match_substring_regex(text, _RISKY), False), dtype=bool)
    _, offsets_buffer, data = text.buffers()
    if data is None or len(text) == 0:
        return np.zeros(len(text), dtype=bool)
    offsets = np.frombuffer(offsets_buffer, np.int64)[text.offset : text.offset + len(text) + 1]
    filled = np.diff(offsets) > 0
    first = np.zeros(len(text), dtype=np.uint8)
    first[filled] = np.frombuffer(data, np.uint8)[offsets[:-1][filled]]
    risky = filled & np.isin(first, _RISKY_BYTES)
    wide = np.flatnonzero((first == _WIDE_LEAD) & (np.diff(offsets) >= 3))
    if wide.size:
        data_bytes = np.frombuffer(data, np.uint8)
        starts = offsets[:-1][wide]
        tails = data_bytes[starts + 1].astype(np.uint32) << 8 | data_bytes[starts + 2]
        risky[wide] = np.isin(tails, _WIDE_TAILS)
    blank = np.flatnonzero(filled & np.isin(first, _BLANK_LEADS))
    if blank.size:
        after_blanks = pc.match_substring_regex(text.take(pa.array(blank)), _RISKY)
        risky[blank] = np.asarray(pc.fill_null(after_blanks, False), dtype=bool)
    if text.null_count:
        risky &= np.asarray(text.is_valid(), dtype=bool)
    return risky


def _risky(series: pd.Series) -> np.ndarray | None:
    """Where a column's text starts as a formula would (None for a column of numbers,
    booleans or times, or of categories none of which is risky). Text held by Arrow is tested
    by Arrow itself (RE2, as pandas' own `str.contains` does for this pattern), without a
    pandas Series per step."""
    if isinstance(series.dtype, pd.StringDtype):  # text or missing: test it as it is
        if holds_arrow_text(series):
            return risky_starts(arrow_text(series))
        return series.str.contains(_RISKY, regex=True, na=False).to_numpy(dtype=bool, copy=True)
    if isinstance(series.dtype, pd.CategoricalDtype):  # each category's text tested once
        categories = _risky(pd.Series(series.cat.categories, dtype=object))
        if categories is None or not categories.any():
            return None
        codes = series.cat.codes.to_numpy()
        return np.where(codes >= 0, categories[codes], False)
    if pd.api.types.is_object_dtype(series):  # any object: test its text
        present = series.notna()
        text = series.where(present, "").astype("str")
        risky = present & text.str.contains(_RISKY, regex=True)
        return risky.to_numpy(dtype=bool, copy=True)
    return None  # numbers, booleans, times
