"""Spec §4-9 for many windows of one read at once, each window's result that of its lone screen.

A backfill or catch-up screens night after night of one read; each night's screen costs its
queries' fixed cost more than their rows. Here every window's screen runs in one pass: each
window's patients are screened as patients of their own, their ids prefixed with the window's
number (fixed width, `window_prefix`). Every query of the screen partitions, joins or groups by
patient, so the windows never meet; rows of one window share their prefix, so each window's
rows come out in the order the window alone gives them. A window holds its own rows only: its
sodium results (corrected with its own glucose pairs), and for its cases' patients its used
labs, medications and diagnoses; an over-rapid correction is sought in the case's own window.

The windows' results are then cut apart and the prefix taken off. Where a window alone takes
a shortcut (no cases; no drug match, diagnosis or co-factor: an evidence table without
types) the cut gives what that shortcut gives; a window without cases is not screened here
(None: the caller screens it alone).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hyposcreen.arrow_columns import is_listed
from hyposcreen.config import Window
from hyposcreen.ingest.timeparse import instant_of
from hyposcreen.rules.loader import Profile, RuleSet
from hyposcreen.screen import cofactors, conditions, exposure
from hyposcreen.screen.cases import (
    LAB_COLUMNS,
    ScreenResult,
    _with_instants,
    _with_wall_times,
    case_steps,
    order_cases,
    sodium_results,
)
from hyposcreen.screen.engine import ArrowFrame, Tables
from hyposcreen.screen.finding import find_cases
from hyposcreen.screen.listing import ORDER_ASCENDING, ORDER_KEYS
from hyposcreen.screen.serial import spurious_of_some
from hyposcreen.screen.sodium import KnownPairs, correct_for_glucose
from hyposcreen.screen.window_ids import (
    cut_by_window,
    window_numbers,
    window_prefix,
    window_runs,
    with_prefix,
    without_prefix,
)


@dataclass(frozen=True)
class WindowCut:
    """What one window's screen reads, cut from the tables its windows share: the window (site-
    local wall time), its sodium results (positions among the shared sodium rows, in order),
    their glucose pairs and delta-check flags (`sodium.KnownPairs`, rows numbered in the
    window, none unsettled), and boolean masks of its rows among the shared used labs and its
    used medications and diagnoses."""

    window: Window
    sodium: np.ndarray
    pairs: KnownPairs  # with `spurious` known, `changed` the results to check again
    labs: np.ndarray
    medications: np.ndarray
    diagnoses: np.ndarray


def screen_windows(
    sodium: pd.DataFrame,
    lab_rows: ArrowFrame,
    medications: pd.DataFrame,
    drug_matches: pd.DataFrame,
    diagnoses: pd.DataFrame,
    cuts: Sequence[WindowCut],
    rules: RuleSet,
    profile: Profile,
    glucose_factor: float | None = None,
    timezone: str = "UTC",
) -> list[ScreenResult | None]:
    """Each window's `cases.screen` (None for a window without cases), all in one pass.
    `sodium`: sodium result rows (LAB_COLUMNS); `lab_rows`: the used labs as the screen
    registers them (`cases.registered_labs`, without `row`); `medications`, `diagnoses`: every
    row (`drug_matches` refers to medications by index label); `cuts`: the windows."""
    count = len(cuts)
    prefixes = np.array([window_prefix(n, count) for n in range(count)], dtype=object)
    sizes = [len(cut.sodium) for cut in cuts]
    offsets = np.r_[0, np.cumsum(sizes)]
    number = np.repeat(np.arange(count), sizes)
    instants = [
        Window(instant_of(c.window.start, timezone), instant_of(c.window.end, timezone))
        for c in cuts
    ]
    rows = sodium.iloc[np.concatenate([c.sodium for c in cuts])]
    rows = _with_instants(rows[[c for c in LAB_COLUMNS if c in rows]], ("specimen_time",), timezone)
    pairs = [
        c.pairs.pairs.assign(row=c.pairs.pairs["row"] + offsets[n]) for n, c in enumerate(cuts)
    ]
    known = KnownPairs(pd.concat(pairs, ignore_index=True), np.array([], dtype=np.int64))
    flags = np.concatenate([_spurious(c.pairs) for c in cuts])
    again = np.zeros(len(flags), dtype=bool)
    again[np.concatenate([_changed(c.pairs) + offsets[n] for n, c in enumerate(cuts)])] = True
    with Tables() as db:
        corrected = correct_for_glucose(rows, None, rules, glucose_factor, db, known)
        time = corrected["specimen_time"].to_numpy()
        starts = np.array([w.start.to_datetime64() for w in instants])[number]
        ends = np.array([w.end.to_datetime64() for w in instants])[number]
        results = sodium_results(corrected, profile, (time >= starts) & (time < ends))
        own = results.assign(patient_id=with_prefix(results["patient_id"], prefixes, number))
        db.register("results", _of_case_patients(own))
        # each patient's flags as its window's known ones, but where checked again
        results["possibly_spurious"] = spurious_of_some(own, rules, flags, again).to_numpy()
        own = own.assign(possibly_spurious=results["possibly_spurious"])
        cases = find_cases(db=db)
        if cases.empty:
            return [None] * count
        db.keep_patients(("results",), cases["patient_id"])
        of_case = window_numbers(cases["patient_id"], count)
        unprefixed = without_prefix(cases["patient_id"], count)
        patients = [unprefixed.iloc[a:b] for a, b in window_runs(of_case, count)]
        db.register("labs", _case_labs(lab_rows, [c.labs for c in cuts], patients, prefixes))
        meds, _ = _case_events(medications, [c.medications for c in cuts], patients, prefixes)
        diags, diag_rows = _case_events(diagnoses, [c.diagnoses for c in cuts], patients, prefixes)
        meds = _with_instants(meds, ("start_time", "end_time"), timezone)
        diags = _with_instants(diags, ("recorded_time",), timezone)
        found = case_steps(
            db, cases, own, meds, diags, drug_matches, rules, instants[0], (instants, of_case)
        )
    matched = medications.index.isin(drug_matches["row"])
    evidence = {
        "cases": cut_by_window(_ordered_by_window(found.cases, count), count),
        "meds": cut_by_window(found.medication_evidence, count),
        "conditions": cut_by_window(found.condition_evidence, count),
        "cofactors": cut_by_window(found.cofactor_evidence, count),
    }
    screens: list[ScreenResult | None] = []
    for n, cut in enumerate(cuts):
        if not len(patients[n]):
            screens.append(None)
            continue
        window_results = results.iloc[offsets[n] : offsets[n + 1]].reset_index(drop=True)
        meds_of = evidence["meds"][n]
        if not (matched & cut.medications).any():
            meds_of = pd.DataFrame(columns=exposure.EVIDENCE_COLUMNS)
        conditions_of = evidence["conditions"][n]
        if not diag_rows[n]:
            conditions_of = pd.DataFrame(columns=conditions.EVIDENCE_COLUMNS)
        cofactors_of = evidence["cofactors"][n]
        if cofactors_of.empty:
            cofactors_of = pd.DataFrame(columns=cofactors.EVIDENCE_COLUMNS)
        screen = ScreenResult(
            evidence["cases"][n], window_results, meds_of, conditions_of,
            cofactors_of, [],
        )  # fmt: skip
        screens.append(_with_wall_times(screen, timezone))
    return screens


def _of_case_patients(results: pd.DataFrame) -> pd.DataFrame:
    """The results (numbered in `row` among all) of the patients with a hyponatremic result in
    their window: all the case query and the case steps read of them (`find_cases` finds a
    case for each such patient, the steps keep the cases' patients), so the other patients'
    rows are never registered."""
    low = results["in_window"].to_numpy(dtype=bool) & results["hyponatremic"].to_numpy(
        dtype=bool, na_value=False
    )
    kept = np.flatnonzero(is_listed(results["patient_id"], results["patient_id"][low]))
    return results.iloc[kept].assign(row=kept)


def _spurious(pairs: KnownPairs) -> np.ndarray:
    assert pairs.spurious is not None and not len(pairs.unsettled)
    return np.asarray(pairs.spurious, dtype=bool)


def _changed(pairs: KnownPairs) -> np.ndarray:
    return np.asarray(pairs.changed if pairs.changed is not None else [], dtype=np.int64)


def _ordered_by_window(cases: pd.DataFrame, windows: int) -> pd.DataFrame:
    """Each window's cases in `listing.order_cases`' order, ranked as it ranks them, the
    windows in turn: one stable sort by window and then its keys (within a window the rows
    keep the order they had, and its patients share their prefix), the ranks counted per
    window."""
    if cases.empty:
        return order_cases(cases)
    keys = cases.reset_index(drop=True)
    keys = keys.assign(window_number=window_numbers(keys["patient_id"], windows))
    by = ["window_number", *ORDER_KEYS]
    positions = keys.sort_values(
        by, ascending=[True, *ORDER_ASCENDING], kind="stable"
    ).index.to_numpy()
    ordered = cases.take(positions).reset_index(drop=True)
    listed = ordered["listed"].to_numpy(dtype=bool)
    counted = np.cumsum(listed)
    numbers = keys["window_number"].to_numpy()[positions]
    starts = np.flatnonzero(np.r_[True, numbers[1:] != numbers[:-1]])
    before = np.repeat(counted[starts] - listed[starts], np.diff(np.r_[starts, len(numbers)]))
    ordered["rank"] = pd.array(np.where(listed, counted - before, 0), dtype="int64")
    return ordered


def _case_labs(
    lab_rows: ArrowFrame, masks: list[np.ndarray], patients: list[pd.Series], prefixes: np.ndarray
) -> ArrowFrame:
    """The used labs of each window's case patients, their ids prefixed, numbered in `row`."""
    table = lab_rows.table
    encoded = pc.dictionary_encode(table.column("patient_id")).combine_chunks()
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    dictionary = encoded.dictionary
    every, edges = _all_patients(patients)
    found = pc.index_in(pa.array(every, dictionary.type), dictionary)
    found = found.fill_null(-1).to_numpy(zero_copy_only=False)
    taken, numbers = [], []
    for n, mask in enumerate(masks):
        wanted = found[edges[n] : edges[n + 1]]
        wanted = wanted[wanted >= 0]
        if not len(wanted):
            continue
        kept = _rows_of(mask, codes, wanted, len(dictionary))
        taken.append(kept)
        numbers.append(np.full(len(kept), n))
    positions = np.concatenate(taken) if taken else np.array([], dtype=np.int64)
    cut = table.take(pa.array(positions, type=pa.int64()))
    column = cut.column("patient_id").combine_chunks()
    prefix = pa.array(prefixes[np.concatenate(numbers)] if numbers else [], type=column.type)
    index = cut.schema.get_field_index("patient_id")
    cut = cut.set_column(
        index, "patient_id", pc.binary_join_element_wise(prefix, column, pa.scalar("", column.type))
    )
    cut = cut.append_column("row", pa.array(np.arange(len(cut), dtype=np.int64)))
    return ArrowFrame(cut, lab_rows.dtypes)


def _case_events(
    events: pd.DataFrame, masks: list[np.ndarray], patients: list[pd.Series], prefixes: np.ndarray
) -> tuple[pd.DataFrame, list[int]]:
    """The used rows of each window's case patients (labels kept), ids prefixed; and the
    number of rows of each window."""
    codes, ids = pd.factorize(events["patient_id"])
    known = pd.Index(ids)
    every, edges = _all_patients(patients)
    found = known.get_indexer(every)
    taken, counts = [], []
    for n, mask in enumerate(masks):
        wanted = found[edges[n] : edges[n + 1]]
        kept = _rows_of(mask, codes, wanted[wanted >= 0], len(known))
        taken.append(kept)
        counts.append(len(kept))
    rows = events.iloc[np.concatenate(taken)]
    number = np.repeat(np.arange(len(masks)), counts)
    return rows.assign(patient_id=with_prefix(rows["patient_id"], prefixes, number)), counts


def _all_patients(patients: list[pd.Series]) -> tuple[np.ndarray, np.ndarray]:
    """Every window's case patients' ids in one object array, and where each window's start
    and end among them (window n: `edges[n]:edges[n + 1]`), so they are looked up at once."""
    every = pd.concat(patients, ignore_index=True) if patients else pd.Series([], dtype="str")
    return every.to_numpy(dtype=object), np.r_[0, np.cumsum([len(ids) for ids in patients])]


def _rows_of(mask: np.ndarray, codes: np.ndarray, wanted: np.ndarray, size: int) -> np.ndarray:
    """The positions where `mask` holds and the row's code (-1: none) is one of `wanted`
    (codes below `size`), in order."""
    rows = np.flatnonzero(mask)
    if codes.dtype.kind not in "iu":  # a code array with gaps: as np.isin finds them
        return rows[np.isin(codes[rows], wanted)]
    chosen = np.zeros(size + 1, dtype=bool)  # the last: a row without a code
    chosen[wanted] = True
    return rows[chosen[codes[rows]]]
