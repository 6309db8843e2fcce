"""Spec §3: every input row gets exactly one bucket and a reason; values parsed, units converted.

Buckets: used | not_relevant | duplicate | quarantined. When a row has several problems the
first of this order wins: not relevant, missing key, status, non-numeric, bad unit,
implausible, duplicate. Rows dropped while reading (analyte of no interest, outside the read
window) are counted by the reader; everything else is decided here.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from hyposcreen.config import Window
from hyposcreen.ingest.tabular import RowFilter
from hyposcreen.ingest.timeparse import elapsed_before
from hyposcreen.ingest.values import decimal_comma_text, parse_values
from hyposcreen.rules.loader import RuleSet, normalize_unit
from hyposcreen.rules.matching import (
    IDENTIFYING_COLUMNS,
    identify_analytes,
    map_distinct,
    match_conditions,
    match_drug_classes,
)
from hyposcreen.site_words import fold_series, status_key

USED, NOT_RELEVANT, DUPLICATE, QUARANTINED = "used", "not_relevant", "duplicate", "quarantined"
BUCKETS = (USED, NOT_RELEVANT, DUPLICATE, QUARANTINED)


def read_window_start(
    window: Window, rules: RuleSet, late_results: bool = False, timezone: str = "UTC"
) -> pd.Timestamp:
    """Labs are read from the window start less the context period (spec §7) and the glucose
    pairing span, so a context sodium at the very start can still find its glucose (§4).
    Nightly runs that pick up late results read that much before the late-result lookback.
    The spans are elapsed time (spec §11); the answer is site-local wall time."""
    context = pd.Timedelta(hours=rules.windows.context_hours_before_window)
    pairing = pd.Timedelta(minutes=float(rules.glucose["pairing_window_minutes"]))
    lookback = pd.Timedelta(hours=rules.windows.late_result_lookback_hours)
    span = context + pairing + (lookback if late_results else pd.Timedelta(0))
    return elapsed_before(window.start, span, timezone)


def lab_row_filter(
    rules: RuleSet, window: Window, late_results: bool = False, timezone: str = "UTC"
) -> RowFilter:
    """What the lab reader keeps: rows of a known analyte dated inside the read window."""
    start = read_window_start(window, rules, late_results, timezone)

    unrecognised: Counter[tuple[str, str]] = Counter()

    def select(frame: pd.DataFrame) -> tuple[pd.DataFrame, Counter[str]]:
        analyte, reason = identify_analytes(frame, rules)
        dropped = Counter(reason.dropna().tolist())
        for code, column in (("unknown_loinc", "loinc"), ("unknown_lab_name", "lab_name")):
            counted = frame.loc[reason == code, column].value_counts()
            unrecognised.update({(column, str(k)): int(n) for k, n in counted.items()})
        keep = reason.isna()
        kept = frame.loc[keep].copy()
        kept["analyte"] = analyte[keep].astype("str")
        return kept, dropped

    return RowFilter(
        loinc_keep=frozenset(rules.loinc_to_analyte),
        select=select,
        window=("specimen_time", start, window.end),
        unrecognised=unrecognised,
        select_reads=IDENTIFYING_COLUMNS,
    )


def _malformed_reasons(frame: pd.DataFrame) -> pd.Series:
    """A reason per row, set only for rows the CSV parser could not split (malformed_row)."""
    reason = pd.Series(None, index=frame.index, dtype=object)
    if "malformed_text" in frame.columns:
        reason[frame["malformed_text"].notna()] = "malformed_row"
    if "malformed_reason" in frame.columns:  # e.g. oversized_row (ingest.oversized)
        given = frame["malformed_reason"].notna()
        reason[given] = frame.loc[given, "malformed_reason"]
    return reason


def _patient_key(patient_id: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Patient ids without surrounding spaces (null stays null), and where one is missing."""
    stripped = patient_id.astype("str").str.strip().where(patient_id.notna())
    return stripped, patient_id.isna() | (stripped == "")


def _normalize_status(status: pd.Series) -> pd.Series:
    """Status words as the rules hold them: accents folded, '_' and spaces as one '-'."""
    return map_distinct(status, status_key)


def clean_labs(frame: pd.DataFrame, rules: RuleSet, decimal: str = ".") -> pd.DataFrame:
    """Labs with bucket, reason, value (canonical units) and censor flag for every row.

    `decimal` is the site's decimal separator (site mapping csv.decimal): with "," the parsed
    number is also put in `value`, so the data contract reads the row as numeric."""
    out = frame.copy()
    if "analyte" not in out.columns:  # no data row reached the selector (empty or all malformed)
        out["analyte"] = pd.Series(None, index=out.index, dtype="str")
    reason = _malformed_reasons(out)

    def flag(mask: pd.Series, code: str) -> None:
        reason[mask & reason.isna()] = code

    patient, no_patient = _patient_key(out["patient_id"])
    flag(no_patient, "missing_key")
    flag(out["specimen_time"].isna(), "missing_key")
    status = _normalize_status(out["status"])
    flag(status.isin(rules.statuses["lab_excluded"]), "status")
    if decimal == ",":
        numeric, censor = parse_values(decimal_comma_text(out["value_raw"]), out["value"])
        out["value"] = out["value"].where(out["value"].notna(), numeric)
    else:
        numeric, censor = parse_values(out["value_raw"], out["value"])
    flag(numeric.isna(), "non_numeric")
    factor = _unit_factors(out["analyte"], out["unit"], rules)
    flag(factor.isna(), "bad_unit")
    canonical = numeric * factor
    flag(implausible_values(out["analyte"], canonical, rules), "implausible")

    out["patient_id"] = patient
    out["value_canonical"] = canonical  # before blanking: what the data contract checks
    out["value_num"] = canonical.where(reason.isna())
    out["censored"] = censor
    out["bucket"] = np.where(reason.isna(), USED, QUARANTINED)
    duplicate = duplicate_rows(out, out["bucket"] == USED)
    out.loc[duplicate, "bucket"] = DUPLICATE
    reason[duplicate] = "duplicate"
    out["reason"] = reason
    return out


DUPLICATE_KEY = ["patient_id", "analyte", "specimen_time", "value_num"]
# Which of equal rows is used: decided by content, never by file order (spec §6, last line):
# an exact value before a censored one, a row with a specimen_id (glucose pairing) before one
# without, then the text as received. Rows equal in all of these are interchangeable for the
# screen; the one that comes first in the file is then the used one.
_KEEP_ORDER = ["censored", "specimen_id", "value_raw", "unit", "result_time"]


def duplicate_rows(labs: pd.DataFrame, candidate: pd.Series) -> pd.Series:
    """Spec §3 exact duplicates among the `candidate` rows: True for every row but one of each
    (patient, analyte, time, value) group; the one kept is chosen by content (_KEEP_ORDER)."""
    rows = labs.loc[candidate]
    grouped = rows.loc[rows.duplicated(DUPLICATE_KEY, keep=False)]  # only these need ranking
    order = [c for c in _KEEP_ORDER if c in grouped.columns]
    ranked = grouped.sort_values(order, kind="stable", na_position="last") if order else grouped
    repeated = ranked.duplicated(DUPLICATE_KEY, keep="first")
    return repeated.reindex(labs.index, fill_value=False).astype(bool) & candidate


def implausible_values(analyte: pd.Series, canonical: pd.Series, rules: RuleSet) -> pd.Series:
    """Spec §3: a value <= 0 of any analyte, or outside the analyte's plausible range in the
    rules (today only sodium, 80-200 mmol/L), is implausible. NaN values are not flagged here."""
    lows = {name: spec.plausible_low for name, spec in rules.analytes.items()}
    highs = {name: spec.plausible_high for name, spec in rules.analytes.items()}
    low = analyte.map(lows).astype("float64")
    high = analyte.map(highs).astype("float64")
    return (canonical <= 0) | (canonical < low) | (canonical > high)


def _unit_factors(analyte: pd.Series, unit: pd.Series, rules: RuleSet) -> pd.Series:
    """Factor to the canonical unit, NaN where the unit is unknown or wrong for the analyte."""
    presence_only = {a for a, spec in rules.analytes.items() if spec.canonical_unit == "*"}
    key = analyte.astype("str") + "\x1f" + unit.astype("str").where(unit.notna(), "")

    def factor_of(text: str) -> float | None:
        name, _, unit_text = text.partition("\x1f")
        if name in presence_only:
            return 1.0
        return rules.unit_factors.get((name, normalize_unit(unit_text)))

    return map_distinct(key, factor_of).astype("float64")


def clean_medications(
    frame: pd.DataFrame, rules: RuleSet, window: Window
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Medications with bucket/reason, and the long table of drug-class matches of used rows."""
    out = frame.copy()
    reason = _malformed_reasons(out)
    matches = match_drug_classes(out.assign(drug_name=fold_series(out["drug_name"])), rules)
    relevant = out.index.isin(matches["row"])
    reason[~relevant & reason.isna()] = "unlisted_drug"
    patient, no_patient = _patient_key(out["patient_id"])
    missing = no_patient | out["start_time"].isna()
    reason[missing & reason.isna()] = "missing_key"
    status = _normalize_status(out["status"])
    out["status_norm"] = status
    reason[status.isin(rules.statuses["medication_excluded"]) & reason.isna()] = "status"
    reason[(out["start_time"] >= window.end) & reason.isna()] = "after_window"
    out["patient_id"] = patient
    out["bucket"] = _buckets(reason, not_relevant=("unlisted_drug", "after_window"))
    out["reason"] = reason
    used = out.index[out["bucket"] == USED]
    return out, matches[matches["row"].isin(used)].reset_index(drop=True)


def clean_diagnoses(frame: pd.DataFrame, rules: RuleSet, window: Window) -> pd.DataFrame:
    """Diagnoses with bucket/reason and the condition each used row stands for."""
    out = frame.copy()
    reason = _malformed_reasons(out)
    system, condition = match_conditions(out, rules)
    known_system = system.notna()
    code = out["code"].astype("str").str.strip()
    no_code = out["code"].isna() | (code == "")
    reason[known_system & condition.isna() & ~no_code & reason.isna()] = "unlisted_code"
    patient, no_patient = _patient_key(out["patient_id"])
    missing = no_patient | out["recorded_time"].isna() | no_code
    reason[missing & reason.isna()] = "missing_key"
    reason[~known_system & reason.isna()] = "unknown_code_system"
    status = _normalize_status(out["status"])
    reason[status.isin(rules.statuses["diagnosis_excluded"]) & reason.isna()] = "status"
    reason[(out["recorded_time"] >= window.end) & reason.isna()] = "after_window"
    out["patient_id"] = patient
    out["code_system_norm"] = system
    out["condition"] = condition
    out["bucket"] = _buckets(reason, not_relevant=("unlisted_code", "after_window"))
    out["reason"] = reason
    return out


def _buckets(reason: pd.Series, not_relevant: tuple[str, ...]) -> np.ndarray:
    return np.select(
        [reason.isna(), reason.isin(not_relevant)], [USED, NOT_RELEVANT], default=QUARANTINED
    )


def bucket_sizes(frame: pd.DataFrame) -> dict[tuple[str, str], int]:
    """Rows per (bucket, reason) of one cleaned frame ('' when there is no reason)."""
    if not len(frame):
        return {}
    grouped = frame.groupby(["bucket", frame["reason"].fillna("")], dropna=False).size()
    return {(str(b), str(r)): int(n) for (b, r), n in grouped.items()}


def count_buckets(frame: pd.DataFrame, read_not_relevant: dict[str, int], rows_in: int) -> dict:
    """Reconciliation of one table: rows_in = used + not_relevant + duplicate + quarantined."""
    return reconcile(bucket_sizes(frame), read_not_relevant, rows_in)


def reconcile(
    sizes: dict[tuple[str, str], int], read_not_relevant: dict[str, int], rows_in: int
) -> dict:
    """count_buckets from (bucket, reason) sizes, which partitions of a table can add up."""
    by_bucket = {b: 0 for b in BUCKETS}
    by_reason: dict[str, dict[str, int]] = {b: {} for b in BUCKETS}
    for (bucket, reason), count in sizes.items():
        by_bucket[bucket] += int(count)
        if reason:
            by_reason[bucket][reason] = int(count)
    for reason, count in read_not_relevant.items():
        by_bucket[NOT_RELEVANT] += int(count)
        by_reason[NOT_RELEVANT][reason] = by_reason[NOT_RELEVANT].get(reason, 0) + int(count)
    total = sum(by_bucket.values())
    return {
        "rows_in": rows_in,
        **by_bucket,
        "reasons": {b: dict(sorted(r.items())) for b, r in by_reason.items() if r},
        "reconciled": total == rows_in,
    }
