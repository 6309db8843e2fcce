"""Text for HTML built a column at a time: escaping as Jinja2 autoescape does, and numbers
printed as Python prints them (so markup built here equals the template's)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from markupsafe import escape

from hyposcreen.arrow_columns import holds_arrow_text

# the markup of many rows, in order: texts shared by every row and columns of one text per row
Parts = list[Any]


def join_parts(parts: Parts, count: int) -> str:
    """The rows' markup as one string: row by row, each row's parts in order (one join, no
    row string built piece by piece)."""
    if count == 0:
        return ""
    rows = np.empty((count, len(parts)), dtype=object)  # a text shared by every row: set once
    for position, part in enumerate(parts):
        rows[:, position] = part if isinstance(part, str) else np.asarray(part, dtype=object)
    return "".join(rows.ravel().tolist())


_HTML_SPECIAL = "[&<>\"']"
_HTML_REFERENCES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&#34;"), ("'", "&#39;"))


def escape_html(text: pd.Series | np.ndarray) -> pd.Series:
    """markupsafe's escape of each text: & < > " ' as &amp; &lt; &gt; &#34; &#39; (a column
    of plain `str` escaped in one joined text; otherwise a column of a few hundred texts, each
    distinct one escaped by markupsafe itself, and a longer one in Arrow, where only the texts
    holding one of them are rewritten)."""
    return pd.Series(escape_texts(text), dtype=object)


def escape_texts(text: pd.Series | np.ndarray) -> np.ndarray:
    """`escape_html` as an object array (no Series made): a column of Python strings is joined
    into one text, its specials replaced in it at once and the text cut again (a NUL, which no
    page text holds, between them); a column holding anything else as escape_html does it."""
    objects = np.asarray(text, dtype=object)
    shown = _escaped_joined(objects)
    if shown is not None:
        return shown
    if len(objects) <= _ESCAPED_ONE_BY_ONE:
        shown = per_distinct(objects, _escaped)
        if shown is not None:
            return shown
    return _escaped_in_arrow(objects).to_numpy(dtype=object)


def _escaped_joined(objects: np.ndarray) -> np.ndarray | None:
    """markupsafe's escape of each text of a column of plain `str` (None for anything else, or
    a text holding a NUL): the five replacements made once in the column joined by NULs."""
    texts = objects.tolist()
    if not texts:
        return np.empty(0, dtype=object)
    if set(map(type, texts)) != {str}:
        return None
    joined = "\x00".join(texts)
    if not any(character in joined for character, _ in _HTML_REFERENCES):  # no pattern run
        return objects.copy()
    if joined.count("\x00") != len(texts) - 1:
        return None
    for character, reference in _HTML_REFERENCES:
        joined = joined.replace(character, reference)
    shown = np.empty(len(texts), dtype=object)
    shown[:] = joined.split("\x00")
    return shown


_ESCAPED_ONE_BY_ONE = 4096  # up to a page's slice of cases: longer columns go through Arrow


def _escaped(text: str) -> str:
    return str(escape(text))


def _escaped_in_arrow(objects: np.ndarray) -> pd.Series:
    """escape_html of each text by Arrow's substring replacements."""
    try:
        texts = pa.array(objects, type=pa.large_string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # not all of them text: as pandas makes it
        texts = None
    if texts is None or texts.null_count:
        return _escape_with_pandas(objects)
    special = pc.match_substring_regex(texts, _HTML_SPECIAL)
    if not pc.any(special).as_py():
        return pd.Series(objects, dtype=object)
    escaped = texts.filter(special)
    for character, reference in _HTML_REFERENCES:
        escaped = pc.replace_substring(escaped, character, reference)
    shown = objects.copy()
    shown[np.asarray(special, dtype=bool)] = escaped.to_numpy(zero_copy_only=False)
    return pd.Series(shown, dtype=object)


def _escape_with_pandas(objects: np.ndarray) -> pd.Series:
    text = pd.Series(objects, dtype=object).astype("str")
    for character, reference in _HTML_REFERENCES:
        text = text.str.replace(character, reference, regex=False)
    return text.astype(object)


def one_place(values: np.ndarray | float) -> np.ndarray:
    """Python's `round(value, 1)` of each float (correctly rounded, as '%.1f' prints it)."""
    return np.char.mod("%.1f", np.asarray(values, dtype="float64")).astype("float64")


def number_texts(values: np.ndarray) -> np.ndarray:
    """`str(value)` of each float (the shortest text that reads back as the same float)."""
    return np.asarray(values, dtype="float64").astype("str").astype(object)


def one_place_texts(values: np.ndarray) -> np.ndarray:
    """`number_texts(one_place(values))` without the round trip: the '%.1f' text of a number
    of magnitude below 1e16 (and of NaN or infinity) is already the shortest text of the
    float it reads as."""
    numbers = np.asarray(values, dtype="float64")
    if (np.abs(numbers[np.isfinite(numbers)]) >= 1e16).any():  # str() writes an exponent
        return number_texts(one_place(numbers))
    return formatted("%.1f", numbers)


def formatted(pattern: str, values: np.ndarray) -> np.ndarray:
    """`np.char.mod(pattern, values)` of floats as an object array of Python strings: each
    number printed by the same `%` (no array of fixed-width text made and converted)."""
    shown = np.empty(len(values), dtype=object)
    shown[:] = list(map(pattern.__mod__, np.asarray(values, dtype="float64").tolist()))
    return shown


def int_texts(values: np.ndarray) -> np.ndarray:
    """`str(value)` of each integer, as an object array."""
    return np.asarray(values).astype(str).astype(object)


def choose(condition: np.ndarray | pd.Series, when_true: Any, when_false: Any) -> np.ndarray:
    """`np.where` over texts, as an object array (so it concatenates with other texts); a
    text given once is shared by every row it goes to, never copied per row."""
    picks = np.asarray(condition, dtype=bool)
    if isinstance(when_true, str) and isinstance(when_false, str):
        return np.array([when_false, when_true], dtype=object)[picks.view(np.uint8)]
    return np.where(picks, _objects(when_true), _objects(when_false)).astype(object, copy=False)


def _objects(texts: Any) -> Any:
    """A column of texts as an object array; one text stays one text."""
    if isinstance(texts, str):
        return np.array(texts, dtype=object)
    if isinstance(texts, pd.Series):
        return texts.to_numpy(dtype=object)
    return np.asarray(texts, dtype=object)


def join_runs(texts: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """The texts of each run joined, where `starts` marks the first row of each run (rows come
    grouped): one text per run, in order."""
    texts = np.asarray(texts, dtype=object)
    if len(texts) == 0:
        return texts
    return np.add.reduceat(texts, np.flatnonzero(np.asarray(starts, dtype=bool)))


_RUN_END = "\x01"  # after each run's last row while runs are joined (no page text holds it)


def join_part_runs(parts: Parts, starts: np.ndarray) -> np.ndarray:
    """`join_runs` of the rows' markup `parts` (as join_parts takes them): every row joined
    in one text, cut again after each run's last row, so no row's text is made on its own."""
    starts = np.asarray(starts, dtype=bool)
    count = len(starts)
    if count == 0:
        return np.empty(0, dtype=object)
    ends = np.r_[starts[1:], True]
    pieces = join_parts([*parts, choose(ends, _RUN_END, "")], count).split(_RUN_END)
    if len(pieces) == int(ends.sum()) + 1:
        shown = np.empty(len(pieces) - 1, dtype=object)
        shown[:] = pieces[:-1]
        return shown
    rows = np.full(count, "", dtype=object)  # a text holding the mark: row by row
    for part in parts:
        rows = rows + (part if isinstance(part, str) else np.asarray(part, dtype=object))
    return join_runs(rows, starts)


def run_starts(*keys: np.ndarray) -> np.ndarray:
    """True where any of the `keys` differs from the row before (and on the first row)."""
    count = len(keys[0])
    starts = np.zeros(count, dtype=bool)
    if count:
        starts[0] = True
        for key in keys:
            key = np.asarray(key)
            starts[1:] |= key[1:] != key[:-1]
    return starts


def per_distinct(values: np.ndarray, rewrite: Callable[[str], Any]) -> np.ndarray | None:
    """`rewrite` of each text, called once per distinct text (a list holds few distinct texts:
    one pass of Python over them beats a column of pandas text operations on every row), as
    an object array; None when a value is missing or not a str (the caller's general path
    decides those)."""
    values = np.asarray(values, dtype=object)
    position, distinct = pd.factorize(values)
    if len(values) and (position < 0).any():
        return None
    if not all(type(value) is str for value in distinct):
        return None
    shown = np.empty(len(distinct), dtype=object)
    shown[:] = [rewrite(value) for value in distinct]
    return shown[position]


def looked_up(values: np.ndarray, table: Mapping[Any, str]) -> np.ndarray | None:
    """`Series.map(table)` of each value as an object array, each distinct value looked up
    once; None when a value is missing or not in `table` (map would give NaN there)."""
    values = np.asarray(values)
    position, distinct = pd.factorize(values)
    if len(values) and (position < 0).any():
        return None
    if not all(value in table for value in distinct):
        return None
    shown = np.empty(len(distinct), dtype=object)
    shown[:] = [table[value] for value in distinct]
    return shown[position]


_SEMICOLONS = re.compile(";+")


def texts_of(values: pd.Series) -> pd.Series:
    """Each value as pandas writes it as text (`astype("str")`), as Python strings (index
    0..n-1); a column of Arrow text or of integers without a missing value is taken as it is."""
    if not values.hasnans:
        if holds_arrow_text(values):
            return pd.Series(values.to_numpy(dtype=object), dtype=object)
        if isinstance(values.dtype, np.dtype) and values.dtype.kind in "iu":
            return pd.Series(values.to_numpy().astype(str).astype(object), dtype=object)
    return pd.Series(values.to_numpy(), dtype=object).astype("str").astype(object)


def text_objects(values: pd.Series) -> np.ndarray:
    """`texts_of` as an object array (no Series made for a column of Arrow text or of
    integers without a missing value)."""
    if not values.hasnans:
        if holds_arrow_text(values):
            return values.to_numpy(dtype=object)
        if isinstance(values.dtype, np.dtype) and values.dtype.kind in "iu":
            return values.to_numpy().astype(str).astype(object)
    return texts_of(values).to_numpy()


def joined_list(values: pd.Series, separator: str, underscores: str = "_") -> pd.Series:
    """'a;;b;' -> 'a<separator>b' (the non-empty items of a ';' list; `underscores` in
    their place), in Arrow text ops (RE2 and Python agree on ';+'); a list's few distinct
    texts are rewritten once each by Python's own (`per_distinct`)."""
    return pd.Series(joined_objects(values, separator, underscores), dtype=object)


def joined_objects(values: pd.Series, separator: str, underscores: str = "_") -> np.ndarray:
    """`joined_list` as an object array."""
    shown = per_distinct(
        values.to_numpy(dtype=object),
        lambda one: _SEMICOLONS.sub(separator, one.strip(";")).replace("_", underscores),
    )
    if shown is not None:
        return shown
    text = pd.Series(values.to_numpy(), dtype=object).astype("str")
    text = text.str.strip(";").str.replace(r";+", separator, regex=True)
    if underscores != "_":
        text = text.str.replace("_", underscores, regex=False)
    return text.to_numpy(dtype=object)


# Unicode's direction controls (embeddings, overrides, isolates) reorder what a browser shows
_DIRECTION_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def direction_controls_shown(texts: np.ndarray) -> np.ndarray:
    """Extract texts for the page with each direction control written as its code point
    (`Lasix [U+202E]et 04 lm`, which a browser would show as "Lasix ml 40 te"), so a text reads
    in the order it was stored; a column without any is returned as it is (one search)."""
    objects = np.asarray(texts, dtype=object)
    strings = [t if isinstance(t, str) else "" for t in objects]
    if _DIRECTION_CONTROLS.search("".join(strings)) is None:
        return objects
    shown = objects.copy()
    for position, text in enumerate(strings):
        if _DIRECTION_CONTROLS.search(text):
            shown[position] = _DIRECTION_CONTROLS.sub(lambda m: f"[U+{ord(m.group()):04X}]", text)
    return shown
