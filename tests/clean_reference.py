"""The pandas cleaning of labs, medications and diagnoses as it was before the columnar engine,
kept verbatim as an oracle: the engine's cleaned frames must equal these (test_clean_engine.py).
Not imported by the package."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from hyposcreen.config import Window
from hyposcreen.ingest.values import decimal_comma_text, parse_values
from hyposcreen.rules.lab_identity import word_pattern
from hyposcreen.rules.loader import RuleSet, normalize_label, normalize_unit
from hyposcreen.rules.matching import map_distinct, match_conditions
from hyposcreen.site_words import fold_series, status_key

USED, NOT_RELEVANT, DUPLICATE, QUARANTINED = "used", "not_relevant", "duplicate", "quarantined"
BUCKETS = (USED, NOT_RELEVANT, DUPLICATE, QUARANTINED)


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
    """Patient ids without surrounding spaces or invisible characters (null stays null), and
    where one is missing."""
    visible = patient_id.astype("str").str.replace(
        "[\x00\u200b-\u200d\u2060\ufeff]", "", regex=True
    )
    stripped = visible.str.strip().where(patient_id.notna())
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
    canonical = (numeric * factor).round(
        9
    )  # as the engine: binary noise off (1.12, not 1.1199999999999999)
    flag(implausible_values(out["analyte"], canonical, rules), "implausible")

    out["value_read"] = numeric  # the number as read, before any unit
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
# an exact value before a censored one, a row whose specimen holds a used result of another
# analyte before one whose specimen holds none, a row with a specimen_id (glucose pairing) before
# one without, then the text as received. Rows equal in all of these are interchangeable for the
# screen; the one that comes first in the file is then the used one.
_KEEP_ORDER = ["censored", "alone", "specimen_id", "value_raw", "unit", "result_time"]


def duplicate_rows(labs: pd.DataFrame, candidate: pd.Series) -> pd.Series:
    """Spec §3 exact duplicates among the `candidate` rows: True for every row but one of each
    (patient, analyte, time, value) group; the one kept is chosen by content (_KEEP_ORDER)."""
    rows = labs.loc[candidate]
    grouped = rows.loc[rows.duplicated(DUPLICATE_KEY, keep=False)]  # only these need ranking
    if "specimen_id" in rows.columns:  # False sorts first: rows sharing their specimen lead
        analytes = rows.groupby(["patient_id", "specimen_id"])["analyte"].nunique()
        keys = pd.MultiIndex.from_frame(grouped[["patient_id", "specimen_id"]])
        shared = analytes.reindex(keys).fillna(0).to_numpy() > 1
        grouped = grouped.assign(alone=~shared)
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
    matches = match_drug_classes_pandas(out.assign(drug_name=fold_series(out["drug_name"])), rules)
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


def identify_analytes(frame: pd.DataFrame, rules: RuleSet) -> tuple[pd.Series, pd.Series]:
    """Analyte of each lab row (or None) and, for rows that are not relevant, the reason.

    A row with a LOINC is identified by its LOINC alone; a row without one by the lab-name /
    item-id dictionary. A blood analyte measured in urine becomes its urine counterpart (a
    sodium in urine is urine sodium) or is not relevant; other body fluids are not relevant.
    """
    loinc_text = map_distinct(frame["loinc"], lambda c: c.strip() or None)
    has_loinc = loinc_text.notna()
    by_loinc = map_distinct(frame["loinc"], lambda c: rules.loinc_to_analyte.get(c.strip()))
    name_text = map_distinct(frame["lab_name"], lambda n: normalize_label(n) or None)
    has_name = name_text.notna()
    by_name = map_distinct(
        frame["lab_name"].where(~has_loinc), lambda n: rules.lab_dictionary.get(normalize_label(n))
    )
    analyte = by_loinc.where(has_loinc, by_name)
    reason = pd.Series(None, index=frame.index, dtype=object)
    reason[has_loinc & analyte.isna()] = "unknown_loinc"
    reason[~has_loinc & has_name & analyte.isna()] = "unknown_lab_name"
    reason[~has_loinc & ~has_name] = "no_lab_identifier"

    fluid = map_distinct(frame["specimen_type"], lambda t: _fluid_of(t, rules))
    blood = {name for name, spec in rules.analytes.items() if spec.fluid == "blood"}
    blood_analyte = analyte.isin(blood)
    in_urine = blood_analyte & (fluid == "urine")
    counterpart = analyte[in_urine].map(lambda a: rules.analytes[a].urine_counterpart)
    analyte[in_urine] = counterpart
    reason[in_urine & counterpart.reindex(frame.index).isna()] = "urine_specimen"
    other = blood_analyte & (fluid == "other")
    analyte[other] = None
    reason[other] = "other_fluid"
    analyte = analyte.where(reason.isna())
    return analyte, reason


def _fluid_of(specimen_type: str, rules: RuleSet) -> str:
    text = specimen_type.lower()
    if word_pattern(rules.urine_words).search(text):
        return "urine"
    if word_pattern(rules.other_fluid_words).search(text):
        return "other"
    return "blood"


def select_labs(frame: pd.DataFrame, rules: RuleSet) -> tuple[pd.DataFrame, dict, dict]:
    """The lab reader's selector as it was: kept rows (with analyte), dropped reasons and
    the unrecognised (column, value) counts."""
    analyte, reason = identify_analytes(frame, rules)
    dropped = dict(Counter(reason.dropna().tolist()))
    unrecognised: Counter[tuple[str, str]] = Counter()
    for code, column in (("unknown_loinc", "loinc"), ("unknown_lab_name", "lab_name")):
        counted = frame.loc[reason == code, column].value_counts()
        unrecognised.update({(column, str(k)): int(n) for k, n in counted.items()})
    keep = reason.isna()
    kept = frame.loc[keep].copy()
    kept["analyte"] = analyte[keep].astype("str")
    return kept, dropped, dict(unrecognised)


def match_drug_classes_pandas(frame: pd.DataFrame, rules: RuleSet) -> pd.DataFrame:
    """rules.matching.match_drug_classes as it was (pandas merges over distinct records)."""
    from hyposcreen.rules.matching import DRUG_KEYS, classes_for_drug

    keys = frame[list(DRUG_KEYS)].astype(object).where(frame[list(DRUG_KEYS)].notna(), None)
    distinct = keys.drop_duplicates()
    rows = []
    for label, name, rxnorm, atc in distinct.itertuples(index=True, name=None):
        for drug_class, ingredient, by in classes_for_drug(name, rxnorm, atc, rules):
            rows.append((label, drug_class, ingredient, by))
    hits = pd.DataFrame(rows, columns=["distinct_label", "drug_class", "ingredient", "matched_by"])
    if hits.empty:
        return pd.DataFrame(
            {"row": pd.Series(dtype="int64"), "drug_class": [], "ingredient": [], "matched_by": []}
        )
    representative = keys.reset_index().merge(
        distinct.reset_index().rename(columns={"index": "distinct_label"}),
        on=list(DRUG_KEYS),
        how="inner",
    )[["index", "distinct_label"]]
    long = representative.merge(hits, on="distinct_label").drop(columns="distinct_label")
    long = long.rename(columns={"index": "row"})
    return long.drop_duplicates(["row", "drug_class"]).reset_index(drop=True)
