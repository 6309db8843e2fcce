"""Lab specimen times delivered as a date without a clock time.

A site that maps a date column (`COLLECT_DATE`) as `specimen_time`, or whose export kept only
the date, gives every result of a day the same time, midnight: results of one day with the
same value count as duplicates of one another, a glucose of any hour corrects a sodium (the
pairing span is ±60 min), and the 48 h change and the correction rate are measured in days.
The list is written, but it should not be read as a quiet night: more than rules.yaml
`warnings: max_unreadable_time_share` (5 %, the share of key times that cannot be placed: a
date alone cannot be placed within its day) of the lab rows with a readable time, judged on
at least `min_rows_for_share` rows, warns (exit 4). A time is date-only when its text holds
no clock time (no `:`, and no more digits than a date has: `20261120000000`, a site format's
compact midnight, holds one) and it reads as midnight; typed Parquet timestamps are not judged
(their text is not kept), typed dates are; the canonical layout only (delivery_counts). Counts
only."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hyposcreen.rules.loader import WarningThresholds
from hyposcreen.run_warnings import RunWarning, share_over

COLUMN = "specimen_time"
_DATE_DIGITS = 8  # a date alone has at most 8 digits (20261120, 20.11.2026); a clock adds more


def date_only_times(labs: pd.DataFrame) -> tuple[int, int]:
    """(lab rows with a readable specimen_time, those of them written as a date alone)."""
    rows = date_only_rows(labs)
    if rows is None:
        return 0, 0
    timed, date_only = rows
    return int(timed.sum()), int(date_only.sum())


def date_only_rows(labs: pd.DataFrame) -> tuple[np.ndarray, np.ndarray] | None:
    """Per lab row, whether its specimen_time reads and whether it is written as a date alone
    (`date_only_times` counts them); None without the time column or its text."""
    if COLUMN not in labs.columns or f"{COLUMN}_raw" not in labs.columns:
        return None
    times = labs[COLUMN]
    timed = times.notna().to_numpy(dtype=bool)
    raw = labs[f"{COLUMN}_raw"]
    rows = np.flatnonzero(timed & raw.notna().to_numpy(dtype=bool))
    texts = raw.iloc[rows].astype("str")
    no_clock = ~texts.str.contains(":", regex=False) & (texts.str.count(r"\d") <= _DATE_DIGITS)
    chosen = times.iloc[rows]
    midnight = chosen == chosen.dt.normalize()
    date_only = np.zeros(len(labs), dtype=bool)
    date_only[rows] = no_clock.to_numpy(dtype=bool) & midnight.to_numpy(dtype=bool)
    return timed, date_only


def date_only_warnings(
    counts: tuple[int, int] | None, limits: WarningThresholds
) -> list[RunWarning]:
    """A warning when over `max_unreadable_time_share` of the timed lab rows are date-only."""
    if counts is None:
        return []
    timed, date_only = counts
    if not share_over(date_only, timed, limits.max_unreadable_time_share, limits):
        return []
    return [
        RunWarning(
            "date_only_times",
            f"{date_only} of {timed} lab row(s) ({date_only / timed:.0%}) have a specimen_time "
            "that is a date without a clock time (limit "
            f"{limits.max_unreadable_time_share:.0%}): they are read as midnight, so results of "
            "one day meet as duplicates and a glucose of any hour corrects a sodium. Does the "
            "site mapping read a date column as specimen_time?",
        )
    ]
