"""Buckets of medication and diagnosis rows (spec §3, §6, §8).

A medication is relevant when it matches a listed drug class (rules.matching); a diagnosis when
its code stands for a listed condition. Rows starting (recorded) after the window are not
relevant; missing keys and excluded statuses are quarantined.
"""

from __future__ import annotations

import pandas as pd

from hyposcreen.clean.buckets import (
    buckets_of,
    excluded_statuses,
    first_reasons,
    malformed_reasons,
    patient_codes,
)
from hyposcreen.config import Window
from hyposcreen.rules.loader import RuleSet
from hyposcreen.rules.matching import match_conditions, match_drug_classes
from hyposcreen.site_words import fold_series


def clean_medications(
    frame: pd.DataFrame, rules: RuleSet, window: Window
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Medications with bucket/reason, and the long table of drug-class matches of used rows."""
    out = frame.copy(deep=False)  # copy on write: the caller's frame is never changed
    matches = match_drug_classes(out.assign(drug_name=fold_series(out["drug_name"])), rules)
    relevant = out.index.isin(matches["row"])
    patient, no_patient, _ = patient_codes(out["patient_id"])
    status, excluded = excluded_statuses(out["status"], rules, "medication_excluded")
    reason = first_reasons(
        malformed_reasons(out),
        [
            (~relevant, "unlisted_drug"),
            (no_patient | out["start_time"].isna().to_numpy(), "missing_key"),
            (excluded, "status"),
            ((out["start_time"] >= window.end).to_numpy(), "after_window"),
        ],
    )
    out["status_norm"] = status
    out["patient_id"] = patient
    out["bucket"] = buckets_of(reason, not_relevant=("unlisted_drug", "after_window"))
    out["reason"] = reason
    used = out.index[out["bucket"] == "used"]
    return out, matches[matches["row"].isin(used)].reset_index(drop=True)


def clean_diagnoses(frame: pd.DataFrame, rules: RuleSet, window: Window) -> pd.DataFrame:
    """Diagnoses with bucket/reason and the condition each used row stands for."""
    out = frame.copy(deep=False)  # copy on write: the caller's frame is never changed
    system, condition = match_conditions(out, rules)
    known_system = system.notna().to_numpy()
    code = out["code"].astype("str").str.strip()
    no_code = (out["code"].isna() | (code == "")).to_numpy()
    patient, no_patient, _ = patient_codes(out["patient_id"])
    _, excluded = excluded_statuses(out["status"], rules, "diagnosis_excluded")
    reason = first_reasons(
        malformed_reasons(out),
        [
            (known_system & condition.isna().to_numpy() & ~no_code, "unlisted_code"),
            (no_patient | out["recorded_time"].isna().to_numpy() | no_code, "missing_key"),
            (~known_system, "unknown_code_system"),
            (excluded, "status"),
            ((out["recorded_time"] >= window.end).to_numpy(), "after_window"),
        ],
    )
    out["patient_id"] = patient
    out["code_system_norm"] = system
    out["condition"] = condition
    out["bucket"] = buckets_of(reason, not_relevant=("unlisted_code", "after_window"))
    out["reason"] = reason
    return out
