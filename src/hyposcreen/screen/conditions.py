"""Spec §6, conditions: coded diagnoses that count for a case, including documented cramp."""

from __future__ import annotations

import pandas as pd

from hyposcreen.rules.loader import RuleSet

EVIDENCE_COLUMNS = [
    "patient_id",
    "condition",
    "risk_factor",
    "correction_risk",
    "code",
    "code_system",
    "recorded_time",
]


def case_conditions(cases: pd.DataFrame, diagnoses: pd.DataFrame, rules: RuleSet) -> pd.DataFrame:
    """Evidence rows of listed conditions for each case.

    Conditions count when recorded at or before the index time (no lookback limit); a documented
    muscle cramp counts within ± cramp_window_days of the index. `diagnoses` holds used rows
    (status exclusions and evidence dated at/after window_end already removed).
    """
    if cases.empty or diagnoses.empty:
        return pd.DataFrame(columns=EVIDENCE_COLUMNS)
    listed = diagnoses.loc[diagnoses["condition"].notna()]
    joined = cases[["patient_id", "index_time"]].merge(
        listed[["patient_id", "condition", "code", "code_system_norm", "recorded_time"]],
        on="patient_id",
        how="inner",
    )
    timing = joined["condition"].map({n: c.timing for n, c in rules.conditions.items()})
    around = pd.Timedelta(days=rules.windows.cramp_window_days)
    gap = (joined["recorded_time"] - joined["index_time"]).abs()
    counts = (
        (timing == "at_or_before_index") & (joined["recorded_time"] <= joined["index_time"])
    ) | ((timing == "around_index") & (gap <= around))
    hits = joined.loc[counts].copy()
    hits["risk_factor"] = hits["condition"].map(
        {n: c.risk_factor for n, c in rules.conditions.items()}
    )
    hits["correction_risk"] = (
        hits["condition"]
        .map({n: c.correction_risk for n, c in rules.conditions.items()})
        .astype(bool)
    )
    hits = hits.rename(columns={"code_system_norm": "code_system"})
    hits = hits.sort_values(
        ["patient_id", "condition", "recorded_time", "code", "code_system"], kind="stable"
    )
    return hits[EVIDENCE_COLUMNS].reset_index(drop=True)
