"""The screen stage of a loop's windows of one read, screened all at once (screen.windows).

A backfill or a catch-up screens its windows night after night, each cut from one read
(recipe_read, recipe_clean). What a window's screen reads is foreseeable from that read: its
used labs are the read's used labs in its read range (recipe_screen.SharedLabs), its used
medications and diagnoses are the window-free cleaning's rows without a reason that start (are
recorded) before its end (clean.events). So the first window that gets here screens every
window of the loop in one pass (`screen.windows.screen_windows`) and each window takes its
own result, when its own cleaned inputs are those foreseen: the same used rows (a contract
warning quarantines a row: not the same), alike in every value the screen reads, no nightly
late-result marks, the same rules and settings (a long loop is screened 31 windows at a time,
which bounds the screens held). Otherwise (or for a window without cases) the
window screens itself, as it does alone (recipe.screen). Nightly history is applied after, per
night, in order (recipe.history).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from hyposcreen.clean import USED
from hyposcreen.clean.buckets import HeldSizes
from hyposcreen.clean.events import EventFacts
from hyposcreen.config import Window
from hyposcreen.context import CleanedInputs, RunContext
from hyposcreen.recipe_clean import held_sizes
from hyposcreen.recipe_read import check_in_range, cut_rows
from hyposcreen.recipe_screen import SharedLabs, alike, known_pairs, shared_labs
from hyposcreen.screen.cases import DIAGNOSIS_COLUMNS, MEDICATION_COLUMNS, ScreenResult
from hyposcreen.screen.windows import WindowCut, screen_windows

WINDOWS = "windows"  # SharedRead.decided: the loop's windows (runners.window_loop)
_SCREENS = "screens"
PASS = 31  # windows screened in one pass at most (their screens are held until taken)


@dataclass
class WindowScreens:
    """Every window's screen found at once, with what each was found from (`cuts`) and the
    inputs they rest on (`key`: compared by identity and equality)."""

    key: tuple[Any, ...]
    windows: list[Window]
    cuts: list[WindowCut | None]  # None once taken
    matches: list[int]  # per window, the drug matches of its used medications
    screens: list[ScreenResult | None]


def screened_window(
    ctx: RunContext, labs: pd.DataFrame, cleaned: CleanedInputs
) -> ScreenResult | None:
    """The context's window's screen as found with the loop's other windows, when its cleaned
    inputs (`labs`: the columns the screen reads and `bucket`) are those foreseen; else None."""
    shared = ctx.shared_read
    if shared is None or "reported_late" in labs.columns:
        return None
    windows = shared.decided.get(WINDOWS)
    events = shared.decided.get("events")
    window = ctx.settings.window
    if not windows or len(windows) < 2 or events is None or window not in windows:
        return None
    prepared = shared_labs(ctx)
    if prepared is None:
        return None
    key = (prepared, events[2], ctx.rules, ctx.profile)
    found: WindowScreens | None = shared.decided.get(_SCREENS)
    if found is None or not _same_key(found.key, key) or window not in found.windows:
        first = list(windows).index(window)  # this window and the next ones, at most PASS
        found = _screen_all(ctx, list(windows[first : first + PASS]), prepared, events[2], key)
        shared.decided[_SCREENS] = found
    number = found.windows.index(window)
    screen, cut = found.screens[number], found.cuts[number]
    if (
        screen is None
        or cut is None
        or not _as_foreseen(ctx, labs, cleaned, prepared, cut, found.matches[number])
    ):
        return None
    found.screens[number] = None  # taken: each night's result is its own (and memory freed)
    found.cuts[number] = None
    return screen


def _same_key(one: tuple[Any, ...], other: tuple[Any, ...]) -> bool:
    return one[0] is other[0] and one[1] is other[1] and one[2:] == other[2:]


def _screen_all(
    ctx: RunContext, windows: list[Window], prepared: SharedLabs, events: Any, key: tuple[Any, ...]
) -> WindowScreens:
    threshold = float(ctx.rules.glucose["threshold_mg_dl"])
    meds, diagnoses = events.medications, events.diagnoses
    med_rows = meds.frame[[c for c in MEDICATION_COLUMNS if c in meds.frame]]
    diag_rows = diagnoses.frame[[c for c in DIAGNOSIS_COLUMNS if c in diagnoses.frame]]
    matches = meds.matches
    cuts, counts = [], []
    for window in windows:
        chosen = _chosen(_for_window(ctx, window), prepared)
        pairs = known_pairs(prepared, chosen, threshold)
        used_meds, used_diagnoses = (_used_before(f, window) for f in (meds, diagnoses))
        cuts.append(
            WindowCut(
                window,
                np.flatnonzero(chosen[prepared.sodium]),
                pairs,
                chosen,
                used_meds,
                used_diagnoses,
            )
        )
        # the drug matches of its used medications (each match names its row's position)
        counts.append(int(np.append(used_meds, False)[meds.match_positions].sum()))
    screens = screen_windows(
        prepared.rows.iloc[prepared.sodium], prepared.table, med_rows, matches, diag_rows,
        cuts, ctx.rules, ctx.profile, ctx.settings.glucose_factor, prepared.timezone,
    )  # fmt: skip
    return WindowScreens(key, windows, list(cuts), counts, screens)


def _for_window(ctx: RunContext, window: Window) -> RunContext:
    return dataclasses.replace(ctx, settings=dataclasses.replace(ctx.settings, window=window))


def _chosen(ctx: RunContext, prepared: SharedLabs) -> np.ndarray:
    """The context's window's rows among the read's used labs (those in its read range)."""
    assert ctx.shared_read is not None
    column, start, end = check_in_range(ctx.shared_read.lab_range, ctx)
    keep = cut_rows(ctx.shared_read, prepared.cleaned, column, start, end)
    chosen: np.ndarray = keep[prepared.used]
    return chosen


def _used_before(facts: EventFacts, window: Window) -> np.ndarray:
    """The rows a window's cleaning leaves used: those without a reason that start (are
    recorded) before its end (found by EventFacts.rows_after)."""
    used = facts.unreasoned.copy()
    used[facts.rows_after(window.end)] = False
    return used


def _as_foreseen(
    ctx: RunContext,
    labs: pd.DataFrame,
    cleaned: CleanedInputs,
    prepared: SharedLabs,
    cut: WindowCut,
    matches: int,
) -> bool:
    """Whether the window's cleaned inputs are those its screen was found from."""
    used = (labs["bucket"] == USED).to_numpy(dtype=bool)
    assert ctx.shared_read is not None
    column, start, end = check_in_range(ctx.shared_read.lab_range, ctx)
    keep = cut_rows(ctx.shared_read, prepared.cleaned, column, start, end)
    if int(keep.sum()) != len(labs) or not np.array_equal(prepared.used[keep], used):
        return False
    if not np.array_equal(keep[prepared.used], cut.labs):
        return False
    if not alike(prepared.rows, cut.labs, labs, used):
        return False
    held = held_sizes(ctx)
    for name, frame, foreseen in (
        ("medications", cleaned.medications, cut.medications),
        ("diagnoses", cleaned.diagnoses, cut.diagnoses),
    ):
        if len(frame) != len(foreseen) or not np.array_equal(
            _used(frame, held.get(name)), foreseen
        ):
            return False
    return len(cleaned.drug_matches) == matches


def _used(frame: pd.DataFrame, held: HeldSizes | None) -> np.ndarray:
    """Where the frame's rows are used: from the codes cleaning made its buckets of, while it
    holds them (no contract warning quarantined a row since), else from its buckets."""
    used = held.used(frame) if held is not None else None
    if used is None:
        used = (frame["bucket"] == USED).to_numpy(dtype=bool)
    return used
