"""The partitions' pieces of a contract column other than text (runners/contract_text.py
makes the text ones), joined into one column in the whole table's row order: floats and
zone-less times straight from Arrow's chunks into one numpy array (times in ns, as the
contracts' view holds them), any other column from the pandas pieces read per partition."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
from pandas.api.types import union_categoricals

from hyposcreen.validate.views import as_ns


def plain_numbers(kind: pa.DataType) -> bool:
    """Floats and zone-less times: pandas reads them as numpy holds them (NaN, NaT)."""
    if pa.types.is_timestamp(kind):
        return kind.tz is None
    return bool(pa.types.is_floating(kind))


def joined_numbers(arrays: list[pa.ChunkedArray], order: np.ndarray, in_order: bool) -> pd.Series:
    """The partitions' floats or times as one column in `order` (times in ns, as `joined_parts`
    gives them), without making a pandas frame of each partition first: the partitions'
    chunks (times cast to ns a chunk at a time) are made one numpy array, then put in order."""
    values = _one_array([chunk for array in arrays for chunk in array.chunks], arrays[0].type)
    if values is None or any(array.type != arrays[0].type for array in arrays):
        values = np.concatenate([array.to_numpy() for array in arrays])  # e.g. two float widths
    joined = pd.Series(values if in_order else values[order], copy=False)
    return as_ns(joined) if pd.api.types.is_datetime64_dtype(joined.dtype) else joined


def _one_array(chunks: list[pa.Array], kind: pa.DataType) -> np.ndarray | None:
    """The chunks of `kind` as one numpy array, times in ns (None: a time ns cannot hold)."""
    if pa.types.is_timestamp(kind) and kind.unit != "ns":
        kind = pa.timestamp("ns")
        try:
            chunks = [chunk.cast(kind) for chunk in chunks]
        except (pa.ArrowInvalid, OverflowError):
            return None
    try:
        return np.asarray(pa.chunked_array(chunks, type=kind).to_numpy())
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):  # chunks of another type
        return None


def joined_parts(parts: list[pd.Series], order: np.ndarray, in_order: bool) -> pd.Series:
    """The partitions' pieces of a column other than text, as one column in `order`."""
    if all(isinstance(p.dtype, pd.CategoricalDtype) for p in parts):
        try:
            merged = union_categoricals([p.array for p in parts])
        except TypeError:  # categories of different types (an all-empty column)
            merged = pd.Categorical(pd.concat([p.astype("str") for p in parts]))
        return pd.Series(merged if in_order else merged.take(order))
    joined = pd.concat(parts, ignore_index=True)
    joined = joined if in_order else joined.take(order)
    if pd.api.types.is_datetime64_dtype(joined.dtype):
        joined = as_ns(joined)  # as the contracts' view holds times
    return joined
