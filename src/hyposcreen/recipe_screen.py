"""The screen stage's lab inputs that windows cut from one read prepare once.

A window's screen reads its used labs twice over: as rows (LAB_COLUMNS, of its sodium
results) and as the table its queries read (`screen.cases.registered_labs`: text columns
converted, times as UTC instants, here in Arrow). Both are per-row, so windows cut from one
read (recipe_read, recipe_clean.window_labs) prepare them once over the read's used labs and
cut them as the window's cleaned labs were cut: the same rows, in the same order, with the
same values. A window whose used rows are not those of the cut (a contract warning quarantined a
row, nightly late-result marks) prepares its own, as a lone window does.

The glucose paired with each sodium result (spec §4) depends only on the glucose results
there are, so each sodium result's candidates are ranked once over the read's used labs (the
query's own order of preference): a window pairs each of its sodium results with its first
candidate among the window's labs (no candidate in the read is none in the window).

Likewise the spec §8 delta check: a result's neighbours are the nearest earlier and later
times of its patient's results. A window holds a result's neighbours in the read exactly when
it has neighbours on both sides (a nearer one in the window would be nearer in the read), so
its flag is the read's when both neighbours lie in the window and false otherwise; a patient
with a result corrected otherwise in the window (paired with a glucose of another excess) is
checked again.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from hyposcreen.clean import USED
from hyposcreen.context import RunContext
from hyposcreen.recipe_read import check_in_range, cut_rows
from hyposcreen.screen.cases import LAB_COLUMNS, registered_labs
from hyposcreen.screen.engine import ArrowFrame, Tables
from hyposcreen.screen.serial import spurious_neighbours
from hyposcreen.screen.sodium import KnownPairs, correct_for_glucose, pair_registered_glucose


@dataclass(frozen=True)
class SharedLabs:
    """The shared read's used labs prepared once: `used` marks them among the cleaned read's
    rows; `rows` holds their LAB_COLUMNS, `table` the screen's registered form of them."""

    cleaned: pd.DataFrame  # the cleaned read these were prepared from
    timezone: str
    used: np.ndarray
    rows: pd.DataFrame
    table: ArrowFrame  # without `row`
    sodium: np.ndarray  # the sodium results' positions among the used rows
    # each sodium result's glucose candidates, by result and rank (`sodium.ranked_glucose`):
    # the result's number among the sodium results, the glucose's position among used rows
    candidate_of: np.ndarray
    candidate: np.ndarray
    candidates: pd.DataFrame  # per candidate: glucose_time, glucose_mg_dl
    read_glucose: np.ndarray  # per sodium result: the glucose it is paired with in the read
    minutes: float  # the pairing window the candidates were found with
    factor: float | None  # the glucose factor the read's flags were found with
    spurious: np.ndarray  # per sodium result: possibly spurious in the read
    neighbours: np.ndarray  # per sodium result: a sodium result at each neighbouring time, or -1


def window_used_labs(
    ctx: RunContext, labs: pd.DataFrame, used: np.ndarray
) -> tuple[pd.DataFrame, ArrowFrame, KnownPairs] | None:
    """The window's used labs (the rows of its sodium results, the registered table, the
    glucose pairs known) cut from those prepared once for the shared read, when the window's
    cleaned `labs` (its `used` rows marked) are a cut of that read alike in every used row;
    else None (the window prepares its own)."""
    shared = ctx.shared_read
    prepared = shared_labs(ctx)
    if shared is None or prepared is None or "reported_late" in labs.columns:
        return None
    column, start, end = check_in_range(shared.lab_range, ctx)
    keep = cut_rows(shared, prepared.cleaned, column, start, end)
    if int(keep.sum()) != len(labs) or not np.array_equal(prepared.used[keep], used):
        return None
    chosen = keep[prepared.used]  # the window's rows among the read's used rows
    if not alike(prepared.rows, chosen, labs, used):
        return None
    mine = chosen[prepared.sodium]
    position = np.cumsum(chosen) - 1  # each read used row's position among the window's
    labels = np.flatnonzero(used)[position[prepared.sodium[mine]]]
    sodium_rows = prepared.rows.iloc[prepared.sodium[mine]].set_axis(labels)
    table = prepared.table.table.filter(pa.array(chosen))
    table = table.append_column("row", pa.array(np.arange(len(table), dtype=np.int64)))
    threshold = float(ctx.rules.glucose["threshold_mg_dl"])
    known = known_pairs(prepared, chosen, threshold)
    return sodium_rows, ArrowFrame(table, prepared.table.dtypes), known


def shared_labs(ctx: RunContext) -> SharedLabs | None:
    """The shared read's used labs prepared once (for the context's rules and settings), when
    the context's window is cut from a shared read whose labs were cleaned once; else None."""
    shared = ctx.shared_read
    known = shared.decided.get("labs") if shared is not None else None
    if shared is None or known is None:
        return None
    cleaned: pd.DataFrame = known[2]
    prepared: SharedLabs | None = shared.decided.get("screen_labs")
    minutes = float(ctx.rules.glucose["pairing_window_minutes"])
    factor = ctx.settings.glucose_factor
    if (
        prepared is None
        or prepared.cleaned is not cleaned
        or prepared.timezone != _zone(ctx)
        or prepared.minutes != minutes
        or prepared.factor != factor
    ):
        prepared = _prepare(cleaned, _zone(ctx), minutes, ctx, factor)
        shared.decided["screen_labs"] = prepared
    return prepared


def known_pairs(prepared: SharedLabs, chosen: np.ndarray, threshold: float) -> KnownPairs:
    """The pairs of the window's sodium results (numbered in order): each one's first
    candidate among the window's used rows (`chosen`); the results whose glucose excess over
    `threshold` is not the read's are `changed`."""
    mine = chosen[prepared.sodium]
    number = np.cumsum(mine) - 1  # each read sodium result's number in the window
    of = prepared.candidate_of
    there = np.flatnonzero(mine[of] & chosen[prepared.candidate])
    first = there[np.r_[True, of[there[1:]] != of[there[:-1]]]] if len(there) else there
    rows = number[of[first]]
    pairs = prepared.candidates.iloc[first].reset_index(drop=True)
    glucose = np.full(int(mine.sum()), np.nan)
    glucose[rows] = pairs["glucose_mg_dl"].to_numpy(dtype="float64")
    changed = np.flatnonzero(
        _excess(glucose, threshold) != _excess(prepared.read_glucose[mine], threshold)
    )
    near = prepared.neighbours[mine]  # both sides' neighbours must be in the window
    inside = (near >= 0) & mine[np.where(near >= 0, near, 0)]
    spurious = prepared.spurious[mine] & inside.all(axis=1)
    pairs.insert(0, "row", rows)  # a frame of its own (taken by position)
    return KnownPairs(
        pairs,
        np.array([], dtype=np.int64),
        spurious,
        changed,
    )


def _excess(glucose: np.ndarray, threshold: float) -> np.ndarray:
    """The glucose over `threshold` that corrects a sodium result (none: 0)."""
    return np.nan_to_num(np.clip(glucose - threshold, 0.0, None), nan=0.0)


def alike(rows: pd.DataFrame, chosen: np.ndarray, labs: pd.DataFrame, used: np.ndarray) -> bool:
    """Whether the times and values of the read's `chosen` used rows are those of the
    window's `used` labs (no later stage changed one)."""
    return all(
        np.array_equal(rows[c].to_numpy()[chosen], labs[c].to_numpy()[used], equal_nan=True)
        for c in ("specimen_time", "value_num")
    )


def _zone(ctx: RunContext) -> str:
    return ctx.mapping.timezone


def _prepare(
    cleaned: pd.DataFrame, timezone: str, minutes: float, ctx: RunContext, factor: float | None
) -> SharedLabs:
    used = (cleaned["bucket"] == USED).to_numpy(dtype=bool)
    rows = cleaned.loc[used, [c for c in LAB_COLUMNS if c in cleaned.columns]]
    table = registered_labs(rows, timezone)
    sodium = np.flatnonzero((table["analyte"] == "sodium").to_numpy(dtype=bool))
    numbered = table.assign(row=np.arange(len(table)))
    sodium_rows = numbered.iloc[sodium].assign(row=np.arange(len(sodium)))
    with Tables({"labs": numbered}) as db:
        ranked = pair_registered_glucose(db, minutes, sodium_rows, ranked=True)
    candidate_of = ranked["row"].to_numpy(dtype=np.int64)
    candidates = ranked[["glucose_time", "glucose_mg_dl"]]
    # the read's pairs, one row per sodium result in order (NaT / NaN where none was found)
    paired = ranked.loc[ranked["rank"] == 1]
    by_row = paired.set_index("row").reindex(np.arange(len(sodium)))
    pairs = by_row[["glucose_time", "glucose_mg_dl"]].astype(
        {"glucose_time": ranked["glucose_time"].dtype, "glucose_mg_dl": "float64"}
    )
    pairs = pairs.reset_index(drop=True)
    spurious, neighbours = _read_spurious(sodium_rows, pairs, ctx, factor)
    unnumbered = table.drop(columns="row")
    arrow = pa.Table.from_pandas(unnumbered, preserve_index=False)
    return SharedLabs(
        cleaned, timezone, used, rows, ArrowFrame(arrow, table.dtypes), sodium, candidate_of,
        ranked["glucose_row"].to_numpy(dtype=np.int64), candidates,
        pairs["glucose_mg_dl"].to_numpy(dtype="float64"), minutes, factor, spurious, neighbours,
    )  # fmt: skip


def _read_spurious(
    sodium_rows: pd.DataFrame, pairs: pd.DataFrame, ctx: RunContext, factor: float | None
) -> tuple[np.ndarray, np.ndarray]:
    """The read's sodium results corrected with their pairs (as a window corrects them) and
    checked (spec §8): per result, flagged, and its neighbours' results (-1: none)."""
    found = pairs.assign(row=np.arange(len(pairs))).dropna(subset=["glucose_time"])
    known = KnownPairs(found[["row", "glucose_time", "glucose_mg_dl"]], np.array([], dtype=int))
    with Tables() as db:
        corrected = correct_for_glucose(sodium_rows, None, ctx.rules, factor, db, known)
        results = corrected[["patient_id", "specimen_time", "corrected_sodium"]]
        db.register("results", results.assign(row=np.arange(len(results))))
        flagged = spurious_neighbours(db, ctx.rules)
    spurious = np.zeros(len(results), dtype=bool)
    spurious[flagged["row"].to_numpy()] = True
    neighbours = np.full((len(results), 2), -1, dtype=np.int64)
    sides = flagged[["before_row", "after_row"]].to_numpy(dtype=np.int64)
    neighbours[flagged["row"].to_numpy()] = sides
    return spurious, neighbours
