"""What a read shared by several windows tells as it ends: its rows (counts only), and the
windows asked for that lie outside the dates its labs span.

A backfill typed with the wrong year (`--backfill 2016-11-19 2026-11-20`) or a catch-up over a
rolling extract that no longer holds its first nights screens those nights on no lab result.
Each such night warns for itself when screened; this says it once, as the read ends, so the
operator can stop a run of ten years of empty nights in its first seconds. It names only the
windows asked for and counts: never a time or value from the extract (the first and last
result's times would date one patient's draw).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from hyposcreen.config import Window
from hyposcreen.context import SharedRead
from hyposcreen.ingest.timeparse import wall_time_of
from hyposcreen.runners.shared_spill import SharedSpill


def read_texts(
    shared: SharedRead | SharedSpill, windows: Sequence[Window], timezone: str
) -> list[str]:
    """The progress lines of a shared read or spill: what it read, and for a read held in
    memory, the windows its labs' dates leave out (`read_span_text`)."""
    lines = [read_once_text(shared)]
    span = read_span_text(shared, windows, timezone) if isinstance(shared, SharedRead) else None
    return lines if span is None else [*lines, span]


def read_once_text(shared: SharedRead | SharedSpill) -> str:
    """The progress line of a shared read or spill (counts only)."""
    counts = ", ".join(f"{t.name} {t.rows_in} row(s)" for t in shared.tables.values())
    seconds = sum(shared.timings.values())
    where = f" into {shared.partitions} partitions" if isinstance(shared, SharedSpill) else ""
    return f"read the input once{where} for {shared.windows} windows: {counts} ({seconds:.1f} s)"


def read_span_text(shared: SharedRead, windows: Sequence[Window], timezone: str) -> str | None:
    """The note naming the windows of `windows` that hold no lab result of the read (wholly
    before its first dated result or after its last); None when every window may hold some,
    or the read holds no dated result at all (each window then warns of it)."""
    labs = shared.tables.get("labs")
    column = shared.lab_range[0]
    if labs is None or column not in labs.frame.columns:
        return None
    times = labs.frame[column].to_numpy()
    if times.dtype.kind != "M":
        return None
    dated = times[~np.isnat(times)]
    if len(dated) == 0:
        return None
    first = wall_time_of(pd.Timestamp(dated.min()), timezone)
    last = wall_time_of(pd.Timestamp(dated.max()), timezone)
    before = [w for w in windows if w.end <= first]
    after = [w for w in windows if w.start > last]
    if not before and not after:
        return None
    sides = []
    if before:
        sides.append(f"{_windows(before)} before the first")
    if after:
        sides.append(f"{_windows(after)} after the last")
    outside = f"{len(before) + len(after)} of the {len(windows)} {_kind(windows)}"
    return (
        f"{outside} asked for lie outside the dates of the labs read (site time, {timezone}: "
        f"{'; '.join(sides)}) and are screened on no lab result. Check the dates asked for "
        "and that the extract holds them; stop the run (Ctrl-C) to ask again."
    )


def _kind(windows: Sequence[Window]) -> str:
    """What the windows are called: nights (a day each from midnight), months, or windows."""
    starts = [w.start for w in windows]
    if all(
        s == s.normalize() and w.end == s + pd.Timedelta(days=1) for s, w in zip(starts, windows)
    ):
        return "nights"
    if all(
        s.day == 1 and s == s.normalize() and w.end == s + pd.offsets.MonthBegin(1)
        for s, w in zip(starts, windows)
    ):
        return "months"
    return "windows"


def _windows(windows: list[Window]) -> str:
    if len(windows) == 1:
        return f"{_day(windows[0].start)}"
    return f"{_day(windows[0].start)} to {_day(windows[-1].start)}"


def _day(stamp: pd.Timestamp) -> str:
    return stamp.strftime("%Y-%m-%d")
