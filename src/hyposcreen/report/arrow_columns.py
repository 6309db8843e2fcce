"""A pandas column of Arrow-backed text as one Arrow array, for the writers' text work done
in Arrow compute (csv_text, xlsx_package, safe_cells)."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa


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
