"""Spec §7-9: cases, their risk factors, correction risk, over-correction, listing and tiers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from hyposcreen.config import Window
from hyposcreen.ingest.timeparse import instant_of, is_utc, to_instants, to_wall_time
from hyposcreen.rules.loader import Profile, RuleSet
from hyposcreen.screen.cofactors import electrolyte_cofactors
from hyposcreen.screen.conditions import case_conditions
from hyposcreen.screen.exposure import active_drug_classes
from hyposcreen.screen.serial import (
    latest_and_delta,
    missing_workup,
    overcorrection_pairs,
    possibly_spurious,
    spurious_basis,
)
from hyposcreen.screen.sodium import classify, correct_for_glucose


@dataclass
class ScreenResult:
    """Everything the report needs: one row per case plus long evidence tables."""

    cases: pd.DataFrame  # every case (listed or not), ordered; `listed`, `tier`, `rank`
    sodium_results: pd.DataFrame  # every usable sodium result read, corrected and classified
    medication_evidence: pd.DataFrame
    condition_evidence: pd.DataFrame
    cofactor_evidence: pd.DataFrame
    attrition: list[dict[str, object]]


def screen(
    labs: pd.DataFrame,
    medications: pd.DataFrame,
    drug_matches: pd.DataFrame,
    diagnoses: pd.DataFrame,
    rules: RuleSet,
    profile: Profile,
    window: Window,
    glucose_factor: float | None = None,
    timezone: str = "UTC",
) -> ScreenResult:
    """Run spec §4-9 over cleaned tables (used rows only; labs in canonical units).

    Times come and go as naive site-local wall time in `timezone`; in between, every rule runs
    on UTC instants, so each interval is elapsed time also on the nights the clocks change
    (spec §11)."""
    labs = _with_instants(labs, ("specimen_time",), timezone)
    medications = _with_instants(medications, ("start_time", "end_time"), timezone)
    diagnoses = _with_instants(diagnoses, ("recorded_time",), timezone)
    window = Window(instant_of(window.start, timezone), instant_of(window.end, timezone))
    result = _screen_instants(
        labs, medications, drug_matches, diagnoses, rules, profile, window, glucose_factor
    )
    return _with_wall_times(result, timezone)


# time columns of the screen's outputs, shown in site-local wall time
_CASE_TIMES = ("index_time", "nadir_time", "latest_time", "previous_time")
_OUTPUT_TIMES = {
    "cases": (*_CASE_TIMES, "oc_from_time", "oc_to_time"),
    "sodium_results": ("specimen_time", "glucose_time"),
    "medication_evidence": ("start_time", "end_time", "active_until"),
    "condition_evidence": ("recorded_time",),
    "cofactor_evidence": ("time",),
}


def _with_instants(frame: pd.DataFrame, columns: tuple[str, ...], timezone: str) -> pd.DataFrame:
    if is_utc(timezone):
        return frame
    converted = {c: to_instants(frame[c], timezone) for c in columns if c in frame.columns}
    return frame.assign(**converted)  # copy-on-write: the other columns are not copied


def _with_wall_times(result: ScreenResult, timezone: str) -> ScreenResult:
    if is_utc(timezone):
        return result
    for name, columns in _OUTPUT_TIMES.items():
        frame = getattr(result, name)
        present = [c for c in columns if c in frame.columns]
        if present and not frame.empty:
            converted = {c: to_wall_time(frame[c], timezone) for c in present}
            setattr(result, name, frame.assign(**converted))
    return result


def _screen_instants(
    labs: pd.DataFrame,
    medications: pd.DataFrame,
    drug_matches: pd.DataFrame,
    diagnoses: pd.DataFrame,
    rules: RuleSet,
    profile: Profile,
    window: Window,
    glucose_factor: float | None,
) -> ScreenResult:
    """spec §4-9 on UTC instants."""
    sodium = labs.loc[labs["analyte"] == "sodium"]
    glucose = labs.loc[labs["analyte"] == "glucose"]
    results = classify(correct_for_glucose(sodium, glucose, rules, glucose_factor), profile)
    in_window = (results["specimen_time"] >= window.start) & (results["specimen_time"] < window.end)
    if "reported_late" in results:  # nightly runs: late results are index candidates too
        in_window |= results["reported_late"].fillna(False).astype(bool)
    results["in_window"] = in_window
    results["possibly_spurious"] = possibly_spurious(results, rules)

    cases = find_cases(results)
    meds = active_drug_classes(cases, medications, drug_matches, rules)
    conditions = case_conditions(cases, diagnoses, rules)
    cofactors = electrolyte_cofactors(cases, labs, rules)
    cases = latest_and_delta(cases, results, rules)
    cases = _attach_risk(cases, meds, conditions, cofactors, rules)
    oc = overcorrection_pairs(cases, results, window, rules)
    cases = cases.merge(oc, on="patient_id", how="left")
    cases["overcorrection"] = cases["oc_rise"].notna()
    cases["possibly_spurious"] = spurious_basis(cases, results).to_numpy()
    cases["missing_workup"] = missing_workup(cases, labs, rules).to_numpy()
    cases = assign_tiers(cases, rules)
    cases = order_cases(cases)
    return ScreenResult(
        cases=cases,
        sodium_results=results,
        medication_evidence=meds,
        condition_evidence=conditions,
        cofactor_evidence=cofactors,
        attrition=[],
    )


def find_cases(results: pd.DataFrame) -> pd.DataFrame:
    """One case per patient with a hyponatremic result in the window; index = lowest corrected
    sodium in the window (ties: the earliest)."""
    low = results.loc[results["in_window"] & results["hyponatremic"]]
    n_low = low.groupby("patient_id").size().rename("n_low_results")
    # rows equal in corrected value and time: the lower measured value, then the lower glucose,
    # then an exact value before a censored one, so no choice rests on the order of the file
    ties = [c for c in ("value_num", "glucose_mg_dl", "censored") if c in low.columns]
    index = low.sort_values(
        ["patient_id", "corrected_sodium", "specimen_time", *ties], kind="stable"
    )
    index = index.drop_duplicates("patient_id")
    cases = pd.DataFrame(
        {
            "patient_id": index["patient_id"].to_numpy(),
            "index_time": index["specimen_time"].to_numpy(),
            "index_sodium": index["value_num"].to_numpy(),
            "corrected_sodium": index["corrected_sodium"].to_numpy(),
            "index_glucose": index["glucose_mg_dl"].to_numpy(),
            "index_censored": index["censored"].to_numpy() if "censored" in index else "",
            "severity": index["severity"].to_numpy(),
            "level": index["level"].to_numpy(),
        }
    )
    cases = cases.merge(n_low.reset_index(), on="patient_id", how="left")
    cases["nadir_time"] = cases["index_time"]
    return cases


def _distinct_join(values: pd.Series) -> str:
    return ";".join(sorted({v for v in values if isinstance(v, str) and v}))


def _attach_risk(
    cases: pd.DataFrame,
    meds: pd.DataFrame,
    conditions: pd.DataFrame,
    cofactors: pd.DataFrame,
    rules: RuleSet,
) -> pd.DataFrame:
    factors = pd.concat(
        [
            meds[["patient_id", "risk_factor"]],
            conditions[["patient_id", "risk_factor"]],
            cofactors[["patient_id", "risk_factor"]],
        ],
        ignore_index=True,
    ).dropna(subset=["risk_factor"])
    vocabulary = set(rules.risk_factor_vocabulary)
    factors = factors.loc[factors["risk_factor"].isin(vocabulary)].drop_duplicates()
    joined = factors.groupby("patient_id")["risk_factor"].agg(_distinct_join)
    counted = factors.groupby("patient_id").size()
    out = cases.copy()
    out["risk_factors"] = out["patient_id"].map(joined).fillna("").astype("str")
    out["n_risk_factors"] = out["patient_id"].map(counted).fillna(0).astype("int64")
    out["cramp_documented"] = out["risk_factors"].str.contains("cramp_documented", regex=False)
    risk_conditions = conditions.loc[conditions["correction_risk"].astype(bool), "patient_id"]
    hypokalemia = cofactors.loc[cofactors["risk_factor"] == "hypokalemia", "patient_id"]
    very_low = out["corrected_sodium"] <= rules.limits.correction_risk_index_sodium_max
    out["correction_risk"] = (
        out["patient_id"].isin(risk_conditions) | out["patient_id"].isin(hypokalemia) | very_low
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


def order_cases(cases: pd.DataFrame) -> pd.DataFrame:
    """Deterministic order: listed first; tier, corrected index sodium, index time, patient_id."""
    ordered = cases.sort_values(
        ["listed", "tier", "corrected_sodium", "index_time", "patient_id"],
        ascending=[False, True, True, True, True],
        kind="stable",
    ).reset_index(drop=True)
    ordered["rank"] = pd.array(
        np.where(ordered["listed"], np.cumsum(ordered["listed"]), 0), dtype="int64"
    )
    return ordered
