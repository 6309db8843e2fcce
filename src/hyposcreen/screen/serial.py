"""Spec §8: serial figures of each case on corrected values, over-rapid correction, workup."""

from __future__ import annotations

import pandas as pd

from hyposcreen.config import Window
from hyposcreen.rules.loader import RuleSet


def latest_and_delta(cases: pd.DataFrame, results: pd.DataFrame, rules: RuleSet) -> pd.DataFrame:
    """latest_sodium/latest_time (last result before window_end; same time → the lower) and
    delta_48h (index minus the most recent earlier result within 48 h, context included)."""
    series = results[["patient_id", "specimen_time", "corrected_sodium"]]
    ordered = series.sort_values(
        ["patient_id", "specimen_time", "corrected_sodium"],
        ascending=[True, True, False],
        kind="stable",
    )
    latest = ordered.drop_duplicates("patient_id", keep="last").rename(
        columns={"specimen_time": "latest_time", "corrected_sodium": "latest_sodium"}
    )
    out = cases.merge(latest, on="patient_id", how="left")
    earlier = out[["patient_id", "index_time"]].merge(series, on="patient_id")
    gap = earlier["index_time"] - earlier["specimen_time"]
    window = pd.Timedelta(hours=rules.windows.delta_window_hours)
    earlier = earlier.loc[(gap > pd.Timedelta(0)) & (gap <= window)]
    previous = earlier.sort_values(
        ["patient_id", "specimen_time", "corrected_sodium"],
        ascending=[True, True, False],
        kind="stable",
    ).drop_duplicates("patient_id", keep="last")
    previous = previous.rename(
        columns={"specimen_time": "previous_time", "corrected_sodium": "previous_sodium"}
    )[["patient_id", "previous_time", "previous_sodium"]]
    out = out.merge(previous, on="patient_id", how="left")
    out["delta_48h"] = (out["corrected_sodium"] - out["previous_sodium"]).round(9)
    return out


def overcorrection_pairs(
    cases: pd.DataFrame, results: pd.DataFrame, window: Window, rules: RuleSet
) -> pd.DataFrame:
    """The steepest over-rapid rise per case: a hyponatremic result a, a later result b with
    0 < b.time - a.time <= 24 h and b - a > the case's limit (`limit` column of `cases`),
    both inside [window_start - 72 h, window_end). Ties: the earliest pair."""
    start = window.start - pd.Timedelta(hours=rules.windows.context_hours_before_window)
    inside = results.loc[
        (results["specimen_time"] >= start) & (results["specimen_time"] < window.end),
        ["patient_id", "specimen_time", "corrected_sodium", "hyponatremic"],
    ]
    inside = inside.loc[inside["patient_id"].isin(cases["patient_id"])]
    low = inside.loc[inside["hyponatremic"]].drop(columns="hyponatremic")
    pairs = low.merge(inside.drop(columns="hyponatremic"), on="patient_id", suffixes=("_a", "_b"))
    gap = pairs["specimen_time_b"] - pairs["specimen_time_a"]
    hours = pd.Timedelta(hours=rules.windows.overcorrection_window_hours)
    pairs = pairs.loc[(gap > pd.Timedelta(0)) & (gap <= hours)]
    pairs = pairs.merge(cases[["patient_id", "limit"]], on="patient_id")
    pairs["rise"] = (pairs["corrected_sodium_b"] - pairs["corrected_sodium_a"]).round(9)
    pairs = pairs.loc[pairs["rise"] > pairs["limit"]]
    pairs = pairs.sort_values(
        ["patient_id", "rise", "specimen_time_a", "specimen_time_b", "corrected_sodium_a"],
        ascending=[True, False, True, True, True],
        kind="stable",
    ).drop_duplicates("patient_id")
    return pairs.rename(
        columns={
            "specimen_time_a": "oc_from_time",
            "corrected_sodium_a": "oc_from_sodium",
            "specimen_time_b": "oc_to_time",
            "corrected_sodium_b": "oc_to_sodium",
            "rise": "oc_rise",
        }
    )[["patient_id", "oc_from_time", "oc_from_sodium", "oc_to_time", "oc_to_sodium", "oc_rise"]]


def missing_workup(cases: pd.DataFrame, labs: pd.DataFrame, rules: RuleSet) -> pd.Series:
    """`;`-joined workup analytes with no usable result within -24 h..+48 h of the index."""
    wanted = list(rules.workup_analytes)
    rows = labs.loc[labs["analyte"].isin(wanted), ["patient_id", "analyte", "specimen_time"]]
    joined = cases[["patient_id", "index_time"]].merge(rows, on="patient_id")
    offset = joined["specimen_time"] - joined["index_time"]
    inside = (offset >= -pd.Timedelta(hours=rules.windows.workup_hours_before)) & (
        offset <= pd.Timedelta(hours=rules.windows.workup_hours_after)
    )
    present = joined.loc[inside, ["patient_id", "analyte"]].drop_duplicates()
    have = (
        present.assign(flag=True).pivot_table(
            index="patient_id", columns="analyte", values="flag", aggfunc="any", fill_value=False
        )
        if not present.empty
        else pd.DataFrame(index=pd.Index([], name="patient_id"))
    )
    have = have.reindex(index=cases["patient_id"], columns=wanted, fill_value=False).fillna(False)
    missing = pd.Series("", index=have.index, dtype=object)
    for analyte in sorted(wanted):
        gap = ~have[analyte].astype(bool)
        missing = missing.where(~gap, missing + ";" + analyte)
    return missing.str.lstrip(";").reset_index(drop=True)


def possibly_spurious(results: pd.DataFrame, rules: RuleSet) -> pd.Series:
    """Spec §8 delta check: a result at least `spurious_drop_mmol_l` (corrected) below both the
    patient's previous and next results, each within `spurious_neighbour_hours` of it. Results
    at the same time as the one checked are not its neighbours. Aligned to `results`' index."""
    drop = rules.limits.spurious_drop_mmol_l
    hours = pd.Timedelta(hours=rules.windows.spurious_neighbour_hours)
    ordered = results[["patient_id", "specimen_time", "corrected_sodium"]].sort_values(
        ["patient_id", "specimen_time"], kind="stable"
    )
    by_patient = ordered.groupby("patient_id", sort=False)
    before_time = by_patient["specimen_time"].shift(1)
    before_value = by_patient["corrected_sodium"].shift(1)
    after_time = by_patient["specimen_time"].shift(-1)
    after_value = by_patient["corrected_sodium"].shift(-1)
    time, value = ordered["specimen_time"], ordered["corrected_sodium"]
    before = (time > before_time) & (time - before_time <= hours)
    after = (after_time > time) & (after_time - time <= hours)
    flagged = (
        before
        & after
        & ((before_value - value).round(9) >= drop)
        & ((after_value - value).round(9) >= drop)
    )
    return flagged.reindex(results.index).fillna(False).astype(bool)


def spurious_basis(cases: pd.DataFrame, results: pd.DataFrame) -> pd.Series:
    """Per case: which of its key results is possibly spurious — "index", "overcorrection_pair"
    or both (";"-joined), "" when none. `results` carries `possibly_spurious`."""
    flagged = results.loc[results["possibly_spurious"], ["patient_id", "specimen_time"]]
    keys = pd.MultiIndex.from_frame(flagged)

    def hit(times: pd.Series) -> pd.Series:
        wanted = pd.MultiIndex.from_arrays([cases["patient_id"], times])
        return pd.Series(wanted.isin(keys), index=cases.index, dtype=bool)

    index = hit(cases["index_time"])
    pair = pd.Series(False, index=cases.index)
    for column in ("oc_from_time", "oc_to_time"):
        if column in cases:
            pair |= hit(cases[column])
    text = pd.Series("", index=cases.index, dtype=object)
    text = text.where(~index, "index")
    both = index & pair
    text = text.where(~(pair & ~index), "overcorrection_pair")
    return text.where(~both, "index;overcorrection_pair").astype("str")
