"""The hours a site's clocks repeat (when they go back) and skip (when they go forward).

Times are held as naive site-local wall time, and a wall time in a repeated hour names two
instants an hour apart. A time read without an offset is the first of them (rules.yaml's
header); a time written with its offset, or typed with its zone, says which one it is. For
those the parse marks the second occurrence in a hidden column beside the time
(`fold_column`), and the screen turns wall time back into the instant the source named
(spec §11: every interval is elapsed time). A wall time the clocks skip names no instant: it
is read as the end of the gap (`past_skipped`: 02:30 is 03:00 on Berlin's spring night), at
parsing, so every comparison of times (intervals, duplicates, a drug's end before its start)
reads it alike.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

_DAY = pd.Timedelta(days=1)
# a year is scanned for its clocks-back days when an instant falls in it; instants spread
# over more years than this are scanned by their distinct years instead of the whole span
_SPAN_YEARS = 200


def fold_column(column: str) -> str:
    """The hidden column that marks the rows of `column` read as the second occurrence of a
    repeated hour (True); absent, or null in a row, means the first occurrence."""
    return f"{column}_fold"


def fold_columns(time_columns: tuple[str, ...]) -> set[str]:
    """The hidden columns that may mark `time_columns`' second occurrences."""
    return {fold_column(c) for c in time_columns}


def second_marks(frame: pd.DataFrame, column: str) -> np.ndarray | None:
    """Which rows of `frame` hold `column`'s time as a repeated hour's second occurrence (a
    null mark is the first), from its `fold_column`; None when `frame` has no such column."""
    marks = frame.get(fold_column(column))
    return None if marks is None else marks.fillna(False).to_numpy(dtype=bool)


def second_occurrences(instants: pd.Series, timezone: str) -> np.ndarray | None:
    """Whether each naive UTC instant falls in the second occurrence of an hour the clocks of
    `timezone` repeat: None when none does (the usual case, and always in UTC)."""
    values = instants.to_numpy(dtype="datetime64[us]")
    second = np.zeros(len(values), dtype=bool)
    for change, before, after in _changes_near(instants, timezone):
        if after < before:  # clocks back: [change, change + (before - after)) again
            second |= (values >= change) & (values < change + (before - after))
    return second if second.any() else None


def offset_column(column: str) -> str:
    """The hidden column of a screen output beside `column` that holds, for each time in an
    hour the clocks repeat (either occurrence), its UTC offset as ISO 8601 writes it
    ('+02:00' for the first 02:30 of Berlin's autumn night, '+01:00' for the second); null
    elsewhere, and absent when no time of the column falls in such an hour."""
    return f"{column}_offset"


def time_offsets(frame: pd.DataFrame, column: str) -> np.ndarray | None:
    """`column`'s `offset_column` of `frame` as an object array (None where a time is in no
    repeated hour); None when the frame has no such offset."""
    values = frame.get(offset_column(column))
    if values is None:
        return None
    offsets = values.to_numpy(dtype=object)
    missing = pd.isna(offsets)
    if missing.all():
        return None
    offsets[missing] = None
    return offsets


def repeated_hour_offsets(instants: pd.Series, timezone: str) -> np.ndarray | None:
    """For each naive UTC instant whose site-local wall time the clocks of `timezone` show
    twice, the offset that belongs to the instant ('+02:00' before the change, '+01:00' after
    it), as an object array with None elsewhere; None when no instant falls in such an hour
    (the usual case, and always in UTC)."""
    values = instants.to_numpy(dtype="datetime64[us]")
    offsets: np.ndarray | None = None
    for change, before, after in _changes_near(instants, timezone):
        if after >= before:
            continue
        repeat = before - after  # the wall hour [change + after, change + before) twice
        first = (values >= change - repeat) & (values < change)
        second = (values >= change) & (values < change + repeat)
        if first.any() or second.any():
            offsets = np.full(len(values), None, dtype=object) if offsets is None else offsets
            offsets[first] = _offset_text(before)
            offsets[second] = _offset_text(after)
    return offsets


def _offset_text(offset: np.timedelta64) -> str:
    """'+01:00', '-05:00', '+10:30' of an offset from UTC."""
    minutes = int(offset // np.timedelta64(1, "m"))
    sign = "-" if minutes < 0 else "+"
    hours, minute = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{minute:02d}"


def past_skipped(wall: pd.Series, timezone: str) -> pd.Series:
    """Naive wall times (datetime64[us]) with those the clocks of `timezone` skip moved to the
    end of the gap; `wall` itself when none is skipped."""
    values = wall.to_numpy(dtype="datetime64[us]")
    moved: np.ndarray | None = None
    for change, before, after in _changes_near(wall, timezone):
        if after > before:  # clocks forward: wall [change + before, change + after) skipped
            skipped = (values >= change + before) & (values < change + after)
            if skipped.any():
                moved = values.copy() if moved is None else moved
                moved[skipped] = change + after
    return wall if moved is None else pd.Series(moved, index=wall.index, dtype="datetime64[us]")


def _changes_near(
    times: pd.Series, timezone: str
) -> list[tuple[np.datetime64, np.timedelta64, np.timedelta64]]:
    """The zone's changes (UTC instant, offset before, offset after) in the years of `times`
    (naive; a day either side), for a zone pandas knows."""
    known = times.dropna()
    if known.empty:
        return []
    low, high = known.min() - _DAY, known.max() + _DAY
    if high.year - low.year <= _SPAN_YEARS:
        years: list[int] = list(range(low.year, high.year + 1))
    else:
        years = sorted(set(known.dt.year.tolist()))
    low_us, high_us = low.to_datetime64(), high.to_datetime64()
    return [
        found
        for year in years
        for found in _changes(timezone, year)
        if low_us <= found[0] <= high_us
    ]


@lru_cache(maxsize=4096)
def _changes(
    timezone: str, year: int
) -> tuple[tuple[np.datetime64, np.timedelta64, np.timedelta64], ...]:
    """Each change of the zone's offset in `year` (UTC): its instant and the offsets before and
    after; () in UTC or where the zone is not one pandas knows (the parse decided those)."""
    try:
        days = pd.date_range(f"{year}-01-01", f"{year + 1}-01-02", freq="D", unit="us")
        offsets = _utc_offsets(days, timezone)
    except (ValueError, TypeError, KeyError, OverflowError, pd.errors.OutOfBoundsDatetime):
        return ()
    found = []
    for day in np.flatnonzero(offsets[1:] != offsets[:-1]):
        minutes = pd.date_range(days[day], days[day] + _DAY, freq="min", unit="us")
        minute_offsets = _utc_offsets(minutes, timezone)
        for step in np.flatnonzero(minute_offsets[1:] != minute_offsets[:-1]):
            change = minutes[step + 1].to_datetime64()
            found.append((change, minute_offsets[step], minute_offsets[step + 1]))
    return tuple(found)


def _utc_offsets(instants: pd.DatetimeIndex, timezone: str) -> np.ndarray:
    """The zone's offset from UTC at each naive UTC instant (timedelta64)."""
    local = instants.tz_localize("UTC").tz_convert(timezone).tz_localize(None)
    return (local - instants).to_numpy()
