"""The clean stage's parts that windows cut from one read decide once.

A backfill, a catch-up of missed nights and `hyposcreen audit` screen many windows of one read
(recipe_read). What cleaning decides without the window is decided once per read and kept in
memory with it (`SharedRead.decided`), for the same rules and site words: the labs cleaned
over the whole read and cut per window (`window_labs`), the medications' and diagnoses'
window-free buckets, drug matches and coverage (`window_free_events`), and the quarantine file
rows of all three (recipe_quarantine). A window's events are counted for the reconciliation
from the codes their buckets are made from (`held_sizes`). A window alone (no shared read)
decides all of it for itself. Either way the window's cleaned tables, quarantine rows and
counts are the same (tests/test_shared_read.py, tests/test_window_reuse.py).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from hyposcreen.clean import clean_labs
from hyposcreen.clean.buckets import HeldSizes
from hyposcreen.clean.events import (
    EventFacts,
    diagnosis_facts,
    medication_facts,
    used_matches,
    window_buckets,
)
from hyposcreen.config import Window
from hyposcreen.context import ReadTables, RunContext, SharedRead
from hyposcreen.recipe_read import check_in_range, cut_rows, rows_kept
from hyposcreen.report.coverage import code_like_names, event_counts, unknown_drug_names
from hyposcreen.site_words import SiteWords


def window_labs(ctx: RunContext, read: ReadTables | None, words: SiteWords) -> pd.DataFrame:
    """The window's cleaned labs (`window_labs_cut`)."""
    return window_labs_cut(ctx, read, words)[0]


def window_labs_cut(
    ctx: RunContext, read: ReadTables | None, words: SiteWords
) -> tuple[pd.DataFrame, np.ndarray | None]:
    """The window's cleaned labs, and where it is cut from a shared read, the rows of the
    read's cleaned labs it holds (else None). Windows cut from one read clean the read's labs
    once and cut the cleaned rows as their read was cut (recipe_read.cut_rows): every row is
    judged on its own, its distinct texts once, and exact duplicates share their time, so a
    group lies wholly inside or outside a window. Cleaning keeps the read's columns as they
    are and adds its own after them, so only those are cut again: the read's columns are the
    window's read (`read`, cut from the same rows). Else this window's labs are cleaned."""
    shared = ctx.shared_read
    if shared is None:
        assert read is not None
        return clean_labs(read.tables["labs"].frame, ctx.rules, words.decimal), None
    known = shared.decided.get("labs")
    if known is None or known[0] != words.decimal or known[1] != ctx.rules:
        raw = shared.tables["labs"].frame
        union = clean_labs(raw, ctx.rules, words.decimal)
        added = _added(raw, union)
        columns = union[added] if added is not None else None  # taken once for all windows
        known = shared.decided["labs"] = (words.decimal, ctx.rules, union, added, columns)
    column, start, end = check_in_range(shared.lab_range, ctx)
    cleaned: pd.DataFrame = known[2]
    keep = cut_rows(shared, cleaned, column, start, end)
    added_columns = known[4]
    window_read = read.tables["labs"].frame if read is not None else None
    if (
        added_columns is None
        or window_read is None
        or not _cut_alike(window_read, cleaned, keep, column)
    ):
        return rows_kept(cleaned, keep), keep
    return pd.concat([window_read, rows_kept(added_columns, keep)], axis=1), keep


def _added(raw: pd.DataFrame, cleaned: pd.DataFrame) -> list[str] | None:
    """The columns cleaning added after the read's columns, when it kept every read column
    as it was (same values, same type, in the same order); else None."""
    columns = list(raw.columns)
    if list(cleaned.columns[: len(columns)]) != columns:
        return None
    for name in columns:
        if cleaned[name].dtype != raw[name].dtype or not cleaned[name].equals(raw[name]):
            return None
    return list(cleaned.columns[len(columns) :])


def _cut_alike(
    window_read: pd.DataFrame, cleaned: pd.DataFrame, keep: np.ndarray, column: str
) -> bool:
    """Whether the window's read holds the rows `keep` cuts from the cleaned read (their
    number and times: both are cut from the shared read by the same range)."""
    if len(window_read) != int(keep.sum()) or not isinstance(window_read.index, pd.RangeIndex):
        return False
    times = window_read[column].to_numpy()
    return bool(np.array_equal(times, cleaned[column].to_numpy()[keep], equal_nan=True))


@dataclass(frozen=True)
class WindowFreeEvents:
    """The cleaning of medications and diagnoses that no window changes (clean.events), with
    their coverage parts and drug-name counts (unlisted rows never depend on the window)."""

    medications: EventFacts
    diagnoses: EventFacts
    coverage: list[Any]
    unknown_drugs: Any
    named_drugs: int
    code_like_drugs: int = 0  # unknown drug names of digits alone (code_like_names)


@dataclass(frozen=True)
class WindowEvents:
    """The window's cleaned medications (with the drug-class matches of its used rows) and
    diagnoses, their (bucket, reason) sizes, and the window-free cleaning they come from."""

    medications: pd.DataFrame
    drug_matches: pd.DataFrame
    diagnoses: pd.DataFrame
    window_free: WindowFreeEvents
    sizes: dict[str, HeldSizes]


def window_events(ctx: RunContext, read: ReadTables, words: SiteWords) -> WindowEvents:
    """The context's window's medications and diagnoses with their buckets, from
    `window_free_events`. A window cleaned on its own (or the first of a shared read) counts
    coverage on its own window's buckets: those frames are the window's, not built twice."""
    shared = ctx.shared_read
    if shared is not None:  # every window loads its rules: equal rules, not the same object
        known = shared.decided.get("events")
        if known is not None and known[0] == words and known[1] == ctx.rules:
            found = _in_window(known[2], ctx.settings.window)
            _hold(shared, ctx.settings.window, found.sizes)
            return found
    tables = read.tables
    medications = medication_facts(tables["medications"].frame, ctx.rules)
    diagnoses = diagnosis_facts(tables["diagnoses"].frame, ctx.rules)
    # any window's buckets give the same unlisted drugs, code systems and status words
    first = _in_window(WindowFreeEvents(medications, diagnoses, [], None, 0), ctx.settings.window)
    meds = first.medications
    unknown = unknown_drug_names(meds, words)
    coverage = event_counts(meds, first.diagnoses, words, unknown)
    named = int(meds["drug_name"].notna().sum())
    events = WindowFreeEvents(
        medications, diagnoses, coverage, unknown, named, code_like_names(unknown)
    )
    if shared is not None:
        shared.decided["events"] = (words, ctx.rules, events)
        _hold(shared, ctx.settings.window, first.sizes)
    return dataclasses.replace(first, window_free=events)


def _in_window(events: WindowFreeEvents, window: Window) -> WindowEvents:
    meds, code, med_sizes = window_buckets(events.medications, window)
    diagnoses, _, diagnosis_sizes = window_buckets(events.diagnoses, window)
    matches = used_matches(events.medications, code)
    sizes = {"medications": med_sizes, "diagnoses": diagnosis_sizes}
    return WindowEvents(meds, matches, diagnoses, events, sizes)


def held_sizes(ctx: RunContext) -> dict[str, HeldSizes]:
    """The (bucket, reason) sizes of the medications and diagnoses the context's window was
    last cleaned into, for the reconciliation (CleanedInputs.reconciled: used only while the
    cleaned frames hold the columns they were found of). Kept with a shared read: windows
    cut from one read count their events from codes, not by factorizing every night."""
    shared = ctx.shared_read
    kept: dict[Window, dict[str, HeldSizes]] = (
        shared.decided.get(_HELD, {}) if shared is not None else {}
    )
    return kept.get(ctx.settings.window, {})


def _hold(shared: SharedRead, window: Window, sizes: dict[str, HeldSizes]) -> None:
    """Keep a cleaned window's sizes for its publish (a window read ahead is cleaned before
    the window before it publishes); only the last few windows' are kept."""
    kept: dict[Window, dict[str, HeldSizes]] = shared.decided.setdefault(_HELD, {})
    kept.pop(window, None)
    kept[window] = sizes
    while len(kept) > _WINDOWS_HELD:
        del kept[next(iter(kept))]


_HELD = "held_sizes"  # SharedRead.decided: the last cleaned windows' HeldSizes by table
_WINDOWS_HELD = 3  # a window and the two read ahead (runners/window_loop.ReadAhead)


def window_free_events(ctx: RunContext, read: ReadTables, words: SiteWords) -> WindowFreeEvents:
    """The window-free cleaning of the medications and diagnoses: decided once for all the
    windows cut from one read (kept in memory with that read, for the same rules and site
    words), else for this window."""
    return window_events(ctx, read, words).window_free
