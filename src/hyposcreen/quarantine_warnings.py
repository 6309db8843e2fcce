"""Warnings read from the quarantined rows: a delivery the site's settings do not read.

The spec quarantines a row whose key is missing or whose result is not a number, and that is
right for a row; but when a whole export writes its times or numbers in a way the site mapping
does not declare, so many rows go to the quarantine that the list is incomplete, and the night
must not pass as quiet (exit 4):

- `unreadable_keys`: a table whose rows are quarantined `missing_key` (no patient id, or a key
  time that does not parse: a date format the mapping's `datetime_formats` lacks) above rules.yaml
  `warnings: max_missing_key_share` of its rows that matter (those not set aside as not
  relevant for what they are), once it has `min_rows_for_share` of them. Rows set aside only
  for their time (outside the window, after it) count: a row whose time does not read cannot
  be placed in a window, so every night reads all of them, from the whole extract; against a
  night's own rows alone, a few old undated rows of a year-long extract warned every night.
  A diagnosis without a code is quarantined before its relevance is known: those rows are
  judged apart, as a share of all the table's rows (most diagnoses carry codes no rule lists).
- `decimal_commas`: lab results written as numbers with a decimal comma (`3,4`, `<0,5`) while
  the site's decimal is `.`: quarantined `non_numeric`, so the co-factors and glucose
  corrections they carry are lost. Any such row warns: the mapping has a key for it.

Each message holds counts and up to three `file:row` references, never a value.

A delivery whose every result, sodium too, is written with a decimal comma stops on the critical
non-numeric sodium check before any warning: `decimal_comma_hint` is the reason and the key to
set that the stop's message then carries (recipe.contracts), with a count only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from hyposcreen.rules.loader import WarningThresholds
from hyposcreen.run_warnings import RunWarning

KEY_COLUMNS = {
    "labs": "patient_id or specimen_time",
    "medications": "patient_id or start_time",
    "diagnoses": "patient_id, code or recorded_time",
}
EXAMPLES = 3
# not-relevant reasons of a row's time only: such rows are of the extract the undated come from
_TIME_ONLY = frozenset({"outside_window", "after_window"})
# a diagnosis's original text with a code that is not blank (nulls are left out of it)
_CODED = r'"code": (?!"\s*")'
# a lab row's original text as report.quarantine encodes it: "value_raw": "<0,5"
# (not `1,050`: groups of three digits after a leading 1-9 are a thousands separator, which
# csv: {decimal: ","} would read as 1.05)
_THOUSANDS = r"[1-9][0-9]{0,2}(?:,[0-9]{3})+\s*"
_DECIMAL_COMMA = rf'"value_raw": "\s*(?:<=|>=|<|>)?\s*(?!{_THOUSANDS}")[0-9]+,[0-9]+\s*"'


def quarantine_warnings(
    quarantine: pd.DataFrame,
    reconciliation: Mapping[str, Mapping[str, Any]],
    limits: WarningThresholds,
    decimal: str = ".",
) -> list[RunWarning]:
    """The warnings above, from the run's quarantine rows (report.quarantine's columns) and
    reconciliation (per table: rows_in and reasons by bucket)."""
    found: list[RunWarning] = []
    for table, columns in KEY_COLUMNS.items():
        counts = reconciliation.get(table)
        if counts is None:
            continue
        reasons = counts.get("reasons", {})
        missing = int(reasons.get("quarantined", {}).get("missing_key", 0))
        if not missing:
            continue
        considered = int(counts["rows_in"]) - sum(
            int(n) for why, n in reasons.get("not_relevant", {}).items() if why not in _TIME_ONLY
        )
        unknown = _codeless(quarantine) if table == "diagnoses" else 0
        shares = [(missing - unknown, considered - unknown), (unknown, int(counts["rows_in"]))]
        judged = [
            (count, of)
            for count, of in shares
            if count
            and of >= max(limits.min_rows_for_share, 1)
            and count / of > limits.max_missing_key_share
        ]
        if not judged:
            continue
        count, of = judged[0]
        examples = _examples(quarantine, table, "missing_key")
        found.append(
            RunWarning(
                "unreadable_keys",
                f"{count} of {of} {table} row(s) ({count / of:.0%}) are quarantined "
                f"missing_key: no {columns} that can be read (e.g. {examples}; limit "
                f"{limits.max_missing_key_share:.0%}). A date format the site mapping does not "
                "declare (datetime_formats)? See quarantine.csv.",
            )
        )
    if decimal == ".":
        found += _decimal_commas(quarantine)
    return found


# a lab result's text that is a number with a decimal comma (as read, not JSON-encoded)
_DECIMAL_COMMA_TEXT = rf"^\s*(?:<=|>=|<|>)?\s*(?!{_THOUSANDS}$)[0-9]+,[0-9]+\s*$"


def decimal_comma_hint(labs: pd.DataFrame, decimal: str = ".") -> str | None:
    """What to say when a night stops on its labs: the count of cleaned lab rows quarantined
    non_numeric whose text is a number with a decimal comma at a '.' site, and the mapping key
    that reads them; None when there is none."""
    if decimal != "." or not {"reason", "value_raw"} <= set(labs.columns):
        return None
    text = labs["value_raw"].loc[(labs["reason"] == "non_numeric").to_numpy(dtype=bool)]
    count = int(text.astype("str").str.match(_DECIMAL_COMMA_TEXT, na=False).sum())
    if not count:
        return None
    return (
        f"{count} lab result(s) are numbers written with a decimal comma but the site's decimal "
        "is '.': set csv: {decimal: \",\"} in the site mapping if the extract writes decimal "
        "commas."
    )


def _decimal_commas(quarantine: pd.DataFrame) -> list[RunWarning]:
    rows = quarantine.loc[(quarantine["table"] == "labs") & (quarantine["reason"] == "non_numeric")]
    if rows.empty:
        return []
    original = rows["original"].astype("str")
    commas = rows.loc[original.str.contains(_DECIMAL_COMMA, regex=True, na=False).to_numpy()]
    if commas.empty:
        return []
    return [
        RunWarning(
            "decimal_commas",
            f"{len(commas)} lab result(s) are numbers written with a decimal comma (e.g. "
            f"{_references(commas)}) but the site's decimal is '.': they are quarantined "
            'non_numeric and the screen does not see them. Set csv: {decimal: ","} in the '
            "site mapping if the extract writes decimal commas.",
        )
    ]


def _codeless(quarantine: pd.DataFrame) -> int:
    """The diagnoses quarantined missing_key that have no code (their relevance unknown)."""
    rows = quarantine.loc[
        (quarantine["table"] == "diagnoses") & (quarantine["reason"] == "missing_key")
    ]
    coded = rows["original"].astype("str").str.contains(_CODED, regex=True, na=False)
    return int((~coded).sum())


def _examples(quarantine: pd.DataFrame, table: str, reason: str) -> str:
    rows = quarantine.loc[(quarantine["table"] == table) & (quarantine["reason"] == reason)]
    return _references(rows)


def _references(rows: pd.DataFrame) -> str:
    """The first rows' `file:row` (the quarantine is in file order)."""
    first = rows.head(EXAMPLES)
    return ", ".join(
        f"{source}:{row}"
        for source, row in zip(
            first["source_file"].astype("str"), first["source_row"].astype("str")
        )
    )
