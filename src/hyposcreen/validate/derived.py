"""The derived columns the suites describe in their meta (analyte|normalised unit, duplicate
flag, non-numeric flags read as ingest.values.parse_values reads them, code system by its
canonical name), each computed once per distinct value so a million rows cost a few thousand
calls."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hyposcreen.ingest.values import parse_values
from hyposcreen.rules.loader import normalize_label, normalize_unit

# String columns whose blank text the suites treat as missing (the ingest keeps text as read).
CLEAN_REASON = "reason"  # the clean stage's decision per row (clean.clean_labs)
REASONS_READ = ("duplicate", "non_numeric")  # the reasons the derived flags are taken from

BLANK_AS_MISSING = {
    "labs": ("patient_id",),
    "medications": ("patient_id", "end_time_raw"),
    "diagnoses": ("patient_id", "code"),
    "patients": ("patient_id",),
}


def derived_inputs(table: str, have: set[str]) -> set[str]:
    """The columns of `have` whose every value derived_columns reads (labs with the clean
    stage's reason: its flags come from the reason, not from the values as read)."""
    return (set(BLANK_AS_MISSING.get(table, ())) & have) | value_inputs(table, have)


def value_inputs(table: str, have: set[str]) -> set[str]:
    """The columns of `have` a derived column reads the values of (not only whether they are
    blank or missing, as BLANK_AS_MISSING's own columns are read)."""
    inputs: set[str] = set()
    if table == "labs":
        inputs |= {"analyte", "unit"}
        if CLEAN_REASON in have:
            inputs.add(CLEAN_REASON)
        else:
            inputs |= {"patient_id", "specimen_time", "value_num", "value_raw", "value"}
    if table == "diagnoses":
        inputs.add("code_system")
    return inputs & have


def derived_columns(
    table: str,
    frame: pd.DataFrame,
    available: list[str],
    code_system_aliases: Mapping[str, str] | None,
) -> dict[str, pd.Series]:
    """The derived columns the suites describe in their meta.derived_columns."""
    have = set(available)
    out: dict[str, pd.Series] = {
        c: _blank_as_missing(frame[c]) for c in BLANK_AS_MISSING.get(table, ()) if c in have
    }
    if table == "labs":
        out.update(_lab_columns(frame, have))
    if table == "diagnoses" and "code_system" in have:
        aliases = code_system_aliases or {}
        codes, values = _distinct(
            frame[["code_system"]],
            lambda s: "" if s is None else aliases.get(normalize_label(s), s),
        )
        out["code_system"] = _categorical(codes, values, frame.index)
    return out


def _lab_columns(frame: pd.DataFrame, have: set[str]) -> dict[str, pd.Series]:
    """analyte_unit, and the duplicate and non-numeric flags: taken from the clean stage's
    `reason` when the frame carries it (the pipeline validates the cleaned labs, so the shares
    are the clean stage's counts), else derived from the columns as read."""
    out: dict[str, pd.Series] = {}
    if have.issuperset(["analyte", "unit"]):
        codes, values = _distinct(frame[["analyte", "unit"]], _analyte_unit)
        out["analyte_unit"] = _categorical(codes, values, frame.index)
    if CLEAN_REASON in have:
        reason = frame[CLEAN_REASON]
        out["duplicate_flag"] = _flag(reason == "duplicate", frame.index)
        out["non_numeric"] = _flag(reason == "non_numeric", frame.index)
    else:
        key = ["patient_id", "analyte", "specimen_time", "value_num"]
        if have.issuperset(key):
            complete = frame[key].notna().all(axis=1)
            dup = frame.duplicated(subset=key, keep="first") & complete
            out["duplicate_flag"] = _flag(dup, frame.index)
        if "value_raw" in have:
            value = frame["value"] if "value" in have else None
            out["non_numeric"] = _flag(_non_numeric(frame["value_raw"], value), frame.index)
    if "non_numeric" in out and "analyte" in have:
        sodium = (frame["analyte"] == "sodium").fillna(False).to_numpy(dtype=bool)
        out["sodium_non_numeric"] = out["non_numeric"].astype("float32").where(sodium)
    return out


def _flag(values: Any, index: pd.Index) -> pd.Series:
    """1 / 0 per row as int8 (the suites check the set {0.0}; 1 byte a row, not 8); the flag
    that has missing rows (sodium_non_numeric) is float32, 1.0 / 0.0 / NaN."""
    return pd.Series(np.asarray(values, dtype=bool).astype("int8"), index=index)


def _blank_as_missing(series: pd.Series) -> pd.Series:
    """The text with blank values (empty or only whitespace, as `str.strip()` of Arrow text
    finds them) missing, as a categorical. A categorical of text (a partitioned run's gathered
    columns) is judged once per category: its blank categories' rows become missing, the
    categories stay (1M patient ids judged, not 6M row texts); text is judged and
    dictionary-encoded by Arrow."""
    if isinstance(series.dtype, pd.CategoricalDtype) and series.cat.categories.dtype == "str":
        categories = series.cat.categories
        blank = np.append(~np.asarray(categories.str.strip().str.len() > 0, dtype=bool), False)
        codes = series.cat.codes.to_numpy()
        codes = np.where(blank[codes], np.int8(-1).astype(codes.dtype), codes)  # code -1 stays
        return pd.Series(pd.Categorical.from_codes(codes, dtype=series.dtype), series.index)
    text = _arrow_text(series)
    blank = pc.equal(pc.binary_length(pc.utf8_trim_whitespace(text)), 0)
    kept = pc.if_else(blank, pa.scalar(None, text.type), text)
    return _from_dictionary(pc.dictionary_encode(kept), series.index)


def as_categories(series: pd.Series) -> pd.Series:
    """Text as a categorical, dictionary-encoded by Arrow (categories in order of first
    appearance): ~10x faster than `astype("category")`, which sorts them."""
    return _from_dictionary(pc.dictionary_encode(_arrow_text(series)), series.index)


def _arrow_text(series: pd.Series) -> pa.Array:
    """The column as one Arrow text array (an Arrow-backed column's buffers, not a copy)."""
    text = pa.array(series.astype("str"), from_pandas=True)
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    return text.cast(pa.large_string()) if text.type != pa.large_string() else text


def _from_dictionary(encoded: pa.DictionaryArray, index: pd.Index) -> pd.Series:
    categories = pd.Index(encoded.dictionary.to_pandas(), dtype="str")
    codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False)
    dtype = distinct_categories(categories)
    return pd.Series(pd.Categorical.from_codes(codes, dtype=dtype), index=index)


def distinct_categories(categories: pd.Index) -> pd.CategoricalDtype:
    """The (unordered) dtype of `categories` known distinct and without a missing value: an
    Arrow dictionary's values. pandas' constructor checks that by hashing every category
    (~0.1 s for a million patient ids, once per gathered column); its fast path, which takes
    them as they are, is used when this pandas has it."""
    fast = getattr(pd.CategoricalDtype, "_from_fastpath", None)
    if fast is None:
        return pd.CategoricalDtype(categories)
    dtype: pd.CategoricalDtype = fast(categories, False)
    return dtype


def _analyte_unit(analyte: str | None, unit: str | None) -> str | None:
    """'sodium|mmol/l': the unit compared as rules.loader.normalize_unit does; '' if missing."""
    if analyte is None:
        return None
    return f"{analyte}|{normalize_unit(unit) if unit is not None else ''}"


def _non_numeric(value_raw: pd.Series, value: pd.Series | None) -> np.ndarray:
    """1.0 where clean.parse_values finds no number (spec §3: censored values are numbers, an
    empty value is not, a finite source-parsed `value` rescues the row), else 0.0.

    parse_values runs once per distinct text, then the result is broadcast to the rows.
    """
    codes, uniques = pd.factorize(value_raw)
    distinct = pd.Series(uniques, dtype="str")
    parsed, _ = parse_values(distinct, pd.Series(np.nan, index=distinct.index))
    flags = np.append(parsed.isna().to_numpy(), True)[codes]  # code -1: missing text
    if value is not None:
        number = pd.to_numeric(value, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        flags &= ~np.isfinite(number)
    return flags.astype("float64")


def _distinct(columns: pd.DataFrame, fn: Callable[..., Any]) -> tuple[np.ndarray, list[Any]]:
    """fn applied once per distinct row of `columns` (missing values as None).

    Returns per-row codes into the list of results: on a million lab rows with a few hundred
    distinct (analyte, unit) pairs this is ~100x faster than string operations per row.
    """
    key = np.zeros(len(columns), dtype=np.int64)
    uniques = []
    for name in columns.columns:
        column = columns[name]
        if isinstance(column.dtype, pd.CategoricalDtype):  # its codes, no hashing of values
            codes, values = _used_categories(column)
        else:
            codes, values = pd.factorize(column)
        key = key * (len(values) + 1) + (codes + 1)  # 0 = missing
        uniques.append(values)
    key_codes, keys = pd.factorize(key)
    results = []
    for combined in keys.tolist():
        parts: list[Any] = []
        for values in reversed(uniques):
            combined, position = divmod(combined, len(values) + 1)
            parts.append(None if position == 0 else str(values[position - 1]))
        results.append(fn(*reversed(parts)))
    return key_codes, results


def _used_categories(column: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """The codes and categories of `column.cat.remove_unused_categories()` (the used ones in
    their order), found by counting the codes instead of sorting them (20M rows: ~0.4 s)."""
    codes = column.cat.codes.to_numpy()
    categories = column.cat.categories
    used = np.bincount(codes + 1, minlength=len(categories) + 1)[1:] > 0  # code -1: missing
    renumbered = np.append(np.cumsum(used) - 1, -1)  # a used category's new code; -1 stays -1
    return renumbered[codes].astype(np.int64, copy=False), categories[used]


def _categorical(codes: np.ndarray, values: list[Any], index: pd.Index) -> pd.Series:
    value_codes, categories = pd.factorize(pd.Series(values, dtype="object"))
    return pd.Series(pd.Categorical.from_codes(value_codes[codes], categories), index=index)


def normalize_units(units: pd.Series) -> pd.Series:
    """rules.loader.normalize_unit per row (computed once per distinct unit); missing -> ''."""
    codes, values = _distinct(units.to_frame(), lambda u: "" if u is None else normalize_unit(u))
    return _categorical(codes, values, units.index).astype("str")
