"""Nightly increments: late results and re-listing only on worsening.

Pure functions over frames; the state they compare against is read by `hyposcreen.state`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hyposcreen.config import Window
from hyposcreen.ingest.timeparse import elapsed_before
from hyposcreen.rules.loader import RuleSet

RELIST_NEW = "new"
RELIST_REASONS = ("nadir_lower", "tier_escalation", "rules_changed", "new_overcorrection")


def grading_key(rules: RuleSet, profile: str, glucose_factor: float | None) -> str:
    """What grades a case into its tier: the rules' files (their content hash), the severity
    profile and the glucose factor. A listing graded otherwise is not compared tier by tier."""
    factor = glucose_factor or float(rules.glucose["factor"])
    return f"{rules.content_hash}|{profile}|{factor:g}"


def late_lookback_start(window: Window, rules: RuleSet, timezone: str = "UTC") -> pd.Timestamp:
    """Site-local wall time the late-result lookback (elapsed time, spec §11) begins at."""
    lookback = pd.Timedelta(hours=rules.windows.late_result_lookback_hours)
    return elapsed_before(window.start, lookback, timezone)


def flag_late_results(
    labs: pd.DataFrame,
    keys: pd.Series,
    window: Window,
    rules: RuleSet,
    seen: set[int],
    screened: list[Window],
    timezone: str = "UTC",
) -> pd.Series:
    """Sodium results collected before the window (within the lookback) that no earlier run
    has screened: first seen in tonight's extract although their collection window was
    already screened, or reported (result_time) inside this window. Their collection time
    stays the clinical time; they only become index candidates of this run."""
    time = labs["specimen_time"]
    candidate = (
        (labs["analyte"] == "sodium")
        & (time >= late_lookback_start(window, rules, timezone))
        & (time < window.start)
        & ~keys.isin(list(seen))
    )
    covered = pd.Series(False, index=labs.index)
    for done in screened:
        covered |= (time >= done.start) & (time < done.end)
    reported_now = (labs["result_time"] >= window.start) & (labs["result_time"] < window.end)
    return (candidate & (covered | reported_now.fillna(False))).astype(bool)


def apply_listing_history(
    cases: pd.DataFrame,
    last_listing: pd.DataFrame,
    reviewed: pd.DataFrame,
    window: Window,
    rules: RuleSet,
    grading: str | None = None,
) -> pd.DataFrame:
    """Keep a case listed again only when it worsened since its last listing.

    `last_listing`: patient_id, window_start, tier, nadir, overcorrection_to (the latest
    listing of each patient before this window). A listing older than `relist_after_days`
    no longer counts (a new episode). Worse = corrected index sodium at least
    `relist_nadir_drop_mmol_l` below the listed nadir, a more urgent tier, or an over-rapid
    correction other than the one already listed. A tier more urgent than that of a listing
    graded otherwise (`grading`: the rules, profile or glucose factor changed since) lists the
    case again as `rules_changed`, not as a worsening, unless its sodium is also lower than
    the listed nadir (by any amount): then the patient worsened too, and it is
    `tier_escalation` as well (a case that moved from routine to urgent on the night the rules
    changed is never told as the rules' doing alone). Adds `relisted_because` (new | reasons,
    `;`-joined | not_worse), `previously_listed` (window start) and `last_reviewed`.
    """
    out = cases.copy()
    horizon = window.start - pd.Timedelta(days=rules.limits.relist_after_days)
    history = last_listing.assign(window_start=pd.to_datetime(last_listing["window_start"]))
    history = history.loc[history["window_start"] >= horizon].set_index("patient_id")
    previous = _lookup(out["patient_id"], history["window_start"])
    listed_before = previous.notna()
    prev_nadir = _lookup(out["patient_id"], history["nadir"]).astype("float64")
    prev_tier = _lookup(out["patient_id"], history["tier"]).astype("float64")
    prev_oc = _lookup(out["patient_id"], history["overcorrection_to"])
    graded = history["grading"] if "grading" in history else pd.Series(dtype=object)
    prev_grading = _lookup(out["patient_id"], graded)
    regraded = prev_grading.notna() & (prev_grading != grading) & (grading is not None)
    escalated = (out["tier"] < prev_tier).fillna(False)
    oc_to = out["oc_to_time"].dt.strftime("%Y-%m-%dT%H:%M:%S") if "oc_to_time" in out else None
    drop = rules.limits.relist_nadir_drop_mmol_l
    lower = (out["corrected_sodium"] < prev_nadir).fillna(False)  # by any amount
    reasons = {
        "nadir_lower": (out["corrected_sodium"] <= (prev_nadir - drop).round(9)).fillna(False),
        "tier_escalation": escalated & (~regraded | lower),
        "rules_changed": escalated & regraded,
        "new_overcorrection": out["overcorrection"].astype(bool)
        & (prev_oc.isna() | (prev_oc != oc_to)),
    }
    because = pd.Series("", index=out.index, dtype=object)
    for name, hit in reasons.items():
        because = because.where(~hit, because + ";" + name)
    because = because.str.lstrip(";")
    worse = because != ""
    out["relisted_because"] = np.where(
        ~out["listed"].astype(bool),
        "",
        np.where(~listed_before, RELIST_NEW, np.where(worse, because, "not_worse")),
    )
    out["previously_listed"] = previous
    reviews = reviewed.assign(reviewed_at=pd.to_datetime(reviewed["reviewed_at"]))
    out["last_reviewed"] = _lookup(
        out["patient_id"], reviews.set_index("patient_id")["reviewed_at"]
    )
    out["listed"] = out["listed"] & (~listed_before | worse)
    return out


def _lookup(keys: pd.Series, values: pd.Series) -> pd.Series:
    """values[key] per key (missing -> null), keeping the values' dtype even when empty."""
    return pd.Series(values.reindex(keys.to_numpy()).to_numpy(), index=keys.index)
