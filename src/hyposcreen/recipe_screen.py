"""The screen stage's lab inputs that windows cut from one read prepare once.

A window's screen reads its used labs twice over: as rows (LAB_COLUMNS, for the sodium
results) and as the table its queries read (`screen.cases.registered_labs`: text columns
converted, times as UTC instants). Both are per-row, so windows cut from one read
(recipe_read, recipe_clean.window_labs) prepare them once over the read's used labs and cut
them as the window's cleaned labs were cut: the same rows, in the same order, with the same
values. A window whose used rows are not those of the cut (a contract warning quarantined a
row, nightly late-result marks) prepares its own, as a lone window does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from hyposcreen.clean import USED
from hyposcreen.context import RunContext
from hyposcreen.recipe_read import check_in_range, rows_in_range
from hyposcreen.screen.cases import LAB_COLUMNS, registered_labs


@dataclass(frozen=True)
class SharedLabs:
    """The shared read's used labs prepared once: `used` marks them among the cleaned read's
    rows; `rows` holds their LAB_COLUMNS, `table` the screen's registered form of them."""

    cleaned: pd.DataFrame  # the cleaned read these were prepared from
    timezone: str
    used: np.ndarray
    rows: pd.DataFrame
    table: pd.DataFrame


def window_used_labs(
    ctx: RunContext, labs: pd.DataFrame, used: np.ndarray
) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """The window's used labs (rows, registered table) cut from those prepared once for the
    shared read, when the window's cleaned `labs` (its `used` rows marked) are a cut of that
    read alike in every used row; else None (the window prepares its own)."""
    shared = ctx.shared_read
    known = shared.decided.get("labs") if shared is not None else None
    if shared is None or known is None or "reported_late" in labs.columns:
        return None
    cleaned: pd.DataFrame = known[2]
    prepared = shared.decided.get("screen_labs")
    if prepared is None or prepared.cleaned is not cleaned or prepared.timezone != _zone(ctx):
        prepared = shared.decided["screen_labs"] = _prepare(cleaned, _zone(ctx))
    column, start, end = check_in_range(shared.lab_range, ctx)
    keep = rows_in_range(cleaned, column, start, end)
    if int(keep.sum()) != len(labs) or not np.array_equal(prepared.used[keep], used):
        return None
    chosen = keep[prepared.used]  # the window's rows among the read's used rows
    rows = prepared.rows.loc[chosen].set_axis(np.flatnonzero(used))
    table = prepared.table.loc[chosen].reset_index(drop=True)
    return rows, table.assign(row=np.arange(len(table)))


def _zone(ctx: RunContext) -> str:
    return ctx.mapping.timezone


def _prepare(cleaned: pd.DataFrame, timezone: str) -> SharedLabs:
    used = (cleaned["bucket"] == USED).to_numpy(dtype=bool)
    rows = cleaned.loc[used, [c for c in LAB_COLUMNS if c in cleaned.columns]]
    return SharedLabs(cleaned, timezone, used, rows, registered_labs(rows, timezone))
