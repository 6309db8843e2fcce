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
  quarantined. A medication's start written as a word or zeros (`unknown`, `0000-00-00`) is
  no time, as a blank is none: such rows are empty keys, counted with the blank ones in
  `missing_keys` below, so a few home medications whose start the export writes `UNKNOWN` do
  not warn every night where blank ones never did, and half a table without a start warns
  however the export left the starts out (a lab's or a diagnosis's time so written is judged
  as an unreadable one; the words of a medication start warning for its times are told with
  them). A medication's `end_time` that is written but does
  not read (quarantined `bad_time`: the drug's exposure cannot be bounded; a word there loses
  the row, a blank does not) is judged the same way, words and all.
- a stop (exit 3, `unreadable_time_stop`): a table whose key time does not read in at least
  rules.yaml `contracts: broken_share` (half) of its rows that matter, judged on at least
  `contracts: min_rows_to_judge` rows, cannot be screened: the delivery itself is broken (a
  column of spreadsheet serial numbers or epoch seconds, dates in an undeclared order), as the
  data contracts judge a broken delivery. Only times count to it: a word without a digit
  other than 0 (`unknown`, `N/A`, `PRN`, MySQL's zero date `0000-00-00 00:00:00`: a home
  medication's start not known) warns with the unread times but is no time written another
  way, as a blank is none.
  A key time column empty in every row that matters (blank, or such a word) stops the night
  the same way: a column read from the wrong place or left out of the export, never read as
  absent.
- `missing_keys` (exit 4): rows quarantined `missing_key` with an empty key (no patient id, no
  key time, a diagnosis without a code, a medication start written as a word or zeros) above
  `max_missing_key_share` (50 %) of all the table's rows: a mapping that reads the wrong column,
  or an export that left one out. A few empty keys are common in real records (a home
  medication without a start date) and are only quarantined.
  Where the source says why a time is empty (a MIMIC diagnosis whose admission is not in
  `admissions`), the warning and the stop say so rather than blame the mapping.

What the unread texts look like (time_shapes: serial numbers, epochs, day-first dates; words
told as no times, which no date format reads) is told with the warning and the stop, and the
time column is named as the source names it (adapters.time_columns: `measurement_datetime or
measurement_date (read as specimen_time)`). Each message holds counts, column names and
`file:row` references, never a value. Which rows those are, and what they hold, is read once
for the stop and the warnings (quarantined_times).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from hyposcreen.adapters.time_columns import TimeColumns
from hyposcreen.errors import InputError
from hyposcreen.quarantine_text import (
    Matches,
    files_named,
    first_file,
    reference_list,
    references,
)
from hyposcreen.quarantined_times import (
    KEY_TIMES,
    NO_NIGHT,
    UnreadTimes,
    missing_count,
    quarantined,
    rows_that_matter,
    unread_times,
)
from hyposcreen.rules.loader import WarningThresholds
from hyposcreen.run_warnings import RunWarning, share_over
from hyposcreen.time_shapes import unread_told

_KEY_NAMES = {
    "labs": "patient_id, specimen_time",
    "medications": "patient_id, start_time",
    "diagnoses": "patient_id, code, recorded_time",
}
_STOP_EXAMPLES = 5
# tables whose key time real records often do not know (a home medication's start): there a word
# or zeros (`UNKNOWN`, `0000-00-00`) is weighed as a blank; a lab's collection time or a
# diagnosis's recorded time so written is an export's doing, judged as an unreadable time
_UNKNOWN_IN_RECORDS = frozenset({"medications"})
_WRONG_PLACE = "A column the site mapping reads from the wrong place, or one the export left empty?"


def key_time_warnings(
    quarantine: pd.DataFrame,
    reconciliation: Mapping[str, Mapping[str, Any]],
    limits: WarningThresholds,
    where: Matches,
    columns: TimeColumns | None = None,
) -> list[RunWarning]:
    """The `unreadable_times` and `missing_keys` warnings above; `columns`: the source's names
    of the time columns, which the messages use (canonical names without it)."""
    columns = columns or TimeColumns()
    found: list[RunWarning | None] = []
    unread_of: dict[str, list[UnreadTimes]] = {}
    limit = limits.max_unreadable_time_share

    def worth(rows: int, considered: int) -> bool:  # fewer unread times than that cannot warn
        return share_over(rows, considered, limit, limits)

    for unread in unread_times(quarantine, reconciliation, where, worth):
        unread_of.setdefault(unread.table, []).append(unread)
    for table in KEY_TIMES:
        found += [_unreadable(quarantine, u, limits, columns) for u in unread_of.get(table, [])]
        found += _missing_keys(quarantine, reconciliation, limits, where, table, columns)
    return [w for w in found if w is not None]


def _unreadable(
    quarantine: pd.DataFrame, unread: UnreadTimes, limits: WarningThresholds, columns: TimeColumns
) -> RunWarning | None:
    """`unreadable_times` of one table's time column, when over the share. A medication's
    start written as a word or zeros is no time, as a blank is none (_UNKNOWN_IN_RECORDS): such
    rows are empty keys (`missing_keys`), only the times are judged over the share here (the
    words told with them when they warn)."""
    rows, limit = unread.rows, limits.max_unreadable_time_share
    judged = len(rows)
    if unread.reason == "missing_key" and unread.table in _UNKNOWN_IN_RECORDS:
        judged = int(unread.times.sum())
    if not share_over(judged, unread.considered, limit, limits):
        return None
    return RunWarning(
        "unreadable_times",
        f"{len(rows)} of {unread.considered} {unread.table} row(s) ({unread.share():.0%}) "
        f"have {_a(columns.shown(unread.table, unread.column))} that does not read (e.g. "
        f"{references(quarantine, rows)}; "
        f"limit {limit:.0%}): they are quarantined {unread.reason}. "
        f"{_told(unread)} See quarantine.csv." + NO_NIGHT.format(rows="These rows are"),
    )


def unreadable_time_stop(
    quarantine: pd.DataFrame,
    reconciliation: Mapping[str, Mapping[str, Any]],
    contracts: Mapping[str, float],
    where: Matches | None = None,
    columns: TimeColumns | None = None,
) -> None:
    """An InputError (exit 3) when a table's key time does not read in at least
    `contracts: broken_share` of its rows that matter, or is empty in all of them (at least
    `min_rows_to_judge` rows): the table cannot be screened. `where`: the Matches the run's
    warnings use too, so what the originals hold is read once; `columns`: the source's names
    of the time columns, which the message uses."""
    columns = columns or TimeColumns()
    broken_share = float(contracts.get("broken_share", 0.5))
    min_rows = int(contracts.get("min_rows_to_judge", 20))
    where = where or Matches(quarantine)
    judged = {  # tables with enough rows that matter and enough missing keys to be broken
        table: counts
        for table, counts in reconciliation.items()
        if table in KEY_TIMES
        and (considered := rows_that_matter(counts)) >= min_rows
        and missing_count(counts) >= broken_share * considered
    }
    for unread in unread_times(quarantine, judged, where):
        if unread.reason != "missing_key":
            continue
        # a word or zeros (a home medication's start `unknown`, `0000-00-00`) is no time written
        # another way: it warns with the others, but only times can make a delivery broken
        unread = unread.only_times()
        if unread.share() < broken_share:
            continue
        examples = reference_list(quarantine, unread.rows, _STOP_EXAMPLES)
        raise InputError(
            f"{files_named(quarantine, unread.rows)} ({unread.table}): "
            f"{len(unread.rows)} of {unread.considered} "
            f"row(s) ({unread.share():.0%}) have {_a(columns.shown(unread.table, unread.column))} "
            "that does not read, at least "
            f"the share of a broken delivery ({broken_share:.0%}, rules.yaml contracts: "
            f"broken_share): the {unread.table} table cannot be screened. "
            f"{_told(unread)}",
            file=first_file(quarantine, unread.rows),
            column=unread.column,
            examples=examples,
        )
    _empty_time_stop(quarantine, reconciliation, where, min_rows, columns)


def _empty_time_stop(
    quarantine: pd.DataFrame,
    reconciliation: Mapping[str, Mapping[str, Any]],
    where: Matches,
    min_rows: int,
    columns: TimeColumns,
) -> None:
    """An InputError when a table's key time is empty in every one of its rows that matter (at
    least `min_rows` of them): a column read from the wrong place or left out of the export,
    as a column a file does not carry stops the night."""
    for table, column in KEY_TIMES.items():
        counts = reconciliation.get(table)
        if counts is None:
            continue
        considered = rows_that_matter(counts)
        # too few rows, or some row that matters has its keys
        if considered < min_rows or missing_count(counts) < considered:
            continue
        found = quarantined(quarantine, where, table, column, "missing_key")
        empty = found.rows[~found.times]
        if len(empty) < considered:
            continue
        why = columns.absent.get((table, column))
        raise InputError(
            f"{files_named(quarantine, empty)} ({table}): the {columns.shown(table, column)} "
            f"is empty in all {considered} row(s) "
            f"that matter (or a word without a time, such as N/A): the {table} table cannot "
            f"be screened. {_capital(why) if why else _WRONG_PLACE}",
            file=first_file(quarantine, empty),
            column=column,
            examples=reference_list(quarantine, empty, _STOP_EXAMPLES),
        )


def _capital(text: str) -> str:
    return text[0].upper() + text[1:]


def _uncapital(text: str) -> str:
    return text[0].lower() + text[1:]


def _a(column: str) -> str:
    """The column's name after its article (`a specimen_time`, `an end_time`)."""
    return f"{'an' if column[0].lower() in 'aeiou' else 'a'} {column}"


def _told(unread: UnreadTimes) -> str:
    """What the unread times look like and what to do, words told as no times (time_shapes)."""
    return unread_told(unread.texts, unread.times)


def _missing_keys(
    quarantine: pd.DataFrame,
    reconciliation: Mapping[str, Mapping[str, Any]],
    limits: WarningThresholds,
    where: Matches,
    table: str,
    columns: TimeColumns,
) -> list[RunWarning]:
    """`missing_keys`: a table's rows quarantined `missing_key` with an empty key (a medication
    start written as a word or zeros among them: _UNKNOWN_IN_RECORDS); those whose time alone
    is empty told why where the source says (a MIMIC diagnosis whose admission is not in
    admissions: TimeColumns.absent), the words told as such."""
    counts = reconciliation.get(table)
    if counts is None:
        return []
    missing = missing_count(counts)
    if not missing:
        return []
    rows_in = int(counts["rows_in"])
    if not share_over(missing, rows_in, limits.max_missing_key_share, limits):
        return []  # the empty keys among them are no more: no warning
    found = quarantined(quarantine, where, table, KEY_TIMES[table], "missing_key")
    rows, unread = found.rows, found.unread
    words = 0
    if table in _UNKNOWN_IN_RECORDS:  # a word or zeros there is no time: an empty key
        words = int((unread & ~found.times).sum())
        unread = unread & found.times
    empty = missing - int(unread.sum())
    if not share_over(empty, rows_in, limits.max_missing_key_share, limits):
        return []
    column = KEY_TIMES[table]
    why = columns.absent.get((table, column))
    timeless = int((found.keyed & ~found.unread).sum()) if why else 0
    told = f"Of them, {timeless} have no {column}: {why} " if timeless else ""
    if words:
        told += (
            f"{'Of them' if not told else 'And'}, {words} {'has' if words == 1 else 'have'} "
            f"the {column} written as a word or zeros (such as unknown or a zero date), no "
            "time: the export left it blank in another way. "
        )
    if empty > timeless + words:
        told += (
            f"The other {empty - timeless - words}: {_uncapital(_WRONG_PLACE)} "
            if told
            else _WRONG_PLACE + " "
        )
    return [
        RunWarning(
            "missing_keys",
            f"{empty} of {rows_in} {table} row(s) ({empty / rows_in:.0%}) have an empty "
            f"key ({_KEY_NAMES[table]}; e.g. {references(quarantine, rows[~unread])}; "
            "limit "
            f"{limits.max_missing_key_share:.0%}): they are quarantined missing_key. "
            f"{told}See quarantine.csv.",
        )
    ]
