"""Late sodium results of a nightly run with state (spec: results reported after their night).

A sodium result dated before the window but first seen now is flagged `reported_late`; rows
read only as context of late results and not needed by any become not relevant again.
"""

from __future__ import annotations

import pandas as pd

from hyposcreen.clean import NOT_RELEVANT, USED, read_window_start
from hyposcreen.config import Window
from hyposcreen.nightly.result_keys import result_keys
from hyposcreen.rules.loader import RuleSet
from hyposcreen.screen.incremental import flag_late_results, late_lookback_start
from hyposcreen.state import StateStore


def mark_late_results(
    labs: pd.DataFrame, window: Window, rules: RuleSet, timezone: str, state: StateStore
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Flag late sodium results; rows read only for them and not needed become not relevant.

    Returns the labs and the sodium results this run has seen (remembered in the state).
    """
    lookback = late_lookback_start(window, rules, timezone)
    sodium = labs.loc[(labs["analyte"] == "sodium") & (labs["bucket"] == USED)]
    keys = result_keys(sodium)
    late = flag_late_results(
        sodium,
        keys,
        window,
        rules,
        state.seen_keys(lookback, before=window.start),
        state.screened_windows(since=lookback),
        timezone,
    )
    out = labs.assign(reported_late=False)
    out.loc[late.index[late.to_numpy()], "reported_late"] = True
    # rows before the usual read start stay only as context of a late result of their patient
    usual_start = read_window_start(window, rules, timezone=timezone)
    context = window.start - usual_start
    earliest = out.loc[out["reported_late"]].groupby("patient_id")["specimen_time"].min()
    needed_from = pd.Series(pd.NaT, index=out.index, dtype="datetime64[us]")
    if len(earliest):
        needed_from = out["patient_id"].map(earliest - context).astype("datetime64[us]")
    early = out["specimen_time"] < usual_start
    unneeded = early & ~(out["specimen_time"] >= needed_from).fillna(False)
    out.loc[unneeded, "bucket"] = NOT_RELEVANT
    out.loc[unneeded, "reason"] = "outside_window"
    out.loc[unneeded, "value_num"] = float("nan")
    recent = sodium["specimen_time"] >= lookback
    seen = pd.DataFrame(
        {"result_key": keys[recent], "specimen_time": sodium.loc[recent, "specimen_time"]}
    )
    return out, seen
