"""The times of a run's quarantined rows that were written but did not read, read once a night.

A row is quarantined `missing_key` when its key time does not read (spec §3), and a medication
`bad_time` when its written end_time does not; the judges of such rows (unreadable_times: the
`unreadable_times` and `missing_keys` warnings, and the stop of a table whose key times mostly
do not read) ask alike which rows they are, what their times look like and whether a time is
a time at all (not a word or zeros: `N/A`, `0000-00-00`). Each table's rows and what their originals
hold are read here once a night (Matches.memo), shared by the stop and the warnings: on a
delivery of hundreds of thousands of such rows each reading of the originals costs seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from hyposcreen.quarantine_text import Matches, key_values, written

# each table's key time, as the quarantine's original text names it
KEY_TIMES = {"labs": "specimen_time", "medications": "start_time", "diagnoses": "recorded_time"}
# other times of a table whose unread text quarantines the row: column -> reason
OTHER_TIMES = {"medications": {"end_time": "bad_time"}}
# not-relevant reasons of a row's time only: such rows are of the extract the undated come from
TIME_ONLY = frozenset({"outside_window", "after_window"})
# said of rows whose time does not read, as the extract-wide counts of unidentified_events are
NO_NIGHT = (
    " {rows} of the whole extract: a time that does not read places its row in no night, so "
    "every night reads it (each night of a backfill and each month of an audit tells them "
    "again)."
)


@dataclass(frozen=True)
class UnreadTimes:
    """A table's rows quarantined (`reason`) for a `column` time that is written but does not
    read: their positions in the quarantine, their time as text (a number's too) and which of
    them hold a time (not a word or zeros), and the rows that matter of the table."""

    table: str
    column: str
    reason: str
    rows: np.ndarray
    texts: pd.Series
    times: np.ndarray
    considered: int

    def share(self) -> float:
        return len(self.rows) / self.considered if self.considered else 0.0

    def only_times(self) -> UnreadTimes:
        """These rows but those whose time is a word or zeros (no time: holds_time)."""
        rows, texts = self.rows[self.times], self.texts[self.times]
        return UnreadTimes(
            self.table,
            self.column,
            self.reason,
            rows,
            texts,
            self.times[self.times],
            self.considered,
        )


@dataclass(frozen=True)
class Quarantined:
    """A table's rows quarantined for a reason (positions in the quarantine), which of them
    have a patient id (a diagnosis a code: `keyed`) and of those which have the time written
    (`unread`), and the time's text of each (a number's too) and whether it may be a time.
    Read once a night: the stop and the warnings ask alike (Matches.memo)."""

    rows: np.ndarray
    keyed: np.ndarray
    unread: np.ndarray
    texts: pd.Series
    times: np.ndarray


def quarantined(
    quarantine: pd.DataFrame, where: Matches, table: str, column: str, reason: str
) -> Quarantined:
    """The `table`'s rows quarantined for `reason` and what they hold of `column`, read once
    for all the judges of one quarantine (`where`)."""
    key = ("quarantined_times", table, column, reason)
    found = where.memo.get(key)
    if isinstance(found, Quarantined):
        return found
    rows = quarantined_rows(quarantine, where, table, reason)
    original = quarantine["original"].iloc[rows]
    values = key_values(original, column)
    keyed = _keyed(quarantine, rows, table)
    unread = keyed & values.written()
    scalars = values.scalars.reset_index(drop=True)
    where.memo[key] = read = Quarantined(rows, keyed, unread, scalars, values.holds_time())
    return read


def quarantined_rows(
    quarantine: pd.DataFrame, where: Matches, table: str, reason: str
) -> np.ndarray:
    """The positions of the `table`'s rows quarantined for `reason`, found once per quarantine
    (`where`), before what their originals hold is read (`quarantined`)."""
    key = ("quarantined_rows", table, reason)
    found = where.memo.get(key)
    if isinstance(found, np.ndarray):
        return found
    rows = np.flatnonzero(where("table", table) & _reason(quarantine, where, reason))
    where.memo[key] = rows
    return rows


def unread_times(
    quarantine: pd.DataFrame,
    reconciliation: Mapping[str, Mapping[str, Any]],
    where: Matches,
    worth: Callable[[int, int], bool] | None = None,
) -> Iterator[UnreadTimes]:
    """The times written but not read of each table, key times first (none: no row);
    `worth(rows, considered)`: whether a table's rows quarantined for the reason, as many as
    `rows` (at least as many as have their time unread), out of its rows that matter, are
    worth reading their originals for (None: always)."""
    for table, key in KEY_TIMES.items():
        counts = reconciliation.get(table)
        if counts is None:
            continue
        considered = rows_that_matter(counts)
        held = counts.get("reasons", {}).get("quarantined", {})
        columns = {key: "missing_key", **OTHER_TIMES.get(table, {})}
        for column, reason in columns.items():
            if not any(why.split(":")[0] == reason and int(n) for why, n in held.items()):
                continue
            rows = len(quarantined_rows(quarantine, where, table, reason))
            if worth is not None and not worth(rows, considered):
                continue
            found = quarantined(quarantine, where, table, column, reason)
            unread = found.unread
            texts = found.texts[unread].reset_index(drop=True)
            yield UnreadTimes(
                table, column, reason, found.rows[unread], texts, found.times[unread], considered
            )


def rows_that_matter(counts: Mapping[str, Any]) -> int:
    """A table's rows that matter: those not set aside as not relevant for what they are."""
    not_relevant = counts.get("reasons", {}).get("not_relevant", {})
    return int(counts["rows_in"]) - sum(
        int(n) for why, n in not_relevant.items() if why not in TIME_ONLY
    )


def missing_count(counts: Mapping[str, Any]) -> int:
    """A table's rows quarantined missing_key."""
    return int(counts.get("reasons", {}).get("quarantined", {}).get("missing_key", 0))


def _reason(quarantine: pd.DataFrame, where: Matches, reason: str) -> np.ndarray:
    """Rows quarantined for `reason` (a contract warning's rows carry its code too:
    `bad_time`)."""
    return where("reason", reason)


def _keyed(quarantine: pd.DataFrame, rows: np.ndarray, table: str) -> np.ndarray:
    """Which quarantined rows (at positions `rows` of the quarantine) hold a patient id (a
    diagnosis also a code): those of them with a time text that is not blank have a time that
    did not read. The original text leaves nulls out and writes white space other than the
    ASCII space as JSON escapes (`\\u00a0`, `\\t`), decoded (KeyValues.written): such a blank
    time is empty, not unreadable."""
    patient = quarantine["patient_id"].iloc[rows]
    keyed = patient.notna().to_numpy() & patient.astype("str").str.strip().ne("").to_numpy()
    if table == "diagnoses":
        keyed &= written(quarantine["original"].iloc[rows], "code")
    return np.asarray(keyed, dtype=bool)
