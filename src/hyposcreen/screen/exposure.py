"""Spec §6, medications: which listed drug classes are active at each case's index time."""

from __future__ import annotations

import pandas as pd

from hyposcreen.arrow_columns import is_listed
from hyposcreen.rules.loader import RuleSet
from hyposcreen.screen.engine import Tables, microseconds, run_query

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


# each case's matched medication records active at its index time: started at or before it,
# and ended (plus the grace) at or after it; without an end, ongoing unless stopped, then
# active until start + the stopped days
_ACTIVE_SQL = """
SELECT c.patient_id, c.index_time, m.drug_name, m.rxnorm, m.atc, m.start_time, m.end_time,
       coalesce(list_contains($stopped, m.status_norm), false) AS stopped,
       x.drug_class, x.ingredient, x.matched_by
FROM cases c
JOIN medications m ON m.patient_id = c.patient_id
JOIN matches x ON x.row = m.row
WHERE epoch_us(m.start_time) <= epoch_us(c.index_time)
  AND CASE
        WHEN m.end_time IS NOT NULL
            THEN epoch_us(c.index_time) <= epoch_us(m.end_time) + $grace_us
        WHEN coalesce(list_contains($stopped, m.status_norm), false)
            THEN epoch_us(c.index_time) <= epoch_us(m.start_time) + $stopped_us
        ELSE true
      END
ORDER BY c.patient_id, m.row, x.drug_class
"""
_RECORD_COLUMNS = ["patient_id", "drug_name", "rxnorm", "atc", "start_time", "end_time"]


def active_records(
    cases: pd.DataFrame,
    medications: pd.DataFrame,
    matches: pd.DataFrame,
    rules: RuleSet,
    db: Tables | None = None,
    of_cases: bool = False,
) -> pd.DataFrame:
    """(case, matched medication record, drug class) rows active at the index time:
    patient_id, index_time, drug_name, rxnorm, atc, start_time, end_time, stopped (status
    stopped/completed), drug_class, ingredient, matched_by. `matches` refers to `medications`
    rows by their index label. On the screen's `db`, when given. `of_cases`: every row of
    `medications` is a case's patient's already."""
    windows = rules.windows
    # only the matched records of the cases' patients can count: the rest is not registered
    columns = [*_RECORD_COLUMNS, "status_norm"]
    records = medications[columns]
    if not of_cases:
        records = records.loc[is_listed(medications["patient_id"], cases["patient_id"])]
    matches = matches.loc[matches["row"].isin(records.index)]
    medications = records.loc[records.index.isin(matches["row"])]
    records = medications.astype({"patient_id": "str", "status_norm": "str"})
    return run_query(
        _ACTIVE_SQL,
        {
            "cases": cases[["patient_id", "index_time"]].astype({"patient_id": "str"}),
            "medications": records.assign(row=medications.index.to_numpy()),
            "matches": matches[["row", "drug_class", "ingredient", "matched_by"]],
        },
        {
            "grace_us": microseconds(pd.Timedelta(days=windows.medication_grace_days)),
            "stopped_us": microseconds(pd.Timedelta(days=windows.medication_stopped_active_days)),
            "stopped": [str(s) for s in rules.statuses["medication_stopped"]],
        },
        {
            "patient_id": cases["patient_id"].dtype,
            "index_time": cases["index_time"].dtype,
            **{c: medications[c].dtype for c in _RECORD_COLUMNS[1:]},
            "stopped": "bool",
            **{c: matches[c].dtype for c in ("drug_class", "ingredient", "matched_by")},
        },
        db,
    )


def active_drug_classes(
    cases: pd.DataFrame,
    medications: pd.DataFrame,
    matches: pd.DataFrame,
    rules: RuleSet,
    db: Tables | None = None,
    of_cases: bool = False,
) -> pd.DataFrame:
    """One evidence row per (case, active medication record, drug class).

    A record is active when start_time <= index_time <= end_time + grace. Without an end_time it
    is ongoing, unless its status is stopped/completed: then active until start + 30 days with
    no further grace. `medications` holds used rows only (status exclusions already applied);
    with `of_cases`, only rows of the cases' patients.
    """
    if cases.empty or matches.empty:
        return pd.DataFrame(columns=EVIDENCE_COLUMNS)
    hits = active_records(cases, medications, matches, rules, db, of_cases)
    since = hits["index_time"] - hits["start_time"]
    hits["days_since_start"] = since.dt.days
    hits["new_start"] = since <= pd.Timedelta(days=rules.windows.new_start_days)
    stopped_until = hits["start_time"] + pd.Timedelta(
        days=rules.windows.medication_stopped_active_days
    )
    hits["active_until"] = stopped_until.where(hits["end_time"].isna() & hits["stopped"])
    hits["drug"] = hits["drug_name"].fillna(
        ("RxNorm " + hits["rxnorm"].astype("str")).where(
            hits["rxnorm"].notna(), "ATC " + hits["atc"].astype("str")
        )
    )
    hits = hits.rename(columns={"drug_class": "risk_factor"})
    order = ["patient_id", "risk_factor", "start_time", "drug", "end_time", "ingredient"]
    hits = hits.sort_values([*order, "matched_by"], kind="stable")
    return hits[EVIDENCE_COLUMNS].reset_index(drop=True)
