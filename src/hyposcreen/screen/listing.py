"""Spec §7 and §9: each case's risk factors and correction risk, listing, tiers and order."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hyposcreen.arrow_columns import is_listed
from hyposcreen.rules.loader import RuleSet
from hyposcreen.screen.engine import Tables, run_query

# per patient the distinct risk factors of the vocabulary, `;`-joined in name order, and their
# number; a factor outside the vocabulary (correction-risk-only conditions) does not count
_RISK_FACTORS_SQL = """
SELECT f.patient_id,
       string_agg(DISTINCT f.risk_factor, ';' ORDER BY f.risk_factor) AS risk_factors,
       count(DISTINCT f.risk_factor) AS n_risk_factors
FROM factors f JOIN vocabulary v ON v.risk_factor = f.risk_factor
GROUP BY f.patient_id
ORDER BY f.patient_id
"""


def risk_factors_of(
    factors: pd.DataFrame, vocabulary: tuple[str, ...], db: Tables | None = None
) -> pd.DataFrame:
    """`factors` (patient_id, risk_factor; repeats allowed): patient_id, risk_factors,
    n_risk_factors for each patient with at least one factor of `vocabulary` (on the
    screen's `db`, when given)."""
    return run_query(
        _RISK_FACTORS_SQL,
        {
            "factors": factors[["patient_id", "risk_factor"]].astype("str"),
            "vocabulary": pd.DataFrame({"risk_factor": list(vocabulary)}, dtype="str"),
        },
        dtypes={"patient_id": "str", "risk_factors": "str", "n_risk_factors": "int64"},
        db=db,
    )


def attach_risk(
    cases: pd.DataFrame,
    meds: pd.DataFrame,
    conditions: pd.DataFrame,
    cofactors: pd.DataFrame,
    rules: RuleSet,
    db: Tables | None = None,
) -> pd.DataFrame:
    """Add risk_factors, n_risk_factors, cramp_documented, correction_risk and the case's
    over-correction `limit` (spec §6-8)."""
    factors = pd.concat(
        [
            meds[["patient_id", "risk_factor"]],
            conditions[["patient_id", "risk_factor"]],
            cofactors[["patient_id", "risk_factor"]],
        ],
        ignore_index=True,
    ).dropna(subset=["risk_factor"])
    per_patient = risk_factors_of(factors, tuple(rules.risk_factor_vocabulary), db)
    per_patient = per_patient.set_index("patient_id")
    out = cases.copy()
    out["risk_factors"] = out["patient_id"].map(per_patient["risk_factors"]).fillna("")
    out["risk_factors"] = out["risk_factors"].astype("str")
    out["n_risk_factors"] = (
        out["patient_id"].map(per_patient["n_risk_factors"]).fillna(0).astype("int64")
    )
    out["cramp_documented"] = out["risk_factors"].str.contains("cramp_documented", regex=False)
    risk_conditions = conditions.loc[conditions["correction_risk"].astype(bool), "patient_id"]
    hypokalemia = cofactors.loc[cofactors["risk_factor"] == "hypokalemia", "patient_id"]
    very_low = out["corrected_sodium"] <= rules.limits.correction_risk_index_sodium_max
    out["correction_risk"] = (
        is_listed(out["patient_id"], risk_conditions)
        | is_listed(out["patient_id"], hypokalemia)
        | very_low.to_numpy(dtype=bool)
    )
    out["limit"] = np.where(
        out["correction_risk"],
        rules.limits.overcorrection_with_risk_mmol_per_24h,
        rules.limits.overcorrection_mmol_per_24h,
    )
    return out


def assign_tiers(cases: pd.DataFrame, rules: RuleSet) -> pd.DataFrame:
    """Listing (§7) and priority tiers (§9): 1 urgent, 2 soon, 3 routine."""
    out = cases.copy()
    severe = out["level"] == "severe"
    out["listed"] = (out["n_risk_factors"] > 0) | severe | out["overcorrection"]
    soon = (
        (out["level"] == "moderate")
        | (
            (out["level"] == "mild")
            & (out["n_risk_factors"] >= rules.limits.soon_mild_min_risk_categories)
        )
        | out["cramp_documented"]
        | (out["delta_48h"] <= rules.limits.soon_delta_48h_max).fillna(False)
    )
    out["tier"] = np.select([severe | out["overcorrection"], soon], [1, 2], default=3).astype(
        "int64"
    )
    change = rules.limits.trend_change_mmol_l
    out["trend"] = np.select(
        [out["delta_48h"] <= -change, out["delta_48h"] >= change, out["delta_48h"].notna()],
        ["falling", "rising", "stable"],
        default="",
    )
    return out


ORDER_KEYS = ["listed", "tier", "corrected_sodium", "index_time", "patient_id"]
ORDER_ASCENDING = [False, True, True, True, True]


def order_cases(cases: pd.DataFrame) -> pd.DataFrame:
    """Deterministic order: listed first; tier, corrected index sodium, index time, patient_id."""
    ordered = cases.sort_values(ORDER_KEYS, ascending=ORDER_ASCENDING, kind="stable").reset_index(
        drop=True
    )
    ordered["rank"] = pd.array(
        np.where(ordered["listed"], np.cumsum(ordered["listed"]), 0), dtype="int64"
    )
    return ordered
