"""Buckets of medication and diagnosis rows (spec §3, §6, §8).

A medication is relevant when it matches a listed drug class (rules.matching); a diagnosis when
its code stands for a listed condition. Rows starting (recorded) after the window are not
relevant; missing keys and excluded statuses are quarantined.
"""

from __future__ import annotations

import pandas as pd

from hyposcreen.clean.buckets import buckets_of, malformed_reasons, normalize_status, patient_key
from hyposcreen.config import Window
from hyposcreen.rules.loader import RuleSet
from hyposcreen.rules.matching import match_conditions, match_drug_classes
from hyposcreen.site_words import fold_series


def clean_medications(
    frame: pd.DataFrame, rules: RuleSet, window: Window
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Medications with bucket/reason, and the long table of drug-class matches of used rows."""
    out = frame.copy(deep=False)  # copy on write: the caller's frame is never changed
    reason = malformed_reasons(out)
    matches = match_drug_classes(out.assign(drug_name=fold_series(out["drug_name"])), rules)
    relevant = out.index.isin(matches["row"])
    reason[~relevant & reason.isna()] = "unlisted_drug"
    patient, no_patient = patient_key(out["patient_id"])
    missing = no_patient | out["start_time"].isna()
    reason[missing & reason.isna()] = "missing_key"
    status = normalize_status(out["status"])
    out["status_norm"] = status
    reason[status.isin(rules.statuses["medication_excluded"]) & reason.isna()] = "status"
    reason[(out["start_time"] >= window.end) & reason.isna()] = "after_window"
    out["patient_id"] = patient
    out["bucket"] = buckets_of(reason, not_relevant=("unlisted_drug", "after_window"))
    out["reason"] = reason
    used = out.index[out["bucket"] == "used"]
    return out, matches[matches["row"].isin(used)].reset_index(drop=True)


def clean_diagnoses(frame: pd.DataFrame, rules: RuleSet, window: Window) -> pd.DataFrame:
    """Diagnoses with bucket/reason and the condition each used row stands for."""
    out = frame.copy(deep=False)  # copy on write: the caller's frame is never changed
    reason = malformed_reasons(out)
    system, condition = match_conditions(out, rules)
    known_system = system.notna()
    code = out["code"].astype("str").str.strip()
    no_code = out["code"].isna() | (code == "")
    reason[known_system & condition.isna() & ~no_code & reason.isna()] = "unlisted_code"
    patient, no_patient = patient_key(out["patient_id"])
    missing = no_patient | out["recorded_time"].isna() | no_code
    reason[missing & reason.isna()] = "missing_key"
    reason[~known_system & reason.isna()] = "unknown_code_system"
    status = normalize_status(out["status"])
    reason[status.isin(rules.statuses["diagnosis_excluded"]) & reason.isna()] = "status"
    reason[(out["recorded_time"] >= window.end) & reason.isna()] = "after_window"
    out["patient_id"] = patient
    out["code_system_norm"] = system
    out["condition"] = condition
    out["bucket"] = buckets_of(reason, not_relevant=("unlisted_code", "after_window"))
    out["reason"] = reason
    return out
