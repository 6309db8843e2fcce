"""Serum sodium results low enough for hyponatremia that the quarantine set aside for a reason
other than their value: a patient with hyponatremia may be missing from the list, one row at a
time, while every share limit holds (a blank or unknown unit such as `mmol` is `bad_unit`, a
specimen time `2026-11-20 05:00 AM` that does not read is `missing_key`). Any such row warns
(exit 4), with counts by reason and up to three `file:row` references, never a value or an id.

The rows are those the quarantine holds with a number (report.quarantine's unwritten column
`_sodium_number`, taken from the cleaned labs as the quarantine is built: the analyte the
selector identified, the number clean.labs parsed, in mmol/L where the unit converts, else as
written), at or below the active profile's hyponatremia threshold as its `op` compares (the
rules data; 135 mmol/L in both profiles of rules.yaml). Every reason counts but these:

- `status`: entered in error or cancelled, set aside on purpose by whoever wrote the result.
- `superseded_version`: a FHIR result's older version; its newest version is the one used.
- `deleted_resource`: a FHIR result whose newest version is a deletion: its source removed it.
- `deleted_patient`: a FHIR result of a Patient whose newest version is a deletion. Nothing in
  it is to be corrected; the patient may have been merged into another: deleted_reference_warnings
  says so, and how many of its results are low sodiums (`low_sodium_rows`), in one warning.
- `outside_window`: a data contract's mark of a time outside the night: no result of it.
- `non_numeric` has no number, and `duplicate` is no quarantine (its group's row is used).
- `implausible` counts (sodium below 80 mmol/L): spec §3 forbids clipping it silently, yet its
  only report is a data contract of severity warning, which leaves the exit status 0 and shows
  the row in the validation pages alone. A sodium of 75 may be a real, profound hyponatremia
  as well as a misplaced decimal or a drip-arm sample; only a person can tell, so it must not
  pass as a quiet night. A number of 0 or below is no measurement: never counted.

The rows are those of the night's quarantine, the 72 h of context before the window with it:
a result there takes part in the screen too (an over-correction starts from it). The
quarantine is the same in one process, in patient-hash partitions (merged) and on each night
of a backfill (cut from the read's rows), so is the count. A result whose time does not read
belongs to no night: every night reads it, so each night of a backfill and each month of an
audit counts it; the message says those rows are the whole extract's
(quarantined_times.NO_NIGHT), as the extract-wide counts of unidentified_events do.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hyposcreen.quarantine_text import Matches, key_values, references
from hyposcreen.quarantined_times import NO_NIGHT
from hyposcreen.report.quarantine import SODIUM_NUMBER
from hyposcreen.rules.model import Profile, RuleSet
from hyposcreen.run_warnings import RunWarning

# reasons of rows set aside on purpose or outside the night, or that another warning tells
# with their low sodiums (see above): never counted
_NOT_COUNTED = (
    "status",
    "superseded_version",
    "deleted_resource",
    "outside_window",
    "deleted_patient",
)


def low_sodium_rows(quarantine: pd.DataFrame, profile: Profile) -> tuple[np.ndarray, str]:
    """Which quarantine rows (report.quarantine, with its `_sodium_number`) hold a sodium at or
    below the profile's hyponatremia threshold as its `op` compares, above 0; and how a message
    says the bound (`at or below 135`)."""
    threshold = float(profile.hyponatremia_threshold)
    below = "at or below" if profile.hyponatremia_op == "<=" else "below"
    if SODIUM_NUMBER not in quarantine.columns:
        return np.zeros(len(quarantine), dtype=bool), f"{below} {threshold:g}"
    number = quarantine[SODIUM_NUMBER].to_numpy(dtype="float64", na_value=np.nan)
    low = (number <= threshold) if profile.hyponatremia_op == "<=" else (number < threshold)
    return low & (number > 0), f"{below} {threshold:g}"


def quarantined_low_sodium_warnings(
    quarantine: pd.DataFrame, rules: RuleSet, profile: Profile, where: Matches | None = None
) -> list[RunWarning]:
    """The warning above, from the run's quarantine rows (report.quarantine, with its
    `_sodium_number`), the rules (their units) and the active severity profile; `where`: the
    run's Matches of the quarantine."""
    if SODIUM_NUMBER not in quarantine.columns or quarantine.empty:
        return []
    low, bound = low_sodium_rows(quarantine, profile)
    if not low.any():
        return []
    where = where or Matches(quarantine)
    rows = np.flatnonzero(low & where("table", "labs"))
    codes = quarantine["reason"].iloc[rows].astype("str")
    counted = ~codes.isin(_NOT_COUNTED).to_numpy(dtype=bool)
    counted &= _written_otherwise(quarantine, rows, codes.to_numpy(dtype=object), rules)
    rows, codes = rows[counted], codes[counted]
    if not len(rows):
        return []
    told = ", ".join(f"{why} {n}" for why, n in codes.value_counts().sort_index().items())
    unread = int((codes == "missing_key").sum())  # _written_otherwise: times that do not read
    no_night = NO_NIGHT.format(rows=f"The {unread} missing_key row(s) are") if unread else ""
    return [
        RunWarning(
            "quarantined_low_sodiums",
            f"{len(rows)} sodium result(s) {bound} were set aside ({told}; e.g. "
            f"{references(quarantine, rows)}): a patient with hyponatremia may be missing from "
            "the list. See quarantine.csv; ask the sender for the results corrected (a unit "
            "the rules accept, a time that reads)." + no_night,
        )
    ]


def _written_otherwise(
    quarantine: pd.DataFrame, rows: np.ndarray, codes: np.ndarray, rules: RuleSet
) -> np.ndarray:
    """Which of the rows (positions in the quarantine, with their reasons' `codes`) are not a
    `bad_unit` in a unit of another quantity nor a `missing_key` of no patient or no time
    (above); only those two reasons' originals are read, in Arrow."""
    kept = np.ones(len(rows), dtype=bool)
    unit = codes == "bad_unit"
    if unit.any():
        texts = key_values(quarantine["original"].iloc[rows[unit]], "unit").texts
        keys = texts.fillna("").str.replace(r"\s+", "", regex=True).str.lower()
        keys = keys.str.replace("µ", "u").str.replace("μ", "u")
        known = {key for _, key in rules.unit_factors}
        kept[unit] = (keys.eq("") | ~keys.isin(known)).to_numpy(dtype=bool)
    key = codes == "missing_key"
    if key.any():
        at = rows[key]
        times = key_values(quarantine["original"].iloc[at], "specimen_time")
        patient = quarantine["patient_id"].iloc[at].astype("str").str.strip()
        keyed = patient.notna().to_numpy(dtype=bool) & patient.ne("").to_numpy(dtype=bool)
        kept[key] = keyed & times.written() & times.holds_time()
    return kept
