"""Spec §6, conditions: coded diagnoses that count for a case, including documented cramp."""

from __future__ import annotations

import pandas as pd

from hyposcreen.arrow_columns import is_listed
from hyposcreen.rules.loader import RuleSet
from hyposcreen.screen.engine import Tables, microseconds, run_query

EVIDENCE_COLUMNS = [
    "patient_id",
    "condition",
    "risk_factor",
    "correction_risk",
    "code",
    "code_system",
    "recorded_time",
]


# each case's listed diagnoses that count by their condition's timing rule (a small table):
# at or before the index, or within ± the cramp window of it
_COUNTED_SQL = """
SELECT c.patient_id, d.condition, d.code, d.code_system_norm, d.recorded_time
FROM cases c
JOIN diagnoses d ON d.patient_id = c.patient_id
JOIN timing t ON t.condition = d.condition
WHERE (t.timing = 'at_or_before_index'
       AND epoch_us(d.recorded_time) <= epoch_us(c.index_time))
   OR (t.timing = 'around_index'
       AND abs(epoch_us(d.recorded_time) - epoch_us(c.index_time)) <= $around_us)
ORDER BY c.patient_id, d.condition, d.recorded_time, d.code, d.code_system_norm
"""


def counted_diagnoses(
    cases: pd.DataFrame,
    diagnoses: pd.DataFrame,
    rules: RuleSet,
    db: Tables | None = None,
    of_cases: bool = False,
) -> pd.DataFrame:
    """(case, diagnosis) rows that count by the timing of the diagnosis' condition:
    patient_id, condition, code, code_system_norm, recorded_time (on the screen's `db`, when
    given). `of_cases`: every row of `diagnoses` is a case's patient's already."""
    timing = pd.DataFrame(
        {
            "condition": list(rules.conditions),
            "timing": [c.timing for c in rules.conditions.values()],
        },
        dtype="str",
    )
    columns = ["patient_id", "condition", "code", "code_system_norm", "recorded_time"]
    # only listed conditions of the cases' patients can count: the rest is not registered
    listed = diagnoses["condition"].notna()
    if not of_cases:
        listed &= is_listed(diagnoses["patient_id"], cases["patient_id"])
    diagnoses = diagnoses.loc[listed, columns]
    return run_query(
        _COUNTED_SQL,
        {
            "cases": cases[["patient_id", "index_time"]].astype({"patient_id": "str"}),
            "diagnoses": diagnoses[columns].astype({"patient_id": "str", "condition": "str"}),
            "timing": timing,
        },
        {"around_us": microseconds(pd.Timedelta(days=rules.windows.cramp_window_days))},
        {"patient_id": cases["patient_id"].dtype, **{c: diagnoses[c].dtype for c in columns[1:]}},
        db,
    )


def case_conditions(
    cases: pd.DataFrame,
    diagnoses: pd.DataFrame,
    rules: RuleSet,
    db: Tables | None = None,
    of_cases: bool = False,
) -> pd.DataFrame:
    """Evidence rows of listed conditions for each case.

    Conditions count when recorded at or before the index time (no lookback limit); a documented
    muscle cramp counts within ± cramp_window_days of the index. `diagnoses` holds used rows
    (status exclusions and evidence dated at/after window_end already removed); with
    `of_cases`, only rows of the cases' patients.
    """
    if cases.empty or diagnoses.empty:
        return pd.DataFrame(columns=EVIDENCE_COLUMNS)
    hits = counted_diagnoses(cases, diagnoses, rules, db, of_cases)
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
