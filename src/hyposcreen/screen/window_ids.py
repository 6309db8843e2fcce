"""The patient ids of many windows screened at once (screen.windows): each window's ids behind
its number as a fixed-width prefix, so the windows' patients never meet in a query, and the
windows' rows cut apart again, the prefix taken off, each window's rows in its own order."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def window_prefix(number: int, windows: int) -> str:
    """The prefix of window `number`'s patient ids among `windows` screened at once."""
    return f"{number:0{len(str(max(windows - 1, 0)))}d}:"


def with_prefix(patient_id: pd.Series, prefixes: np.ndarray, number: np.ndarray) -> pd.Series:
    """Each row's patient id behind its window's prefix (`prefixes` by window number, `number`
    each row's), joined in Arrow (a missing id stays missing)."""
    ids = pa.array(patient_id.astype("str").array)
    if isinstance(ids, pa.ChunkedArray):
        ids = ids.combine_chunks()
    prefix = pc.take(pa.array(list(prefixes), type=ids.type), pa.array(number, type=pa.int64()))
    joined = pc.binary_join_element_wise(prefix, ids, pa.scalar("", ids.type))
    return pd.Series(pd.array(joined, dtype="str"), index=patient_id.index)


def without_prefix(patient_id: pd.Series, windows: int) -> pd.Series:
    return patient_id.str.slice(len(window_prefix(0, windows)))


def window_numbers(patient_id: pd.Series, windows: int) -> np.ndarray:
    """The window number of each prefixed patient id."""
    width = len(window_prefix(0, windows)) - 1
    return patient_id.str.slice(0, width).astype("int64").to_numpy()


def window_runs(numbers: np.ndarray, windows: int) -> list[tuple[int, int]]:
    """Per window, the [start, end) of its rows in `numbers` (sorted)."""
    edges = np.searchsorted(numbers, np.arange(windows + 1))
    return [(int(edges[n]), int(edges[n + 1])) for n in range(windows)]


def cut_by_window(frame: pd.DataFrame, windows: int) -> list[pd.DataFrame]:
    """Each window's rows of a frame in prefixed patient order, the prefix taken off."""
    if frame.empty:
        return [frame] * windows
    runs = window_runs(window_numbers(frame["patient_id"], windows), windows)
    patient_id = without_prefix(frame["patient_id"], windows)
    unprefixed = frame.assign(patient_id=patient_id)
    return [unprefixed.iloc[a:b].reset_index(drop=True) for a, b in runs]
