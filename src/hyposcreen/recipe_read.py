"""The recipe's read stage: one window's tables, or many windows' tables from one read.

`read_tables(ctx)` reads each canonical table for the context's window (labs filtered to known
analytes inside the read window; medications, diagnoses and patients whole).

A backfill, a catch-up of missed nights and `hyposcreen audit` screen many windows of the same
files. `read_once(ctx, windows)` reads each table once, its labs over the union of the
windows' read ranges; `window_tables(shared, ctx)` then gives one window's `ReadTables` with
the accounting a lone read of that window gives: the same rows in the same order, rows_in,
rows dropped for a reason other than the window keep that reason (unknown LOINC, lab name …:
the reader decides those before it looks at a time), rows outside this window's range (also
those outside the union) count as outside_window, rows whose time did not parse are kept, and
the same coverage counters and file records (each file's sha256 computed once). Only the
canonical reader is shared: the source adapters drop rows far from the window before they name
other reasons, so their counts depend on the window (they read per window).
"""

from __future__ import annotations

import copy
import dataclasses
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from hyposcreen.adapters import load_adapter
from hyposcreen.config import Window
from hyposcreen.context import ReadTables, RunContext, SharedRead, lab_filter, max_row_bytes
from hyposcreen.ingest.canonical import REQUIRED_TABLES, SCHEMAS, IngestedTable
from hyposcreen.ingest.tabular import RowFilter, read_table
from hyposcreen.ingest.timeparse import time_in_unit
from hyposcreen.report.folders import remove_dead_debris
from hyposcreen.scratch import ROWS_PREFIX, SPILL_PREFIX, spill_parent

OUTSIDE_WINDOW = "outside_window"  # the reader's reason for a lab dated outside the read range


def ingest_table(ctx: RunContext, name: str, row_filter: RowFilter | None = None) -> IngestedTable:
    """Read one canonical table (labs are filtered to known analytes inside the read window,
    or by `row_filter` when given)."""
    with ctx.timed(f"read_{name}"):
        if row_filter is None:
            row_filter = lab_filter(ctx, name)
        if ctx.settings.source != "canonical":
            table = load_adapter(ctx.settings.source).read_table(
                ctx.settings.input_dir,
                name,
                ctx.mapping,
                ctx.rules,
                ctx.settings.window,
                row_filter,
            )
            if row_filter is not None and not table.unrecognised:
                table.unrecognised = dict(row_filter.unrecognised)
            return table
        return read_table(
            ctx.settings.input_dir,
            SCHEMAS[name],
            ctx.mapping,
            row_filter=row_filter,
            required=name in REQUIRED_TABLES,
            max_row_bytes=max_row_bytes(ctx),
            max_rows=ctx.memory_row_cap,
        )


def read_tables(ctx: RunContext, lab_rows: RowFilter | None = None) -> ReadTables:
    """Every required table, and the patients table when the input has one."""
    remove_dead_row_copies(spill_parent(ctx.settings.out_dir))
    tables = {
        name: ingest_table(ctx, name, lab_rows if name == "labs" else None)
        for name in REQUIRED_TABLES
    }
    patients = ingest_table(ctx, "patients")
    if patients.rows_in:
        tables["patients"] = patients
    return ReadTables(tables)


def remove_dead_row_copies(spills: Path | None = None) -> None:
    """Remove the scratch folders (patient rows) that killed runs left in $TMPDIR: copies of
    CSVs made to parse them (ingest.tabular) and DuckDB's spill (rules.sql_engine); and in
    `spills`, the spill folders of killed partitioned runs, whichever runner reads next."""
    remove_dead_debris(Path(tempfile.gettempdir()), ROWS_PREFIX)
    if spills is not None:
        remove_dead_debris(spills, SPILL_PREFIX)


def can_share_read(ctx: RunContext) -> bool:
    """Whether windows may share one read of this input (the canonical reader only)."""
    return ctx.settings.source == "canonical"


def read_range(ctx: RunContext) -> tuple[str, pd.Timestamp, pd.Timestamp]:
    """(time column, start, end) of the labs a lone read of the context's window keeps."""
    row_filter = lab_filter(ctx, "labs")
    assert row_filter is not None and row_filter.window is not None
    return row_filter.window


def union_filter(ctx: RunContext, windows: Sequence[Window]) -> RowFilter:
    """The lab reader's filter for all `windows` at once: their read ranges' union, from the
    earliest range start to the latest end. `ctx` gives the rules, mapping and state."""
    if not windows:
        raise ValueError("a shared read needs at least one window")
    if not can_share_read(ctx):
        raise ValueError(f"the {ctx.settings.source} reader reads per window")
    ranges = [read_range(_for_window(ctx, window)) for window in windows]
    union = (ranges[0][0], min(r[1] for r in ranges), max(r[2] for r in ranges))
    template = lab_filter(ctx, "labs")
    assert template is not None
    return dataclasses.replace(template, window=union)


def read_once(ctx: RunContext, windows: Sequence[Window]) -> SharedRead:
    """Each table read once for all `windows` (labs over `union_filter`); `ctx` gives the
    input, rules, mapping and state, its own window does not matter. The read's timings stay
    in the result."""
    reader = dataclasses.replace(ctx, timings={}, peak_rss_mb={})
    labs = union_filter(reader, windows)
    assert labs.window is not None
    tables = read_tables(reader, labs).tables
    return SharedRead(tables, labs.window, len(windows), reader.timings)


def window_tables(shared: SharedRead, ctx: RunContext) -> ReadTables:
    """The tables of the context's window cut from `shared`, counted as a lone read of that
    window counts them (module docstring). The window's read range must lie in the union."""
    column, start, end = check_in_range(shared.lab_range, ctx)
    tables = {}
    for name, table in shared.tables.items():
        if name == "labs":
            tables[name] = labs_in_range(table, column, start, end, shared)
        else:  # a new frame object per window: a stage adding a column changes no other window
            tables[name] = window_counts(table, table.frame.copy(deep=False), 0)
    return ReadTables(tables)


def check_in_range(
    lab_range: tuple[str, pd.Timestamp, pd.Timestamp], ctx: RunContext
) -> tuple[str, pd.Timestamp, pd.Timestamp]:
    """The context's window's read range; a ValueError when it is not inside `lab_range`."""
    column, start, end = read_range(ctx)
    if lab_range[0] != column or start < lab_range[1] or end > lab_range[2]:
        raise ValueError(
            f"window {ctx.settings.window.label()} reads [{start}, {end}), outside the shared "
            f"read [{lab_range[1]}, {lab_range[2]})"
        )
    return column, start, end


def labs_in_range(
    labs: IngestedTable,
    column: str,
    start: pd.Timestamp,
    end: pd.Timestamp,
    shared: SharedRead | None = None,
) -> IngestedTable:
    """The rows of `labs` dated in [start, end) or undated (the reader keeps rows whose time
    did not parse: cleaning quarantines them), renumbered as a read of that range numbers
    them; the rows cut off are added to outside_window. With the `shared` read `labs` are
    kept whole in, the rows are found from its times put in order once (`cut_rows`)."""
    if shared is None:
        keep = rows_in_range(labs.frame, column, start, end)
    else:
        keep = cut_rows(shared, labs.frame, column, start, end)
    frame = rows_kept(labs.frame, keep)
    return window_counts(labs, frame, int(len(keep) - keep.sum()))


def rows_kept(frame: pd.DataFrame, keep: np.ndarray) -> pd.DataFrame:
    """The rows of `frame` where `keep` holds, numbered from 0. When they are one run of
    consecutive rows (an extract in time order cut by a time range) they are a slice of the
    frame's columns, not a copy."""
    rows = np.flatnonzero(keep)
    if len(rows) and rows[-1] - rows[0] + 1 == len(rows):
        return frame.iloc[rows[0] : rows[-1] + 1].reset_index(drop=True)
    return frame.loc[keep].reset_index(drop=True)


def rows_in_range(
    frame: pd.DataFrame, column: str, start: pd.Timestamp, end: pd.Timestamp
) -> np.ndarray:
    """Where `frame[column]` lies in [start, end) or is missing (a boolean array by row)."""
    time = frame[column]
    return ~(time.notna() & ((time < start) | (time >= end))).to_numpy()


def cut_rows(
    shared: SharedRead, frame: pd.DataFrame, column: str, start: pd.Timestamp, end: pd.Timestamp
) -> np.ndarray:
    """`rows_in_range` of `frame`, a table the shared read keeps whole (its cleaned labs),
    found once per range for all the stages of a window that cut it (read-only)."""
    cuts: dict[tuple[str, pd.Timestamp, pd.Timestamp], dict[int, tuple[pd.DataFrame, np.ndarray]]]
    cuts = shared.decided.setdefault(_CUTS, {})
    by_frame = cuts.setdefault((column, start, end), {})
    known = by_frame.get(id(frame))
    if known is not None and known[0] is frame:
        return known[1]
    order = _time_order(shared, frame, column)
    found = order.rows_in_range(start, end) if order is not None else None
    keep = found if found is not None else rows_in_range(frame, column, start, end)
    keep.flags.writeable = False  # shared by the stages: none may change it
    by_frame[id(frame)] = (frame, keep)
    while len(cuts) > _RANGES_KEPT:  # the oldest windows' ranges are not cut again
        del cuts[next(iter(cuts))]
    return keep


_CUTS = "cut_rows"  # SharedRead.decided: the rows of each window's range by frame (cut_rows)
_RANGES_KEPT = 3  # ranges whose cuts are kept: a window's stages and the two read ahead


@dataclass(frozen=True)
class TimeOrder:
    """A time column of a frame the shared read keeps whole, put in order once for all its
    windows' ranges: where a time is missing, the positions of the dated rows by time (None:
    they are already in time order, the rows of one range are one run) and their times."""

    frame: pd.DataFrame
    missing: np.ndarray
    order: np.ndarray | None
    times: np.ndarray

    def rows_in_range(self, start: pd.Timestamp, end: pd.Timestamp) -> np.ndarray | None:
        """`rows_in_range` of the frame: the undated rows and those dated in [start, end);
        None when a bound cannot be compared with the times as they are held."""
        low, high = (time_in_unit(bound, self.times.dtype) for bound in (start, end))
        if low is None or high is None:
            return None
        first, stop = np.searchsorted(self.times, np.array([low, high]), side="left")
        keep = self.missing.copy()
        if self.order is None:  # every row dated, in time order
            keep[first:stop] = True
        else:
            keep[self.order[first:stop]] = True
        return keep


def _time_order(shared: SharedRead, frame: pd.DataFrame, column: str) -> TimeOrder | None:
    """The frame's `TimeOrder` of `column` (found once per frame and column); None when the
    column does not hold plain datetimes, or they are not in order and too few windows share
    the read for sorting them to pay."""
    orders: dict[tuple[int, str], TimeOrder | None] = shared.decided.setdefault(_ORDERS, {})
    key = (id(frame), column)
    if key in orders:
        known = orders[key]
        if known is None or known.frame is frame:
            return known
    time = frame[column]
    found = None
    if isinstance(time.dtype, np.dtype) and time.dtype.kind == "M":
        values = time.to_numpy()
        missing = np.isnat(values)
        dated = values[~missing]
        if len(dated) < 2 or bool((dated[1:] >= dated[:-1]).all()):
            order = None if len(dated) == len(values) else np.flatnonzero(~missing)
            found = TimeOrder(frame, missing, order, dated)
        elif shared.windows >= _SORTED_FROM:
            order = np.flatnonzero(~missing)[np.argsort(dated, kind="stable")]
            found = TimeOrder(frame, missing, order, values[order])
    orders[key] = found
    return found


_ORDERS = "time_orders"  # SharedRead.decided: TimeOrder by (frame's id, column)
_SORTED_FROM = 4  # windows sharing a read from which its unordered times are sorted once


def window_counts(table: IngestedTable, frame: pd.DataFrame, outside: int) -> IngestedTable:
    """`table` with another frame and `outside` more rows dropped outside the window; its
    other records copied (never shared between windows)."""
    counts = dict(table.not_relevant)
    counts[OUTSIDE_WINDOW] = counts.get(OUTSIDE_WINDOW, 0) + outside
    return dataclasses.replace(
        table,
        frame=frame,
        not_relevant={k: v for k, v in counts.items() if v},
        files=copy.deepcopy(table.files),
        source_counts=copy.deepcopy(table.source_counts),
        unrecognised=dict(table.unrecognised),
    )


def _for_window(ctx: RunContext, window: Window) -> RunContext:
    return dataclasses.replace(ctx, settings=dataclasses.replace(ctx.settings, window=window))
