"""Key times written but not read, and empty keys, judged from the quarantined rows.

The spec quarantines a row whose key is missing (`missing_key`, spec §3); but when a whole
export writes its times in a way the site mapping does not declare, or a mapping reads an empty
column, so many rows go to the quarantine that the list is incomplete:

- `unreadable_times` (exit 4): rows quarantined `missing_key` whose key time is there but does
  not read (a date format the mapping's `datetime_formats` lacks, such as `20.11.2026 06:10`),
  above rules.yaml `warnings: max_unreadable_time_share` (5 %) of the table's rows that matter:
  those not set aside as not relevant for what they are. Rows set aside only for their time
  (outside the window, after it) count: a row whose time does not read cannot be placed in a
  window, so every night reads all of them, from the whole extract; against a night's own rows
  alone, a few old unreadable rows of a year-long extract would warn every night. Only rows
  with a patient id (and a diagnosis code) are counted, so the time is why they are
  quarantined. A medication's `end_time` that is written but does not read (quarantined
  `bad_time`: the drug's exposure cannot be bounded) is judged the same way.
- a stop (exit 3, `unreadable_time_stop`): a table whose key time does not read in at least
  rules.yaml `contracts: broken_share` (half) of its rows that matter, judged on at least
  `contracts: min_rows_to_judge` rows, cannot be screened: the delivery itself is broken (a
  column of spreadsheet serial numbers or epoch seconds, dates in an undeclared order), as the
  data contracts judge a broken delivery. Only times count to it: a word without a digit
  (`unknown`, `N/A`, `PRN`: a home medication's start not known) warns with the unread times
  but is no time written another way, as a blank is none.
  A key time column empty in every row that matters (blank, or such a word) stops the night
  the same way: a column read from the wrong place or left out of the export, never read as
  absent.
- `missing_keys` (exit 4): rows quarantined `missing_key` with an empty key (no patient id, no
  key time, a diagnosis without a code) above `max_missing_key_share` (50 %) of all the table's
  rows: a mapping that reads the wrong column, or an export that left one out. A few empty keys
  are common in real records (a home medication without a start date) and are only quarantined.

What the unread texts look like (time_shapes: serial numbers, epochs, day-first dates) is told
with the warning and the stop. Each message holds counts and `file:row` references, never a
value.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from hyposcreen.errors import InputError
from hyposcreen.quarantine_text import (
    Matches,
    file_name,
    files_named,
    holds_time,
    reference_list,
    references,
    scalar_texts,
    written,
)
from hyposcreen.rules.loader import WarningThresholds
from hyposcreen.run_warnings import RunWarning, share_over
from hyposcreen.time_shapes import shapes_told

# each table's key time, as the quarantine's original text names it
KEY_TIMES = {"labs": "specimen_time", "medications": "start_time", "diagnoses": "recorded_time"}
# other times of a table whose unread text quarantines the row: column -> reason
OTHER_TIMES = {"medications": {"end_time": "bad_time"}}
# not-relevant reasons of a row's time only: such rows are of the extract the undated come from
_TIME_ONLY = frozenset({"outside_window", "after_window"})
_KEY_NAMES = {
    "labs": "patient_id, specimen_time",
    "medications": "patient_id, start_time",
    "diagnoses": "patient_id, code, recorded_time",
}
_STOP_EXAMPLES = 5
_UNDECLARED = "A date format the site mapping does not declare (datetime_formats)?"


@dataclass(frozen=True)
class UnreadTimes:
    """A table's rows quarantined (`reason`) for a `column` time that is written but does not
    read: their positions in the quarantine, and the rows that matter of the table."""

    table: str
    column: str
    reason: str
    rows: np.ndarray
    considered: int

    def share(self) -> float:
        return len(self.rows) / self.considered if self.considered else 0.0


def unread_times(
    quarantine: pd.DataFrame, reconciliation: Mapping[str, Mapping[str, Any]], where: Matches
) -> Iterator[UnreadTimes]:
    """The times written but not read of each table, key times first (none: no row)."""
    for table, key in KEY_TIMES.items():
        counts = reconciliation.get(table)
        if counts is None:
            continue
        considered = _considered(counts)
        quarantined = counts.get("reasons", {}).get("quarantined", {})
        columns = {key: "missing_key", **OTHER_TIMES.get(table, {})}
        for column, reason in columns.items():
            if not any(why.split(":")[0] == reason and int(n) for why, n in quarantined.items()):
                continue
            rows = np.flatnonzero(where("table", table) & _reason(quarantine, where, reason))
            unread = rows[_time_unread(quarantine, rows, table, column)]
            yield UnreadTimes(table, column, reason, unread, considered)


def key_time_warnings(
    quarantine: pd.DataFrame,
    reconciliation: Mapping[str, Mapping[str, Any]],
    limits: WarningThresholds,
    where: Matches,
) -> list[RunWarning]:
    """The `unreadable_times` and `missing_keys` warnings above."""
    found: list[RunWarning | None] = []
    unread_of: dict[str, list[UnreadTimes]] = {}
    for unread in unread_times(quarantine, reconciliation, where):
        unread_of.setdefault(unread.table, []).append(unread)
    for table in KEY_TIMES:
        found += [_unreadable(quarantine, u, limits) for u in unread_of.get(table, [])]
        found += _missing_keys(quarantine, reconciliation, limits, where, table)
    return [w for w in found if w is not None]


def _unreadable(
    quarantine: pd.DataFrame, unread: UnreadTimes, limits: WarningThresholds
) -> RunWarning | None:
    """`unreadable_times` of one table's time column, when over the share."""
    rows, limit = unread.rows, limits.max_unreadable_time_share
    if not share_over(len(rows), unread.considered, limit, limits):
        return None
    return RunWarning(
        "unreadable_times",
        f"{len(rows)} of {unread.considered} {unread.table} row(s) ({unread.share():.0%}) "
        f"have {_a(unread.column)} that does not read (e.g. {references(quarantine, rows)}; "
        f"limit {limit:.0%}): they are quarantined {unread.reason}. "
        f"{_told(quarantine, rows, unread.column)} See quarantine.csv.",
    )


def unreadable_time_stop(
    quarantine: pd.DataFrame,
    reconciliation: Mapping[str, Mapping[str, Any]],
    contracts: Mapping[str, float],
) -> None:
    """An InputError (exit 3) when a table's key time does not read in at least
    `contracts: broken_share` of its rows that matter, or is empty in all of them (at least
    `min_rows_to_judge` rows): the table cannot be screened."""
    broken_share = float(contracts.get("broken_share", 0.5))
    min_rows = int(contracts.get("min_rows_to_judge", 20))
    where = Matches(quarantine)
    judged = {  # tables with enough rows that matter and enough missing keys to be broken
        table: counts
        for table, counts in reconciliation.items()
        if table in KEY_TIMES
        and (considered := _considered(counts)) >= min_rows
        and _missing(counts) >= broken_share * considered
    }
    for unread in unread_times(quarantine, judged, where):
        if unread.reason != "missing_key":
            continue
        # a word without a digit (a home medication's start `unknown`) is no time written
        # another way: it warns with the others, but only times can make a delivery broken
        original = quarantine["original"].iloc[unread.rows]
        unread = replace(unread, rows=unread.rows[holds_time(original, unread.column)])
        if unread.share() < broken_share:
            continue
        examples = reference_list(quarantine, unread.rows, _STOP_EXAMPLES)
        files = sorted(set(quarantine["source_file"].iloc[unread.rows].astype("str")))
        raise InputError(
            f"{files_named(quarantine, unread.rows)} ({unread.table}): "
            f"{len(unread.rows)} of {unread.considered} "
            f"row(s) ({unread.share():.0%}) have {_a(unread.column)} that does not read, at least "
            f"the share of a broken delivery ({broken_share:.0%}, rules.yaml contracts: "
            f"broken_share): the {unread.table} table cannot be screened. "
            f"{_told(quarantine, unread.rows, unread.column)}",
            file=file_name(files[0]),
            column=unread.column,
            examples=examples,
        )
    _empty_time_stop(quarantine, reconciliation, where, min_rows)


def _empty_time_stop(
    quarantine: pd.DataFrame,
    reconciliation: Mapping[str, Mapping[str, Any]],
    where: Matches,
    min_rows: int,
) -> None:
    """An InputError when a table's key time is empty in every one of its rows that matter (at
    least `min_rows` of them): a column read from the wrong place or left out of the export,
    as a column a file does not carry stops the night."""
    for table, column in KEY_TIMES.items():
        counts = reconciliation.get(table)
        if counts is None:
            continue
        considered = _considered(counts)
        # too few rows, or some row that matters has its keys
        if considered < min_rows or _missing(counts) < considered:
            continue
        rows = np.flatnonzero(where("table", table) & where("reason", "missing_key"))
        empty = rows[~holds_time(quarantine["original"].iloc[rows], column)]
        if len(empty) < considered:
            continue
        files = sorted(set(quarantine["source_file"].iloc[empty].astype("str")))
        raise InputError(
            f"{files_named(quarantine, empty)} ({table}): the {column} is empty in all "
            f"{considered} row(s) "
            f"that matter (or a word without a digit, such as N/A): the {table} table cannot "
            "be screened. A column the site mapping reads from the wrong place, or one the "
            "export left empty?",
            file=file_name(files[0]),
            column=column,
            examples=reference_list(quarantine, empty, _STOP_EXAMPLES),
        )


def _considered(counts: Mapping[str, Any]) -> int:
    """A table's rows that matter: those not set aside as not relevant for what they are."""
    not_relevant = counts.get("reasons", {}).get("not_relevant", {})
    return int(counts["rows_in"]) - sum(
        int(n) for why, n in not_relevant.items() if why not in _TIME_ONLY
    )


def _missing(counts: Mapping[str, Any]) -> int:
    """A table's rows quarantined missing_key."""
    return int(counts.get("reasons", {}).get("quarantined", {}).get("missing_key", 0))


def _a(column: str) -> str:
    """The column's name after its article (`a specimen_time`, `an end_time`)."""
    return f"{'an' if column[0] in 'aeiou' else 'a'} {column}"


def _told(quarantine: pd.DataFrame, rows: np.ndarray, column: str) -> str:
    """What the unread times look like and what to do (time_shapes), else the question
    whether the mapping lacks a date format."""
    texts = scalar_texts(quarantine["original"].iloc[rows], column)
    return shapes_told(texts) or _UNDECLARED


def _reason(quarantine: pd.DataFrame, where: Matches, reason: str) -> np.ndarray:
    """Rows quarantined for `reason` (a contract warning's reason carries its check after a
    colon: `bad_time:expect_column_values_to_not_be_null`)."""
    if reason == "missing_key":
        return where("reason", reason)
    text = quarantine["reason"].astype("str")
    return text.str.startswith(f"{reason}:").to_numpy(dtype=bool) | where("reason", reason)


def _missing_keys(
    quarantine: pd.DataFrame,
    reconciliation: Mapping[str, Mapping[str, Any]],
    limits: WarningThresholds,
    where: Matches,
    table: str,
) -> list[RunWarning]:
    """`missing_keys`: a table's rows quarantined `missing_key` with an empty key."""
    counts = reconciliation.get(table)
    if counts is None:
        return []
    missing = int(counts.get("reasons", {}).get("quarantined", {}).get("missing_key", 0))
    if not missing:
        return []
    rows = np.flatnonzero(where("table", table) & where("reason", "missing_key"))
    unread = _time_unread(quarantine, rows, table, KEY_TIMES[table])
    empty = missing - int(unread.sum())
    rows_in = int(counts["rows_in"])
    if not share_over(empty, rows_in, limits.max_missing_key_share, limits):
        return []
    return [
        RunWarning(
            "missing_keys",
            f"{empty} of {rows_in} {table} row(s) ({empty / rows_in:.0%}) have an empty "
            f"key ({_KEY_NAMES[table]}; e.g. {references(quarantine, rows[~unread])}; "
            "limit "
            f"{limits.max_missing_key_share:.0%}): they are quarantined missing_key. "
            "A column the site mapping reads from the wrong place, or one the export "
            "left empty? See quarantine.csv.",
        )
    ]


def _time_unread(quarantine: pd.DataFrame, rows: np.ndarray, table: str, time: str) -> np.ndarray:
    """Which quarantined rows (at positions `rows` of the quarantine) hold a patient id (a
    diagnosis also a code) and a `time` text that is not blank: their time is what did not
    read. The original text leaves nulls out and writes white space other than the ASCII space
    as JSON escapes (`\\u00a0`, `\\t`), decoded here: such a blank time is empty, not
    unreadable."""
    patient = quarantine["patient_id"].iloc[rows]
    original = quarantine["original"].iloc[rows]
    wanted = patient.notna().to_numpy() & patient.astype("str").str.strip().ne("").to_numpy()
    wanted &= written(original, time)
    if table == "diagnoses":
        wanted &= written(original, "code")
    return np.asarray(wanted, dtype=bool)
