"""Spec §4-5: glucose-corrected sodium, the hyponatremia definition and severity of a profile."""

from __future__ import annotations

import operator

import numpy as np
import pandas as pd

from hyposcreen.rules.loader import Profile, RuleSet

_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
# Binary floating point: 134.2 + 0.8 is 135.00000000000003. Comparisons use values rounded
# to 9 decimals (far below any clinical precision); outputs round to 1 decimal.
_NOISE_DECIMALS = 9


def compare(values: pd.Series, op: str, threshold: float) -> pd.Series:
    return pd.Series(_OPS[op](values, threshold), index=values.index).fillna(False).astype(bool)


def _pair_by_specimen(sodium: pd.DataFrame, glucose: pd.DataFrame) -> pd.DataFrame:
    """Glucose from the same specimen_id (nearest in time, then the earlier) per sodium row."""
    left = sodium.loc[
        sodium["specimen_id"].notna(), ["row", "patient_id", "specimen_id", "specimen_time"]
    ]
    right = glucose.loc[
        glucose["specimen_id"].notna(),
        ["patient_id", "specimen_id", "glucose_time", "glucose_mg_dl"],
    ]
    pairs = left.merge(right, on=["patient_id", "specimen_id"], how="inner")
    if pairs.empty:
        return pairs[["row", "glucose_time", "glucose_mg_dl"]]
    pairs["distance"] = (pairs["glucose_time"] - pairs["specimen_time"]).abs()
    pairs = pairs.sort_values(["row", "distance", "glucose_time", "glucose_mg_dl"], kind="stable")
    return pairs.drop_duplicates("row")[["row", "glucose_time", "glucose_mg_dl"]]


def _pair_by_time(sodium: pd.DataFrame, glucose: pd.DataFrame, minutes: float) -> pd.DataFrame:
    """Nearest glucose within ± `minutes` inclusive; at equal distance the earlier glucose."""
    if sodium.empty or glucose.empty:
        return pd.DataFrame(
            {
                "row": pd.Series(dtype="int64"),
                "glucose_time": pd.Series(dtype="datetime64[us]"),
                "glucose_mg_dl": pd.Series(dtype="float64"),
            }
        )
    tolerance = pd.Timedelta(minutes=minutes)
    left = sodium[["row", "patient_id", "specimen_time"]].sort_values(
        "specimen_time", kind="stable"
    )
    # one glucose per (patient, time): the lower value, so the correction is never overstated
    right = (
        glucose.sort_values(["glucose_time", "glucose_mg_dl"], kind="stable")
        .drop_duplicates(["patient_id", "glucose_time"])
        .loc[:, ["patient_id", "glucose_time", "glucose_mg_dl"]]
    )
    found = {}
    for direction in ("backward", "forward"):
        merged = pd.merge_asof(
            left,
            right.assign(specimen_time=right["glucose_time"]),
            on="specimen_time",
            by="patient_id",
            direction=direction,
            tolerance=tolerance,
        ).set_index("row")
        found[direction] = merged
    back, fwd = found["backward"], found["forward"].reindex(found["backward"].index)
    back_gap = back["specimen_time"] - back["glucose_time"]
    fwd_gap = fwd["glucose_time"] - fwd["specimen_time"]
    use_back = back["glucose_time"].notna() & (fwd["glucose_time"].isna() | (back_gap <= fwd_gap))
    use_fwd = ~use_back & fwd["glucose_time"].notna()
    chosen = pd.concat([back.loc[use_back], fwd.loc[use_fwd]])
    return chosen.reset_index()[["row", "glucose_time", "glucose_mg_dl"]]


def correct_for_glucose(
    sodium: pd.DataFrame, glucose: pd.DataFrame, rules: RuleSet, factor: float | None = None
) -> pd.DataFrame:
    """Sodium results with their paired glucose and `corrected_sodium` (spec §4).

    `sodium`: patient_id, specimen_time, specimen_id, value_num (mmol/L).
    `glucose`: patient_id, specimen_time, specimen_id, value_num (mg/dL); only usable results.
    """
    settings = rules.glucose
    factor = float(factor if factor is not None else settings["factor"])
    if factor not in [float(f) for f in settings["allowed_factors"]]:
        raise ValueError(
            f"glucose correction factor {factor} is not one of {settings['allowed_factors']}"
        )
    out = sodium.reset_index(drop=True).copy()
    out["row"] = np.arange(len(out))
    glucose = glucose.rename(
        columns={"specimen_time": "glucose_time", "value_num": "glucose_mg_dl"}
    )
    glucose = glucose[["patient_id", "specimen_id", "glucose_time", "glucose_mg_dl"]]
    by_specimen = _pair_by_specimen(out, glucose)
    rest = out[~out["row"].isin(by_specimen["row"])]
    by_time = _pair_by_time(rest, glucose, float(settings["pairing_window_minutes"]))
    paired = pd.concat([by_specimen, by_time], ignore_index=True)
    out = out.merge(paired, on="row", how="left").drop(columns="row")
    excess = (out["glucose_mg_dl"] - float(settings["threshold_mg_dl"])).clip(lower=0).fillna(0.0)
    corrected = out["value_num"] + factor * excess / 100.0
    out["corrected_sodium"] = corrected.round(_NOISE_DECIMALS)
    return out


def classify(results: pd.DataFrame, profile: Profile) -> pd.DataFrame:
    """Add `hyponatremic`, `low_measured`, `hyperglycemia_related`, `severity`, `level`."""
    out = results.copy()
    corrected = out["corrected_sodium"]
    measured = out["value_num"].round(_NOISE_DECIMALS)
    out["hyponatremic"] = compare(
        corrected, profile.hyponatremia_op, profile.hyponatremia_threshold
    )
    low_measured = compare(measured, profile.hyponatremia_op, profile.hyponatremia_threshold)
    out["hyperglycemia_related"] = low_measured & ~out["hyponatremic"]
    severity = pd.Series(None, index=out.index, dtype=object)
    level = pd.Series(None, index=out.index, dtype=object)
    for band in profile.bands:
        hit = out["hyponatremic"] & severity.isna() & compare(corrected, band.op, band.threshold)
        severity[hit] = band.label
        level[hit] = band.level
    out["severity"] = severity
    out["level"] = level
    return out
