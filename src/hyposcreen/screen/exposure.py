"""Spec §6, medications: which listed drug classes are active at each case's index time."""

from __future__ import annotations

import pandas as pd

from hyposcreen.rules.loader import RuleSet

EVIDENCE_COLUMNS = [
    "patient_id",
    "risk_factor",
    "drug",
    "ingredient",
    "matched_by",
    "start_time",
    "end_time",
    "days_since_start",
    "new_start",
    "active_until",  # a stopped/completed record without end: start + 30 days; else NaT
]


def active_drug_classes(
    cases: pd.DataFrame, medications: pd.DataFrame, matches: pd.DataFrame, rules: RuleSet
) -> pd.DataFrame:
    """One evidence row per (case, active medication record, drug class).

    A record is active when start_time <= index_time <= end_time + grace. Without an end_time it
    is ongoing, unless its status is stopped/completed: then active until start + 30 days with
    no further grace. `medications` holds used rows only (status exclusions already applied).
    """
    if cases.empty or matches.empty:
        return pd.DataFrame(columns=EVIDENCE_COLUMNS)
    windows = rules.windows
    records = medications.loc[
        matches["row"].unique(),
        ["patient_id", "drug_name", "rxnorm", "atc", "start_time", "end_time", "status_norm"],
    ]
    records = records.join(matches.set_index("row"), how="inner")
    joined = cases[["patient_id", "index_time"]].merge(records, on="patient_id", how="inner")
    grace = pd.Timedelta(days=windows.medication_grace_days)
    stopped_days = pd.Timedelta(days=windows.medication_stopped_active_days)
    stopped = joined["status_norm"].isin(rules.statuses["medication_stopped"])
    until = joined["end_time"] + grace
    until = until.where(joined["end_time"].notna(), joined["start_time"] + stopped_days)
    open_ended = joined["end_time"].isna() & ~stopped
    active = (joined["start_time"] <= joined["index_time"]) & (
        open_ended | (joined["index_time"] <= until)
    )
    hits = joined.loc[active].copy()
    since = hits["index_time"] - hits["start_time"]
    hits["days_since_start"] = since.dt.days
    hits["new_start"] = since <= pd.Timedelta(days=windows.new_start_days)
    hits["active_until"] = until[active].where(hits["end_time"].isna() & stopped[active])
    hits["drug"] = hits["drug_name"].fillna(
        ("RxNorm " + hits["rxnorm"].astype("str")).where(
            hits["rxnorm"].notna(), "ATC " + hits["atc"].astype("str")
        )
    )
    hits = hits.rename(columns={"drug_class": "risk_factor"})
    order = ["patient_id", "risk_factor", "start_time", "drug", "end_time", "ingredient"]
    hits = hits.sort_values([*order, "matched_by"], kind="stable")
    return hits[EVIDENCE_COLUMNS].reset_index(drop=True)
