"""How much of each audit month the data cover, as the page marks it beside the month.

A month's counts are only comparable with another's when the extract covers both: a delivery
cut on the 21st leaves the last nine days of its month without a sodium result, and the month's
cases read as a fall. The audit counts the days of each month on which a sodium row is dated
(`coverage` rows of audit_tables.csv, report.audit_measures); the page marks a month with days
without one `partial data` (`no data` when it has none) in its column head and its plots' axis,
and a month the audit's period cuts (`--start 2026-10-15`) with the days it holds.
"""

from __future__ import annotations

import pandas as pd

from hyposcreen.config import Window
from hyposcreen.report.audit_measures import TOTAL

PARTIAL = "partial data"
NO_DATA = "no data"


def coverage_marks(frame: pd.DataFrame) -> dict[str, str]:
    """Period -> `partial data`, `no data` or "" (every day has a sodium row, or the period's
    coverage is hidden with its sodium rows: nothing is told of it). The whole period is
    `partial data` when a month is partial or has no data."""
    rows = frame.loc[(frame["table"] == "coverage") & (frame["suppressed"] == "")]
    marks: dict[str, str] = {}
    for period, days, of in zip(rows["period"], rows["value"], rows["denominator"], strict=True):
        if int(days) == 0 and int(of) > 0:
            marks[str(period)] = NO_DATA
        elif int(days) < int(of):
            marks[str(period)] = PARTIAL
    if any(period != TOTAL for period in marks):
        marks[TOTAL] = PARTIAL
    return marks


def window_days_text(window: Window) -> str:
    """The days a month's window holds when the audit's period cuts its calendar month
    (`15 Oct–31 Oct`), else "" (the whole month)."""
    month = window.start.to_period("M")
    whole = window.start == month.start_time and window.end == (month + 1).start_time
    if whole:
        return ""
    last = window.end - pd.Timedelta(microseconds=1)
    return f"{window.start:%-d %b}–{last:%-d %b}"


def tick_label(period: str, marks: dict[str, str]) -> str:
    """A plot's axis label of a month, with its mark under it."""
    return f"{period}\n{marks[period]}" if period in marks else period
