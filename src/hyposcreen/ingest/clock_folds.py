"""The hours a site's clocks repeat (when they go back), told on UTC instants.

Times are held as naive site-local wall time, and a wall time in a repeated hour names two
instants an hour apart. A time read without an offset is the first of them (rules.yaml's
header); a time written with its offset, or typed with its zone, says which one it is. For
those the parse marks the second occurrence in a hidden column beside the time
(`fold_column`), and the screen turns wall time back into the instant the source named
(spec §11: every interval is elapsed time).
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


def second_occurrences(instants: pd.Series, timezone: str) -> np.ndarray | None:
    """Whether each naive UTC instant falls in the second occurrence of an hour the clocks of
    `timezone` repeat: None when none does (the usual case, and always in UTC)."""
    known = instants.dropna()
    if known.empty:
        return None
    low, high = known.min(), known.max()
    if high.year - low.year <= _SPAN_YEARS:
        years: list[int] = list(range(low.year, high.year + 1))
    else:
        years = sorted(set(known.dt.year.tolist()))
    values = instants.to_numpy(dtype="datetime64[us]")
    second = np.zeros(len(values), dtype=bool)
    for year in years:
        for start, end in _repeated_instants(timezone, year):
            if start <= high.to_datetime64() and end > low.to_datetime64():
                second |= (values >= start) & (values < end)
    return second if second.any() else None


@lru_cache(maxsize=4096)
def _repeated_instants(timezone: str, year: int) -> tuple[tuple[np.datetime64, np.datetime64], ...]:
    """The UTC instants [start, end) of each second occurrence the clocks of `timezone` make
    in `year` (a clocks-back change at instant T by d: [T, T + d)); () where the zone is not
    one pandas knows (the caller's parse decided those already)."""
    try:
        days = pd.date_range(f"{year}-01-01", f"{year + 1}-01-02", freq="D", unit="us")
        offsets = _utc_offsets(days, timezone)
    except (ValueError, TypeError, KeyError, OverflowError, pd.errors.OutOfBoundsDatetime):
        return ()
    found = []
    for day in np.flatnonzero(offsets[1:] < offsets[:-1]):
        minutes = pd.date_range(days[day], days[day] + _DAY, freq="min", unit="us")
        minute_offsets = _utc_offsets(minutes, timezone)
        for step in np.flatnonzero(minute_offsets[1:] < minute_offsets[:-1]):
            change = minutes[step + 1].to_datetime64()
            found.append((change, change + (minute_offsets[step] - minute_offsets[step + 1])))
    return tuple(found)


def _utc_offsets(instants: pd.DatetimeIndex, timezone: str) -> np.ndarray:
    """The zone's offset from UTC at each naive UTC instant (timedelta64)."""
    local = instants.tz_localize("UTC").tz_convert(timezone).tz_localize(None)
    return (local - instants).to_numpy()
