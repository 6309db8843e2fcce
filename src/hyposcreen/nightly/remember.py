"""What the nightly state keeps of a published run: its listed cases, the results it saw and
the night's count of usable results (only once the outputs are in place)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from pathlib import Path

import pandas as pd

from hyposcreen.config import Window
from hyposcreen.night_counts import write_count
from hyposcreen.nightly.delivery_columns import write_columns
from hyposcreen.nightly.unchanged_inputs import published_here
from hyposcreen.rules.loader import RuleSet
from hyposcreen.screen.cases import ScreenResult
from hyposcreen.screen.incremental import grading_key
from hyposcreen.state import StateStore


def listed_cases(result: ScreenResult, grading: str) -> pd.DataFrame:
    """What the state remembers of each listed case: tier, nadir, the over-correction shown,
    and what graded it (screen.incremental.grading_key)."""
    cases = result.cases.loc[result.cases["listed"]]
    oc_to = (
        cases["oc_to_time"].dt.strftime("%Y-%m-%dT%H:%M:%S").fillna("")
        if "oc_to_time" in cases
        else ""
    )
    return pd.DataFrame(
        {
            "patient_id": cases["patient_id"],
            "tier": cases["tier"],
            "nadir": cases["corrected_sodium"],
            "overcorrection_to": oc_to,
            "grading": grading,
        }
    )


def remember_run(
    state: StateStore,
    site: str,
    window: Window,
    rules: RuleSet,
    run_id: str,
    folder: Path,
    result: ScreenResult,
    seen_results: pd.DataFrame | None,
    usable_results: int,
    graded_by: tuple[str, float | None],
    columns: Mapping[str, tuple[str, ...]] | None = None,
) -> None:
    """Advance the state past a published window (never before: a crash never advances it);
    `usable_results`: the night's usable sodium results (the volume-drop warning's history);
    `graded_by`: the severity profile and glucose factor that graded its cases, with `rules`;
    `columns`: each table read and the canonical columns its delivery had (empty: not known),
    which the next night's delivery is compared with (dropped_column_warnings)."""
    lookback = pd.Timedelta(hours=rules.windows.late_result_lookback_hours)
    also = [partial(write_count, site=site, window_start=window.start, usable=usable_results)]
    if columns is not None:
        also.append(partial(write_columns, site=site, window_start=window.start, columns=columns))
    state.record_run(  # one transaction: the night, its count and its columns, or none of them
        window,
        run_id,
        folder,
        listed_cases(result, grading_key(rules, *graded_by)),
        seen_results,
        keep_seen=2 * lookback,  # twice the late-result lookback: never one too few
        also=also,
    )
    published_here(folder)  # a later night of this run shares its delivery
