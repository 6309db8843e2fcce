"""Warnings read from the quarantined rows: a delivery the site's settings do not read.

The spec quarantines a row whose key is missing or whose result is not a number, and that is
right for a row; but when a whole export writes its times or numbers in a way the site mapping
does not declare, or a mapping reads an empty column, so many rows go to the quarantine that the
list is incomplete, and the night must not pass as quiet (exit 4):

- `unreadable_times`: rows quarantined `missing_key` whose key time is there but does not read
  (a date format the mapping's `datetime_formats` lacks, such as `20.11.2026 06:10`), above
  rules.yaml `warnings: max_unreadable_time_share` (5 %) of the table's rows that matter: those
  not set aside as not relevant for what they are. Rows set aside only for their time (outside
  the window, after it) count: a row whose time does not read cannot be placed in a window, so
  every night reads all of them, from the whole extract; against a night's own rows alone, a
  few old unreadable rows of a year-long extract would warn every night. Only rows with a
  patient id (and a diagnosis code) are counted, so the time is why they are quarantined.
- `missing_keys`: rows quarantined `missing_key` with an empty key (no patient id, no key time,
  a diagnosis without a code) above `max_missing_key_share` (50 %) of all the table's rows: a
  mapping that reads the wrong column, or an export that left one out. A few empty keys are
  common in real records (a home medication without a start date) and are only quarantined.
- `export_errors`: a FHIR export holding OperationOutcome errors (quarantined `export_error`,
  adapters.fhir): the server said the export is incomplete. Any such row warns.
- `unresolved_references`: FHIR resources naming their drug only by a reference to a
  Medication the export does not hold (quarantined `unresolved_reference`, adapters.fhir):
  part of the export did not arrive. Any such row warns.
- `broken_documents`: a FHIR JSON document that does not read as JSON or holds no resource
  (quarantined `broken_document`, adapters.fhir_scan): one row stands for a whole file, for
  Synthea a patient's whole record. Any such row warns; the text names no file (Synthea's
  file names carry the patient's name), quarantine.csv does.
- `malformed_rows`: rows that do not read as a row (quarantined `malformed_row`): a CSV line
  whose fields do not split into the header's columns (a comma left unquoted inside a value
  such as `Osmolality, serum`), a FHIR NDJSON line that is not a JSON object (a line cut off in
  transfer). The delivery is broken, not the record, and one such row can take a patient off
  the list: more than rules.yaml `warnings: max_malformed_rows` (0) in a table warns, with
  the table's count and share, in every source.
- `decimal_commas`: lab results written as numbers with a decimal comma (`3,4`, `<0,5`) while
  the site's decimal is `.`: quarantined `non_numeric`, so the co-factors and glucose
  corrections they carry are lost. A result is one when ingest.values reads it as a number
  with the comma as the decimal (padded, `≤0,5`, `less than 0,5`), not `1,050` (thousands).
  Any such row warns: the mapping has a key for it.
- `thousands_separators`: lab results written with a thousands separator (`1,050`, a glucose
  in mg/dL or a urine osmolality) while the site's decimal is `.`: quarantined `non_numeric`
  (spec §3), so a glucose correction is lost and a sodium it explains may be listed. Any such
  row warns: the export, not the record, writes the number so.

Each message holds counts and up to three `file:row` references, never a value.

A delivery whose every result, sodium too, is written with a decimal comma stops on the critical
non-numeric sodium check before any warning (decimal_commas.with_decimal_comma_hint).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hyposcreen.arrow_columns import arrow_text, holds_arrow_text
from hyposcreen.decimal_commas import decimal_comma_numbers, thousands_numbers
from hyposcreen.rules.loader import WarningThresholds
from hyposcreen.run_warnings import RunWarning, share_over

# each table's key time, as the quarantine's original text names it
KEY_TIMES = {"labs": "specimen_time", "medications": "start_time", "diagnoses": "recorded_time"}
EXAMPLES = 3
# not-relevant reasons of a row's time only: such rows are of the extract the undated come from
_TIME_ONLY = frozenset({"outside_window", "after_window"})
# a value that is not text in the original (a number: a Parquet code column of integers)
_NOT_TEXT = r'"{key}": [^"\s]'
# a JSON text value of report.quarantine's original (escapes kept), after its key
_JSON_TEXT = r'("(?:[^"\\]|\\.)*")'


def quarantine_warnings(
    quarantine: pd.DataFrame,
    reconciliation: Mapping[str, Mapping[str, Any]],
    limits: WarningThresholds,
    decimal: str = ".",
) -> list[RunWarning]:
    """The warnings above, from the run's quarantine rows (report.quarantine's columns) and
    reconciliation (per table: rows_in and reasons by bucket)."""
    found: list[RunWarning] = []
    where = _Matches(quarantine)
    for table, time in KEY_TIMES.items():
        counts = reconciliation.get(table)
        if counts is None:
            continue
        reasons = counts.get("reasons", {})
        missing = int(reasons.get("quarantined", {}).get("missing_key", 0))
        if not missing:
            continue
        rows = np.flatnonzero(where("table", table) & where("reason", "missing_key"))
        unread = _time_unread(quarantine, rows, table, time)
        unreadable = rows[unread]
        considered = int(counts["rows_in"]) - sum(
            int(n) for why, n in reasons.get("not_relevant", {}).items() if why not in _TIME_ONLY
        )
        if share_over(len(unreadable), considered, limits.max_unreadable_time_share, limits):
            share = len(unreadable) / considered
            found.append(
                RunWarning(
                    "unreadable_times",
                    f"{len(unreadable)} of {considered} {table} row(s) ({share:.0%}) have a "
                    f"{time} that does not read (e.g. {_references(quarantine, unreadable)}; limit "
                    f"{limits.max_unreadable_time_share:.0%}): they are quarantined missing_key. "
                    "A date format the site mapping does not declare (datetime_formats)? See "
                    "quarantine.csv.",
                )
            )
        empty = missing - len(unreadable)
        rows_in = int(counts["rows_in"])
        if share_over(empty, rows_in, limits.max_missing_key_share, limits):
            found.append(
                RunWarning(
                    "missing_keys",
                    f"{empty} of {rows_in} {table} row(s) ({empty / rows_in:.0%}) have an empty "
                    f"key ({_KEY_NAMES[table]}; e.g. {_references(quarantine, rows[~unread])}; "
                    "limit "
                    f"{limits.max_missing_key_share:.0%}): they are quarantined missing_key. "
                    "A column the site mapping reads from the wrong place, or one the export "
                    "left empty? See quarantine.csv.",
                )
            )
    found += _malformed_rows(quarantine, reconciliation, limits, where)
    if decimal == ".":
        found += _decimal_commas(quarantine, where)
    return found + _missing_data(quarantine, where) + _broken_documents(quarantine, where)


class _Matches:
    """Where a column of the quarantine holds a value (`==`, False where missing), each
    column's Arrow text taken once for all the values asked of it (its text compared by
    Arrow); a column that is not Arrow text is compared by pandas."""

    def __init__(self, quarantine: pd.DataFrame) -> None:
        self._quarantine = quarantine
        self._texts: dict[str, pa.Array | None] = {}

    def __call__(self, column: str, value: str) -> np.ndarray:
        if column not in self._texts:
            values = self._quarantine[column]
            self._texts[column] = arrow_text(values) if holds_arrow_text(values) else None
        text = self._texts[column]
        if text is None:
            return np.asarray((self._quarantine[column] == value).to_numpy(), dtype=bool)
        return np.asarray(pc.fill_null(pc.equal(text, value), False), dtype=bool)


def _malformed_rows(
    quarantine: pd.DataFrame,
    reconciliation: Mapping[str, Mapping[str, Any]],
    limits: WarningThresholds,
    where: _Matches,
) -> list[RunWarning]:
    """A table with more rows quarantined `malformed_row` than `max_malformed_rows` warns, with
    their count and share of the table's rows."""
    found: list[RunWarning] = []
    for table, counts in reconciliation.items():
        malformed = int(counts.get("reasons", {}).get("quarantined", {}).get("malformed_row", 0))
        if malformed <= limits.max_malformed_rows:
            continue
        rows_in = max(int(counts["rows_in"]), malformed)
        rows = np.flatnonzero(where("table", table) & where("reason", "malformed_row"))
        found.append(
            RunWarning(
                "malformed_rows",
                f"{malformed} of {rows_in} {table} row(s) ({malformed / rows_in:.0%}) do not "
                f"read as a row (e.g. {_references(quarantine, rows)}): a value with an "
                "unquoted delimiter, a line cut off? They are quarantined malformed_row and the "
                "screen does not see them, so the list may lack patients. See quarantine.csv; "
                "ask the sender for a corrected export.",
            )
        )
    return found


def _broken_documents(quarantine: pd.DataFrame, where: _Matches) -> list[RunWarning]:
    """Any FHIR JSON document quarantined whole (`broken_document`) warns, by count only."""
    broken = np.flatnonzero(where("reason", "broken_document"))
    if not len(broken):
        return []
    files = quarantine["source_file"].iloc[broken].nunique()
    if not files:
        return []
    return [
        RunWarning(
            "broken_documents",
            f"{files} FHIR JSON document(s) could not be read as JSON or hold no resource "
            "(cut off in transfer?): each may be a patient's whole record, so the list may "
            "lack patients. quarantine.csv names them (broken_document); ask for them again.",
        )
    ]


# reasons of which any quarantined row warns: (warning, what the rows are, why data are missing)
_MISSING_DATA = {
    "export_error": ("export_errors", "error report(s) of the source", "it says data are"),
    "unresolved_reference": ("unresolved_references", "medication record(s) naming their drug "
                             "only by a Medication resource", "those resources are"),
}  # fmt: skip


def _missing_data(quarantine: pd.DataFrame, where: _Matches) -> list[RunWarning]:
    """Any row quarantined `export_error` (a FHIR OperationOutcome of severity error) or
    `unresolved_reference` (a Medication not exported) warns: the list may lack patients."""
    found = []
    for reason, (code, what, why) in _MISSING_DATA.items():
        if len(rows := np.flatnonzero(where("reason", reason))):
            found.append(
                RunWarning(
                    code,
                    f"{len(rows)} {what} are in the export (e.g. "
                    f"{_references(quarantine, rows)}): {why} missing from it, so the list may "
                    "lack patients. See quarantine.csv; ask the sender for a complete export.",
                )
            )
    return found


# non_numeric lab results that are numbers written another way: warning -> (how, what follows)
_NUMBER_SHAPES = {
    "decimal_commas": ("a decimal comma", " but the site's decimal is '.': they are quarantined "
                       "non_numeric and the screen does not see them. Set csv: "
                       '{decimal: ","} in the site mapping if the extract writes decimal commas.'),
    "thousands_separators": ("a thousands separator", ": they are quarantined non_numeric and "
                             "the screen does not see them (a glucose among them no longer "
                             "corrects its sodium). See quarantine.csv; ask the sender to "
                             "export numbers without grouping."),
}  # fmt: skip


def _decimal_commas(quarantine: pd.DataFrame, where: _Matches) -> list[RunWarning]:
    rows = np.flatnonzero(where("table", "labs") & where("reason", "non_numeric"))
    if not len(rows):
        return []
    texts = _json_texts(quarantine["original"].iloc[rows], "value_raw")
    shaped = {
        "decimal_commas": rows[decimal_comma_numbers(texts)],
        "thousands_separators": rows[thousands_numbers(texts)],
    }
    return [
        RunWarning(
            code,
            f"{len(found)} lab result(s) are numbers written with {_NUMBER_SHAPES[code][0]} "
            f"(e.g. {_references(quarantine, found)}){_NUMBER_SHAPES[code][1]}",
        )
        for code, found in shaped.items()
        if len(found)
    ]


_KEY_NAMES = {
    "labs": "patient_id, specimen_time",
    "medications": "patient_id, start_time",
    "diagnoses": "patient_id, code, recorded_time",
}


def _time_unread(quarantine: pd.DataFrame, rows: np.ndarray, table: str, time: str) -> np.ndarray:
    """Which missing_key rows (at positions `rows` of the quarantine) hold a patient id (a
    diagnosis also a code) and a key time text that is not blank: their time is what did not
    read. The original text leaves nulls out and writes white space other than the ASCII space
    as JSON escapes (`\\u00a0`, `\\t`), decoded here: such a blank time is empty, not
    unreadable."""
    patient = quarantine["patient_id"].iloc[rows]
    original = quarantine["original"].iloc[rows]
    wanted = patient.notna().to_numpy() & patient.astype("str").str.strip().ne("").to_numpy()
    wanted &= _written(original, time)
    if table == "diagnoses":
        wanted &= _written(original, "code")
    return np.asarray(wanted, dtype=bool)


def _written(original: pd.Series, key: str) -> np.ndarray:
    """Which originals hold a value of `key` that is not blank text (a number counts)."""
    text = _json_texts(original, key).str.strip()
    other = original.astype("str").str.contains(_NOT_TEXT.format(key=key), regex=True, na=False)
    return (text.notna() & text.ne("")).to_numpy() | other.to_numpy()


def _json_texts(original: pd.Series, key: str) -> pd.Series:
    """The text value of `key` in each original (report.quarantine's JSON), its escapes
    decoded (None where the key holds no text); each distinct value decoded once."""
    quoted = original.astype("str").str.extract(f'"{key}": {_JSON_TEXT}', expand=False)
    codes, distinct = pd.factorize(quoted, use_na_sentinel=True)
    decoded = np.array([*(json.loads(value) for value in distinct), None], dtype=object)
    return pd.Series(decoded[codes], index=original.index, dtype=object)


def _references(quarantine: pd.DataFrame, rows: np.ndarray) -> str:
    """The `file:row` of the first rows at positions `rows` (the quarantine is in file
    order)."""
    first = rows[:EXAMPLES]
    return ", ".join(
        f"{source}:{row}"
        for source, row in zip(
            quarantine["source_file"].iloc[first].astype("str"),
            quarantine["source_row"].iloc[first].astype("str"),
        )
    )
