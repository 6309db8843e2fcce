"""A night's view of a table cut from the view of the read it is cut from.

The windows of one read validate, each night, some rows of the read's labs (projected once:
recipe_contracts.sent_frames, the contracts worker's cuts). Every column of the labs' view
(validate/views.py `table_view`) is a function of its own row, but for the categoricals'
categories: those of the night's rows, in the order they first appear in them (Arrow's
dictionary encoding, `derived._categorical`). So while a loop remembers (remembered.py), the
view of the read is built once and each night's view is its rows: every plain column taken
at the night's positions, every categorical's codes taken and renumbered in first-appearance
order, its unused categories dropped: the values, dtypes and categories that building the
night's view gives.

That holds only for a view built from text read as Arrow text: a column the frame holds as a
categorical keeps its categories (`derived._blank_as_missing`), an object column's dtype
depends on its values, a time that overflows nanoseconds keeps its unit, and a column-pair
check's times depend on the night (validate/repeated_hours.py); any of these, or a view
column of another kind, and the night's view is built as before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from hyposcreen.validate.derived import distinct_categories
from hyposcreen.validate.remembered import LOOP_MEMOS, frame_identity, remembering
from hyposcreen.validate.repeated_hours import PAIR_CHECK

Built = tuple[pd.DataFrame, list[str], list[Any]]  # table_view's view, names and outcomes

# table -> (frame_identity of the read's frame and the view's other inputs, the arrays the
# identity names, the read's view or None when it cannot be cut)
_READ_VIEWS: dict[str, tuple[Any, list[Any], Built | None]] = {}
LOOP_MEMOS.append(_READ_VIEWS)


def view_of_rows(
    table: str,
    read: pd.DataFrame,
    positions: np.ndarray,
    night: pd.DataFrame,
    spec: dict[str, Any],
    other_inputs: tuple[Any, ...],
    build: Callable[[pd.DataFrame], Built],
) -> Built | None:
    """The view of `night` (the rows of `read` at `positions`), cut from the view of `read`
    (`build(read)`, built once while the loop remembers and `read` holds the same arrays);
    None when not remembering or the view cannot be cut (module docstring)."""
    if not remembering() or any(e["type"] == PAIR_CHECK for e in spec["expectations"]):
        return None
    holders: list[Any] = []
    identity = frame_identity(read, holders)
    if identity is None:
        return None
    inputs = (identity, other_inputs)
    kept = _READ_VIEWS.get(table)
    if kept is None or kept[0] != inputs:
        built = build(read)
        kept = (inputs, holders, built if _cuttable(read, built[0]) else None)
        _READ_VIEWS[table] = kept
    if kept[2] is None:
        return None
    view, names, outcomes = kept[2]
    return rows_of_view(view, positions, night.index), list(names), list(outcomes)


def rows_of_view(view: pd.DataFrame, positions: np.ndarray, index: pd.Index) -> pd.DataFrame:
    """The rows of `view` at `positions`, labelled by `index` (named as the view's)."""
    data: dict[str, Any] = {}
    for column, series in view.items():
        if isinstance(series.dtype, pd.CategoricalDtype):
            data[column] = _first_appearance(series.array, positions)
        else:
            data[column] = series.to_numpy()[positions]
    return pd.DataFrame(data, index=index.rename(view.index.name), copy=False)


def _first_appearance(categorical: pd.Categorical, positions: np.ndarray) -> pd.Categorical:
    """The categorical's values at `positions`, its categories those used, in the order they
    first appear there (as Arrow's dictionary encoding of those values numbers them)."""
    codes = categorical.codes[positions]
    used = pd.unique(codes)  # in order of first appearance
    used = used[used >= 0]
    renumbered = np.full(len(categorical.categories) + 1, -1, dtype=np.int64)
    renumbered[used] = np.arange(len(used))  # index -1 (a missing value) stays -1
    categories = categorical.categories[used]
    return pd.Categorical.from_codes(renumbered[codes], dtype=distinct_categories(categories))


def _cuttable(frame: pd.DataFrame, view: pd.DataFrame) -> bool:
    """Every view column a categorical or plain numbers, flags or nanosecond times, and none
    taken from a frame column held as a categorical or as objects."""
    for column, dtype in view.dtypes.items():
        given = frame.dtypes.get(column) if column in frame.columns else None
        held_otherwise = isinstance(given, pd.CategoricalDtype) or given == np.dtype(object)
        if given is not None and held_otherwise:
            return False
        if isinstance(dtype, pd.CategoricalDtype):
            continue
        if not isinstance(dtype, np.dtype) or dtype.kind not in "biufM":
            return False
        if dtype.kind == "M" and dtype != np.dtype("datetime64[ns]"):
            return False
    return True
