"""Columns of text as Arrow arrays, for the writers' text work done in Arrow compute
(csv_text, xlsx_package, safe_cells), and membership and positions of ids found in Arrow."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def holds_arrow_text(values: pd.Series) -> bool:
    """True for a column of pandas' Arrow-backed text (the `str` dtype)."""
    return isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow"


def arrow_text(values: pd.Series) -> pa.Array:
    """The column's Arrow text as one large_string array (nulls kept): its chunks joined,
    never converted value by value."""
    text = pa.array(values.array)
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks() if text.num_chunks else pa.array([], text.type)
    return text.cast(pa.large_string())


def text_on_every_row(count: int, text: str) -> pd.api.extensions.ExtensionArray:
    """`text` on each of `count` rows as pandas' Arrow text (the `str` dtype), repeated in
    Arrow at once (no Python string per row)."""
    repeated = pa.repeat(pa.scalar(text, pa.large_string()), count)
    return pd.arrays.ArrowStringArray(repeated, dtype=pd.StringDtype("pyarrow", na_value=np.nan))


def is_listed(ids: pd.Series, listed: pd.Series) -> np.ndarray:
    """`ids.isin(listed)` for columns of text ids (Arrow's hash lookup: pandas' isin of Arrow
    text makes a scalar of every listed id); any other kind of id through pandas."""
    text_ids = holds_arrow_text(ids) or pd.api.types.is_object_dtype(ids.dtype)
    if not text_ids or listed.isna().any():  # a missing id matches a missing one in pandas
        return ids.isin(listed).to_numpy(dtype=bool)
    pair = _as_arrow_text(ids, listed)
    if pair is None:  # not all of them text
        return ids.isin(listed).to_numpy(dtype=bool)
    text, wanted = pair
    return np.array(pc.fill_null(pc.is_in(text, value_set=wanted), False), dtype=bool)


def positions_in(ids: pd.Series, listed: pd.Index) -> np.ndarray:
    """`listed.get_indexer(ids.astype("str"))` for a column of text ids and an index of
    distinct texts (-1 for an id not listed or missing), by Arrow's hash lookup: pandas
    makes a Python string of every Arrow id to look it up."""
    if not listed.is_unique or not (
        holds_arrow_text(ids) or pd.api.types.is_object_dtype(ids.dtype)
    ):
        return np.asarray(listed.get_indexer(ids.astype("str")), dtype=np.intp)
    pair = _as_arrow_text(ids, listed)
    if pair is None:  # not all of them text
        return np.asarray(listed.get_indexer(ids.astype("str")), dtype=np.intp)
    text, wanted = pair
    found = pc.fill_null(pc.index_in(text, value_set=wanted), -1)
    return np.asarray(found, dtype=np.intp)


def _as_arrow_text(
    ids: pd.Series, listed: pd.Series | pd.Index
) -> tuple[pa.Array, pa.Array] | None:
    """`ids` and `listed` as Arrow text, or None when either holds anything but text."""
    try:
        wanted = (
            arrow_text(listed)
            if isinstance(listed, pd.Series) and holds_arrow_text(listed)
            else pa.array(listed.to_numpy(dtype=object), type=pa.large_string())
        )
        text = (
            arrow_text(ids)
            if holds_arrow_text(ids)
            else pa.array(ids.to_numpy(), pa.large_string())
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    return text, wanted
