"""Warnings read from the quarantined rows: a delivery the site's settings do not read.

The spec quarantines a row whose key is missing or whose result is not a number, and that is
right for a row; but when a whole export writes its times or numbers in a way the site mapping
does not declare, or a mapping reads an empty column, so many rows go to the quarantine that the
list is incomplete, and the night must not pass as quiet (exit 4):

- `unreadable_times` and `missing_keys`: key times that are written but do not read, and
  empty keys, above their shares (unreadable_times, which also stops a night whose key times
  mostly do not read).
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
- `unknown_units`: lab rows whose unit the rules do not accept for their analyte (quarantined
  `bad_unit`, spec §3), above `max_bad_unit_share` of the lab rows that matter (those not set
  aside as not relevant), judged on at least `min_rows_for_share`: a laboratory writing a
  whole analyte in a unit the rules do not know (`mval/l` for sodium) hides its results.
  coverage.csv names each analyte: unit; the warning counts only.
- `unknown_code_systems`: diagnoses whose code system the rules do not know (quarantined
  `unknown_code_system`: `ICD-10-GM`, HL7 v2's `I10`), above `max_unknown_code_system_share`
  of the diagnoses with a code: a whole table so loses every condition of the list. A code of
  an unknown system cannot be told listed or not, so the diagnoses set aside for their code
  (`unlisted_code`, most of a real table) or recorded after the window count among them; of
  the listed ones alone, a few local codes of a problem list warned every night.
- `result_flags`: lab results written with the laboratory's abnormal-result flag after the
  number (`125 L`, `125.0 (H)`, `3.1LL`, `125*`, as a report export writes them): no number
  (spec §3), quarantined `non_numeric`, so the abnormal results, a low sodium first, are the
  ones the screen does not see. Any such row warns: the export, not the record, writes them so.
- `thousands_separators`: lab results written with a thousands separator (`1,050`, a glucose
  in mg/dL or a urine osmolality) while the site's decimal is `.`: quarantined `non_numeric`
  (spec §3), so a glucose correction is lost and a sodium it explains may be listed. Any such
  row warns: the export, not the record, writes the number so.
- `numbers_with_text`: other lab results that begin with a number but hold more text
  (`104 mmol/L`, `~104`, `104 (repeated)`): no number (spec §3), quarantined `non_numeric`; a
  severe sodium among them is off the list while the non-numeric sodium share stays under its
  contract's limit. Any such row warns.
- `number_characters`: lab results whose number is written in other characters than ASCII
  digits (`１２５`, `−3.1`, `1 050`): quarantined `non_numeric` (number_characters).

Each message holds counts and up to three `file:row` references, never a value.

A delivery whose every result, sodium too, is written with a decimal comma stops on the critical
non-numeric sodium check before any warning (decimal_commas.with_decimal_comma_hint).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from hyposcreen.adapters.time_columns import TimeColumns
from hyposcreen.decimal_commas import decimal_comma_numbers, thousands_numbers
from hyposcreen.ingest.values import decimal_comma_text, flagged_numbers, numbers_with_text
from hyposcreen.number_characters import number_character_warnings, other_character_numbers
from hyposcreen.quarantine_text import Matches, non_numeric_results, references
from hyposcreen.rules.loader import WarningThresholds
from hyposcreen.run_warnings import RunWarning, share_over
from hyposcreen.unreadable_times import key_time_warnings


def quarantine_warnings(
    quarantine: pd.DataFrame,
    reconciliation: Mapping[str, Mapping[str, Any]],
    limits: WarningThresholds,
    decimal: str = ".",
    where: Matches | None = None,
    columns: TimeColumns | None = None,
) -> list[RunWarning]:
    """The warnings above, from the run's quarantine rows (report.quarantine's columns) and
    reconciliation (per table: rows_in and reasons by bucket); `where`: the Matches of the
    run's stop (unreadable_time_stop), whose reading of the quarantine they share; `columns`:
    the source's names of the time columns (adapters.time_columns)."""
    where = where or Matches(quarantine)
    found = key_time_warnings(quarantine, reconciliation, limits, where, columns)
    found += _malformed_rows(quarantine, reconciliation, limits, where)
    found += _unknown_words(quarantine, reconciliation, limits, where)
    if decimal == ".":
        found += _decimal_commas(quarantine, where)
    found += _result_flags(quarantine, where, decimal)
    return found + _missing_data(quarantine, where) + _broken_documents(quarantine, where)


def _malformed_rows(
    quarantine: pd.DataFrame,
    reconciliation: Mapping[str, Mapping[str, Any]],
    limits: WarningThresholds,
    where: Matches,
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
                f"read as a row (e.g. {references(quarantine, rows)}): a value with an "
                "unquoted delimiter, a line cut off? They are quarantined malformed_row and the "
                "screen does not see them, so the list may lack patients. See quarantine.csv; "
                "ask the sender for a corrected export.",
            )
        )
    return found


_ROW_NOUN = {"labs": "lab", "diagnoses": "diagnosis"}
# not-relevant reasons of rows judged beside a quarantine reason: a diagnosis's code system is
# looked at before its code is listed or its time after the window
_JUDGED_BESIDE = {"unknown_code_system": ("unlisted_code", "after_window")}
# rows quarantined for a word the rules do not know: reason -> (table, warning, limit, what
# the rows carry, where to declare it)
_UNKNOWN_WORDS = {
    "bad_unit": ("labs", "unknown_units", "max_bad_unit_share", "a unit the rules do not "
                 "accept for their analyte", "coverage.csv names each analyte: unit; a unit the "
                 "laboratory really uses for it goes in analyte_units.csv of a site rules copy "
                 "(--rules), else ask the sender for the units of the results."),
    "unknown_code_system": ("diagnoses", "unknown_code_systems", "max_unknown_code_system_share",
                            "a code system the rules do not know", "coverage.csv names each; "
                            "a table of one system may declare it in the site mapping "
                            "(constants: {code_system: ICD-10-CM}), else add the name to "
                            "code_systems in a site rules copy (--rules)."),
}  # fmt: skip


def _unknown_words(
    quarantine: pd.DataFrame,
    reconciliation: Mapping[str, Mapping[str, Any]],
    limits: WarningThresholds,
    where: Matches,
) -> list[RunWarning]:
    """Rows quarantined `bad_unit` (labs) or `unknown_code_system` (diagnoses) above their
    limit's share of the table's rows that matter (those not set aside as not relevant; for
    the code systems also those set aside for what the system was read to tell: _JUDGED_BESIDE)."""
    found: list[RunWarning] = []
    for reason, (table, code, limit_name, carry, declare) in _UNKNOWN_WORDS.items():
        if (counts := reconciliation.get(table)) is None:
            continue
        reasons = counts.get("reasons", {})
        unknown = int(reasons.get("quarantined", {}).get(reason, 0))
        beside = reasons.get("not_relevant", {})
        matter = int(counts["rows_in"]) - int(counts.get("not_relevant", 0))
        matter += sum(int(beside.get(why, 0)) for why in _JUDGED_BESIDE.get(reason, ()))
        limit = float(getattr(limits, limit_name))
        if not share_over(unknown, matter, limit, limits):
            continue
        rows = np.flatnonzero(where("table", table) & where("reason", reason))
        found.append(
            RunWarning(
                code,
                f"{unknown} of {matter} {_ROW_NOUN[table]} row(s) ({unknown / matter:.0%}) carry "
                f"{carry} (e.g. {references(quarantine, rows)}; limit {limit:.0%}): they are "
                f"quarantined {reason} and the screen does not see them, so the list may lack "
                f"patients. {declare}",
            )
        )
    return found


def _broken_documents(quarantine: pd.DataFrame, where: Matches) -> list[RunWarning]:
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


def _missing_data(quarantine: pd.DataFrame, where: Matches) -> list[RunWarning]:
    """Any row quarantined `export_error` (a FHIR OperationOutcome of severity error) or
    `unresolved_reference` (a Medication not exported) warns: the list may lack patients."""
    found = []
    for reason, (code, what, why) in _MISSING_DATA.items():
        if len(rows := np.flatnonzero(where("reason", reason))):
            found.append(
                RunWarning(
                    code,
                    f"{len(rows)} {what} are in the export (e.g. "
                    f"{references(quarantine, rows)}): {why} missing from it, so the list may "
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


def _decimal_commas(quarantine: pd.DataFrame, where: Matches) -> list[RunWarning]:
    rows, texts = non_numeric_results(quarantine, where)
    if not len(rows):
        return []
    shaped = {
        "decimal_commas": rows[decimal_comma_numbers(texts)],
        "thousands_separators": rows[thousands_numbers(texts)],
    }
    return [
        RunWarning(
            code,
            f"{len(found)} lab result(s) are numbers written with {_NUMBER_SHAPES[code][0]} "
            f"(e.g. {references(quarantine, found)}){_NUMBER_SHAPES[code][1]}",
        )
        for code, found in shaped.items()
        if len(found)
    ]


def _result_flags(quarantine: pd.DataFrame, where: Matches, decimal: str) -> list[RunWarning]:
    """Lab results quarantined non_numeric that are a number followed by an abnormal-result
    flag (ingest.values.flagged_numbers; at a ',' site, read with its decimal comma)."""
    rows, texts = non_numeric_results(quarantine, where)
    if not len(rows):
        return []
    read = decimal_comma_text(texts) if decimal == "," else texts
    flagged = flagged_numbers(read)
    folded = other_character_numbers(read)
    other = numbers_with_text(read) & ~flagged & ~folded
    if decimal == ".":  # these warn as decimal_commas / thousands_separators
        other &= ~decimal_comma_numbers(texts) & ~thousands_numbers(texts)
    found, texted = rows[flagged], rows[other]
    said = [
        RunWarning(
            "result_flags",
            f"{len(found)} lab result(s) are numbers written with the laboratory's "
            f"abnormal-result flag after them (e.g. {references(quarantine, found)}): they are "
            "quarantined non_numeric and the screen does not see them, so the abnormal results, "
            "a low sodium first, are missing from the list. See quarantine.csv; ask the sender "
            "to export the flag in a column of its own.",
        )
    ][: len(found)] + [
        RunWarning(
            "numbers_with_text",
            f"{len(texted)} lab result(s) begin with a number but hold other text (e.g. "
            f"{references(quarantine, texted)}: a unit or a remark written into the result): "
            "they are quarantined non_numeric and the screen does not see them, so a low "
            "sodium written so is missing from the list. See quarantine.csv; ask the sender "
            "for the number alone.",
        )
    ][: len(texted)]
    return said + number_character_warnings(quarantine, rows[folded])
