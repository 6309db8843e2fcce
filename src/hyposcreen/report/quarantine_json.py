"""The quarantine rows' `original` column: each row's source values as one JSON object (keys in
the table's column order, values as written: text, numbers, times in ISO form), built per
distinct value and joined in Arrow, never cell by cell in Python."""

from __future__ import annotations

import json
import math
from datetime import datetime
from json.encoder import encode_basestring_ascii
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hyposcreen.arrow_columns import holds_arrow_text


def _json_value(value: object) -> str:
    """`json.dumps(value, default=str)`, with the common kinds (text, numbers, times) encoded
    directly as json would (text through the encoder's own C escape)."""
    if isinstance(value, str):
        return encode_basestring_ascii(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isfinite(value):
        return float.__repr__(value)
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, datetime):  # not JSON: default=str writes its text
        return encode_basestring_ascii(str(value))
    return json.dumps(value, default=str)


# text JSON writes as it is between quotes: printable ASCII but the quote and the backslash
_PLAIN_JSON_TEXT = r"^[\x20\x21\x23-\x5b\x5d-\x7e]*$"


def json_texts(distinct: pd.Index | np.ndarray) -> np.ndarray:
    """`_json_value` of each distinct value: a column of plain text quoted at once in Arrow,
    any other value (numbers, times, text with escapes) one at a time."""
    values = np.asarray(distinct, dtype=object)
    try:
        text = pa.array(values, type=pa.large_string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # not all of them text
        text = None
    if text is None or text.null_count:
        return _json_of_one_kind(values)
    plain = np.array(pc.match_substring_regex(text, _PLAIN_JSON_TEXT), dtype=bool)
    shown = np.empty(len(values), dtype=object)
    shown[plain] = '"' + values[plain] + '"'
    shown[~plain] = [_json_value(v) for v in values[~plain]]
    return shown


def _json_of_one_kind(values: np.ndarray) -> np.ndarray:
    """`_json_value` of each value; values all of one common kind (finite floats, integers,
    times) are encoded by that kind's own encoder in one pass, any other one at a time."""
    kinds = set(map(type, values))
    shown: Any
    if kinds <= _FLOATS and np.isfinite(values.astype("float64")).all():
        shown = list(map(float.__repr__, values))
    elif kinds == {int}:
        shown = list(map(int.__repr__, values))
    elif kinds and kinds <= _TIMES:  # not JSON: default=str writes their text
        shown = list(map(encode_basestring_ascii, map(str, values)))
    else:
        shown = [_json_value(v) for v in values]
    return np.array(shown, dtype=object).reshape(len(values))


_FLOATS = {float, np.float64}
_TIMES = {datetime, pd.Timestamp}


def _json_objects(frame: pd.DataFrame) -> np.ndarray:
    """Each row as `json.dumps(row without nulls, default=str, sort_keys=True)`."""
    return json_of_codes({key: coded_json(frame[key]) for key in frame.columns}, len(frame))


def json_of_codes(columns: dict[str, tuple[np.ndarray, np.ndarray]], length: int) -> np.ndarray:
    """Each row as `json.dumps(row without nulls, default=str, sort_keys=True)`, built a column
    at a time from `columns` (key -> each row's code and the JSON text of each code, a null's
    code -1): each distinct value is encoded once as its `, "key": value` pair (a null as
    nothing), the pairs of a row joined in key order in Arrow (no Python text made per row and
    column) and the first pair's ', ' cut."""
    if not columns:
        return np.full(length, "{}", dtype=object)
    return np.asarray(json_text_of_codes(columns).to_numpy(zero_copy_only=False), dtype=object)


def json_text_of_codes(columns: dict[str, tuple[np.ndarray, np.ndarray]]) -> pa.Array:
    """`json_of_codes` as Arrow text (of at least one column)."""
    pairs = []
    for key in sorted(columns):
        codes, texts = columns[key]
        separator = ", " + json.dumps(key) + ": "
        coded = pa.array([*(separator + texts), ""], type=pa.large_string())
        pairs.append(coded.take(pa.array(np.where(codes < 0, len(texts), codes))))
    joined = pc.binary_join_element_wise(*pairs, _TEXT_EMPTY)  # each row's pairs in key order
    first_cut = pc.utf8_slice_codeunits(joined, 2)  # every pair starts ', ' (ASCII)
    return pc.binary_join_element_wise(_TEXT_OPEN, first_cut, _TEXT_CLOSE, _TEXT_EMPTY)


_TEXT_EMPTY, _TEXT_OPEN, _TEXT_CLOSE = (pa.scalar(t, pa.large_string()) for t in ("", "{", "}"))
TEXT_COLUMN = pd.StringDtype("pyarrow", na_value=np.nan)  # the `str` of pandas' frames


def coded_json(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Each value's code among the column's distinct values (-1 for a null) and the JSON text
    of each distinct value as `_json_value` writes the value pandas gives as an object. The
    distinct values are found in the column's own type (text in Arrow, numbers, times): no
    Python object is made per row, and a column of one type groups as its objects would."""
    if _naive_times(values):
        codes, distinct = pd.factorize(values, use_na_sentinel=True)
        texts = _time_texts(np.asarray(distinct, dtype=values.dtype))
        if texts is not None:
            return codes, texts
        return codes, json_texts(np.asarray(pd.Index(distinct), dtype=object))
    if holds_arrow_text(values) or pd.api.types.is_float_dtype(values.dtype):
        codes, distinct = pd.factorize(values, use_na_sentinel=True)
        return codes, json_texts(np.asarray(distinct, dtype=object))
    as_objects = values.astype(object).where(values.notna(), None)
    codes, distinct = pd.factorize(as_objects, use_na_sentinel=True)
    return codes, json_texts(distinct)


def _naive_times(values: pd.Series) -> bool:
    return values.dtype.kind == "M" and getattr(values.dtype, "tz", None) is None


def _time_texts(times: np.ndarray) -> np.ndarray | None:
    """`_json_value` of each naive time (the quoted text of `str(pd.Timestamp)`: "2026-11-20
    05:00:00", with ".ffffff" when the microseconds are not 0) written by numpy; None when
    a time does not fit that text (nanoseconds, a year outside 1000-9999)."""
    micro = times.astype("datetime64[us]")
    if not len(times):
        return np.array([], dtype=object)
    if (micro != times).any() or np.isnat(micro).any():
        return None
    years = micro.astype("datetime64[Y]").astype("int64") + 1970
    if years.min() < 1000 or years.max() > 9999:
        return None
    seconds = micro.astype("datetime64[s]")
    text = np.strings.replace(np.datetime_as_string(seconds, unit="s"), "T", " ").astype(object)
    fraction = (micro - seconds).astype("int64")
    has_fraction = fraction != 0
    if has_fraction.any():
        text[has_fraction] = text[has_fraction] + np.char.mod(
            ".%06d", fraction[has_fraction]
        ).astype(object)
    shown: np.ndarray = '"' + text + '"'
    return shown
