"""Lab specimen times delivered as a date without a clock time.

A site that maps a date column (`COLLECT_DATE`) as `specimen_time`, or whose export kept only
the date, gives every result of a day the same time, midnight: results of one day with the
same value count as duplicates of one another, a glucose of any hour corrects a sodium (the
pairing span is ±60 min), and the 48 h change and the correction rate are measured in days.
The list is written, but it should not be read as a quiet night: more than rules.yaml
`warnings: max_unreadable_time_share` (5 %, the share of key times that cannot be placed: a
date alone cannot be placed within its day) of the lab rows with a readable time, judged on
at least `min_rows_for_share` rows, warns (exit 4). Counts only.

- canonical (counted as `labs`): a time is date-only when its text holds no clock time (no
  `:`, and no more digits than a date has: `20261120000000`, a site format's compact
  midnight, holds one) and it reads as midnight; typed Parquet timestamps are not judged
  (their text is not kept), typed dates are.
- omop (counted as `measurement`): a row the adapter dated by a date alone
  (`ingest.frames.date_alone_column`: `measurement_date` with `measurement_datetime` blank
  and no `measurement_time`, or a `measurement_datetime` holding a date without a clock time,
  `2026-11-20` or a Parquet column typed date) that reads as midnight, whatever the date
  column's type. A `measurement_datetime` at 00:00 is not counted: it states a clock time, as
  `2026-11-20T00:00:00` does in the canonical layout, and a row cannot tell a draw at
  midnight from an ETL's filled-in one.
- fhir (counted as `Observation`): the chosen time's text (`effectiveDateTime`, else
  `effectivePeriod.start`, ...: fhir_labs) judged as the canonical text is. FHIR writes a date
  or dateTime as text, and one with a clock always has `:` (`2026-11-20T00:00:00Z` is a
  midnight stated): a date alone (`2026-11-20`, midnight of its day) or coarser (`2026-11`,
  midnight of the first of its month; `2026`) reads as midnight and holds none.
- other sources are not judged.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from hyposcreen.ingest.frames import date_alone_column, written_without_clock
from hyposcreen.rules.loader import WarningThresholds
from hyposcreen.run_warnings import RunWarning, share_over

COLUMN = "specimen_time"
# source -> the table its counts are kept under (delivery_counts), and so the message's words
JUDGED_TABLES = {"canonical": "labs", "omop": "measurement", "fhir": "Observation"}
_JUDGED_BY_TEXT = ("canonical", "fhir")  # the others by the adapter's mark
_OMOP_TIME = "measurement_datetime"

DateOnlyCounts = dict[str, tuple[int, int]]  # table -> (rows with a readable time, date-only)


def date_only_times(labs: pd.DataFrame, source: str) -> DateOnlyCounts | None:
    """{table: (lab rows with a readable specimen_time, those of them dated by a date alone)}
    of a `source` that is judged (None: not judged)."""
    table = JUDGED_TABLES.get(source)
    if table is None:
        return None
    rows = date_only_rows(labs, source)
    if rows is None:
        return {table: (0, 0)}
    timed, date_only = rows
    return {table: (int(timed.sum()), int(date_only.sum()))}


def date_only_rows(labs: pd.DataFrame, source: str) -> tuple[np.ndarray, np.ndarray] | None:
    """Per lab row, whether its specimen_time reads and whether it is dated by a date alone
    (`date_only_times` counts them); None when `source` is not judged or the frame lacks the
    time column (or, judged by its text, that text)."""
    if source == "omop" and COLUMN in labs.columns:
        return _omop_rows(labs)
    if source not in _JUDGED_BY_TEXT or COLUMN not in labs.columns or f"{COLUMN}_raw" not in labs:
        return None
    times = labs[COLUMN]
    timed = times.notna().to_numpy(dtype=bool)
    raw = labs[f"{COLUMN}_raw"]
    rows = np.flatnonzero(timed & raw.notna().to_numpy(dtype=bool))
    texts = raw.iloc[rows].astype("str")
    date_only = np.zeros(len(labs), dtype=bool)
    date_only[rows] = written_without_clock(texts) & _midnight(times, rows)
    return timed, date_only


def _omop_rows(labs: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """`date_only_rows` of OMOP labs: the rows the adapter marked as dated by measurement_date
    alone that read as midnight (a date column holding a clock time is read with it)."""
    times = labs[COLUMN]
    timed = times.notna().to_numpy(dtype=bool)
    date_only = np.zeros(len(labs), dtype=bool)
    marks = labs.get(date_alone_column(COLUMN))
    if marks is None:  # no row of the frame was marked (an empty partition)
        return timed, date_only
    rows = np.flatnonzero(timed & marks.eq(True).to_numpy(dtype=bool, na_value=False))
    date_only[rows] = _midnight(times, rows)
    return timed, date_only


def _midnight(times: pd.Series, rows: np.ndarray) -> np.ndarray:
    chosen = times.iloc[rows]
    return (chosen == chosen.dt.normalize()).to_numpy(dtype=bool)


def date_only_warnings(
    counts: Mapping[str, tuple[int, int]] | None,
    limits: WarningThresholds,
    source_counts: Mapping[str, Mapping[str, int]] | None = None,
) -> list[RunWarning]:
    """A warning when over `max_unreadable_time_share` of the timed lab rows are date-only;
    `source_counts` (the labs table's) say whether OMOP's measurement files lack the
    measurement_datetime column (adapters.omop), which the message then names."""
    limit = limits.max_unreadable_time_share
    absent = (source_counts or {}).get(JUDGED_TABLES["omop"], {})
    return [
        RunWarning("date_only_times", _message(table, date_only, timed, limit, absent))
        for table, (timed, date_only) in sorted((counts or {}).items())
        if share_over(date_only, timed, limit, limits)
    ]


def _message(
    table: str, date_only: int, timed: int, limit: float, absent: Mapping[str, int]
) -> str:
    """The warning in the words of the table counted (`JUDGED_TABLES`)."""
    share = f"({date_only / timed:.0%})"
    if table == JUDGED_TABLES["omop"]:
        files, without = absent.get("files", 0), absent.get(f"files_without_{_OMOP_TIME}", 0)
        if without and without == files:
            stated = (
                f"the extract's measurement table has no {_OMOP_TIME} column (and no "
                "measurement_time is given)"
            )
            ask = f"add the {_OMOP_TIME} column"
        else:
            stated = (
                f"their {_OMOP_TIME} is blank (and no measurement_time is given) or holds a "
                "date without a clock time"
            )
            if without:
                stated += f" ({without} of {files} measurement file(s) have no such column)"
            ask = f"fill {_OMOP_TIME}"
        return (
            f"{date_only} of {timed} OMOP measurement row(s) {share} are dated by a date "
            f"alone (limit {limit:.0%}): {stated}, so each is read as midnight of its day. "
            "Results of one day meet as duplicates, a glucose of any hour corrects a sodium "
            "and the 48 h change is measured in days: read the list with care. Can the extract "
            f"{ask} with the clock time (or measurement_time)?"
        )
    if table == JUDGED_TABLES["fhir"]:
        return (
            f"{date_only} of {timed} FHIR Observation row(s) {share} have an effective time "
            "(effectiveDateTime or effectivePeriod; issued where neither is given) written as a "
            "date alone, or a year and month, without a clock time (limit "
            f"{limit:.0%}): each is read as midnight of its day (a year and "
            "month as midnight of the month's first day). Results of one day meet as "
            "duplicates, a glucose of any hour corrects a sodium and the 48 h change is "
            "measured in days: read the list with care. Can the export write the time the "
            "specimen was taken (effectiveDateTime with its time and offset, or "
            "effectiveInstant)?"
        )
    return (
        f"{date_only} of {timed} lab row(s) {share} have a specimen_time that is a date "
        f"without a clock time (limit {limit:.0%}): they are read as midnight, so results of "
        "one day meet as duplicates and a glucose of any hour corrects a sodium. Does the site "
        "mapping read a date column as specimen_time?"
    )
