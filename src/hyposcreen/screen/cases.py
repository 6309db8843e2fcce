"""Spec §4-9, the screen of one window: its steps in order, over tables registered once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from hyposcreen.arrow_columns import is_listed
from hyposcreen.config import Window
from hyposcreen.ingest.clock_folds import fold_column, offset_column, repeated_hour_offsets
from hyposcreen.ingest.timeparse import instant_of, is_utc, to_instants, to_wall_time
from hyposcreen.rules.loader import Profile, RuleSet
from hyposcreen.screen.cofactors import electrolyte_cofactors, lab_table
from hyposcreen.screen.conditions import case_conditions
from hyposcreen.screen.engine import ArrowFrame, Tables
from hyposcreen.screen.exposure import active_drug_classes
from hyposcreen.screen.finding import find_cases, missing_workup
from hyposcreen.screen.listing import assign_tiers, attach_risk, order_cases
from hyposcreen.screen.serial import (
    latest_and_delta,
    overcorrection_pairs,
    possibly_spurious,
    spurious_basis,
    spurious_of_some,
)
from hyposcreen.screen.sodium import KnownPairs, classify, correct_for_glucose

__all__ = [
    "DIAGNOSIS_COLUMNS",
    "LAB_COLUMNS",
    "MEDICATION_COLUMNS",
    "ScreenResult",
    "assign_tiers",
    "case_steps",
    "find_cases",
    "order_cases",
    "screen",
    "sodium_results",
]


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
    lab_rows: pd.DataFrame | ArrowFrame | None = None,
    known_pairs: KnownPairs | None = None,
    used_events: tuple[np.ndarray, np.ndarray] | None = None,
) -> ScreenResult:
    """Run spec §4-9 over cleaned tables (used rows only; labs in canonical units).

    Times come and go as naive site-local wall time in `timezone`; in between, every rule runs
    on UTC instants, so each interval is elapsed time also on the nights the clocks change
    (spec §11). `lab_rows`, when given, is `registered_labs(labs, timezone)` already (a
    caller that cut it from a table prepared once for many windows), and `known_pairs` the
    glucose pairs decided with it (`sodium.KnownPairs`); `labs` then needs only its sodium
    results (the rest are read from `lab_rows`). `used_events`, when given, marks the used
    rows of `medications` and `diagnoses`, which then hold every row: only the used rows of
    the cases' patients are taken (`drug_matches` refer to rows by their index label)."""
    labs = _with_instants(labs, ("specimen_time",), timezone)
    window = Window(instant_of(window.start, timezone), instant_of(window.end, timezone))
    if lab_rows is None:
        lab_rows = _lab_rows(labs)
    used_meds, used_diagnoses = used_events if used_events is not None else (None, None)

    def case_events(cases: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The used medications and diagnoses of the cases' patients, on UTC instants."""
        return (
            _of_cases(medications, used_meds, cases, ("start_time", "end_time"), timezone),
            _of_cases(diagnoses, used_diagnoses, cases, ("recorded_time",), timezone),
        )

    result = _screen_instants(
        labs, lab_rows, case_events, drug_matches, rules, profile, window, glucose_factor,
        known_pairs,
    )  # fmt: skip
    return _with_wall_times(result, timezone)


def _of_cases(
    events: pd.DataFrame,
    used: np.ndarray | None,
    cases: pd.DataFrame,
    times: tuple[str, ...],
    timezone: str,
) -> pd.DataFrame:
    """The (`used`) rows of the cases' patients, their `times` as UTC instants (labels kept)."""
    keep = is_listed(events["patient_id"], cases["patient_id"])
    if used is not None:
        keep = keep & used
    return _with_instants(events.loc[keep], times, timezone)


def registered_labs(labs: pd.DataFrame, timezone: str = "UTC") -> pd.DataFrame:
    """The used labs as the screen's queries read them (`cofactors.lab_table` of their
    LAB_COLUMNS on UTC instants), numbered from 0 in `row`; a row's values never depend on
    the other rows, so a cut of this table, numbered again, is that of the cut labs."""
    return _lab_rows(_with_instants(labs, ("specimen_time",), timezone))


def _lab_rows(labs: pd.DataFrame) -> pd.DataFrame:
    return lab_table(labs[[c for c in LAB_COLUMNS if c in labs.columns]])


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
    """`columns` of `frame` as UTC instants, each read with its `fold_column` (then dropped)."""
    folds = [fold_column(c) for c in columns if fold_column(c) in frame.columns]
    if is_utc(timezone):
        return frame.drop(columns=folds) if folds else frame
    converted = {
        c: to_instants(frame[c], timezone, frame.get(fold_column(c)))
        for c in columns
        if c in frame.columns
    }
    frame = frame.assign(**converted)  # copy-on-write: the other columns are not copied
    return frame.drop(columns=folds) if folds else frame


def _with_wall_times(result: ScreenResult, timezone: str) -> ScreenResult:
    """The outputs' times from UTC instants back to site-local wall time; a time whose wall
    time the clocks show twice keeps the offset of its instant in `offset_column` (the
    outputs show it with the zone it was in, not the first occurrence's)."""
    if is_utc(timezone):
        return result
    for name, columns in _OUTPUT_TIMES.items():
        frame = getattr(result, name)
        present = [c for c in columns if c in frame.columns]
        if present and not frame.empty:
            converted: dict[str, pd.Series | np.ndarray] = {}
            for column in present:
                offsets = repeated_hour_offsets(frame[column], timezone)
                if offsets is not None:
                    converted[offset_column(column)] = offsets
                converted[column] = to_wall_time(frame[column], timezone)
            setattr(result, name, frame.assign(**converted))
    return result


# the columns of the labs the screen reads (a caller may project to these before filtering)
# (with the hidden columns that mark a repeated hour's second occurrence, when present)
LAB_COLUMNS = (
    "patient_id", "specimen_id", "specimen_time", "analyte", "value_num", "censored",
    "reported_late", fold_column("specimen_time"),
)  # fmt: skip
MEDICATION_COLUMNS = (
    "patient_id", "drug_name", "rxnorm", "atc", "start_time", "end_time", "status_norm",
    fold_column("start_time"), fold_column("end_time"),
)  # fmt: skip
DIAGNOSIS_COLUMNS = (
    "patient_id", "condition", "code", "code_system_norm", "recorded_time",
    fold_column("recorded_time"),
)  # fmt: skip
# sodium_results: what the report reads of each sodium result (and the glucose paired with it)
RESULT_COLUMNS = [
    "patient_id", "specimen_id", "specimen_time", "value_num", "censored", "glucose_time",
    "glucose_mg_dl", "corrected_sodium", "hyponatremic", "hyperglycemia_related", "severity",
    "level", "in_window", "possibly_spurious",
]  # fmt: skip


def _screen_instants(
    labs: pd.DataFrame,
    lab_rows: pd.DataFrame | ArrowFrame,
    case_events: Callable[[pd.DataFrame], tuple[pd.DataFrame, pd.DataFrame]],
    drug_matches: pd.DataFrame,
    rules: RuleSet,
    profile: Profile,
    window: Window,
    glucose_factor: float | None,
    known_pairs: KnownPairs | None = None,
) -> ScreenResult:
    """spec §4-9 on UTC instants; the usable labs and the sodium results are registered with
    the engine once and every step's query reads them there; `case_events(cases)` gives the
    medications and diagnoses of the cases' patients."""
    labs = labs[[c for c in LAB_COLUMNS if c in labs.columns]]  # no copy of the rows
    with Tables({"labs": lab_rows}) as db:
        sodium = labs.loc[labs["analyte"] == "sodium"]  # in order: as the registered labs'
        corrected = correct_for_glucose(sodium, None, rules, glucose_factor, db, known_pairs)
        time = corrected["specimen_time"]
        in_window = (time >= window.start) & (time < window.end)
        if "reported_late" in corrected:  # nightly runs: late results are index candidates too
            in_window |= corrected["reported_late"].fillna(False).astype(bool)
        results = sodium_results(corrected, profile, in_window)
        db.register("results", results.assign(row=np.arange(len(results))))  # no row copied
        if known_pairs is not None and known_pairs.spurious is not None:
            again = np.zeros(len(results), dtype=bool)
            again[known_pairs.unsettled] = True
            if known_pairs.changed is not None:
                again[known_pairs.changed] = True
            flags = spurious_of_some(results, rules, known_pairs.spurious, again)
        else:
            flags = possibly_spurious(results, rules, db)
        results["possibly_spurious"] = flags
        cases = find_cases(db=db)
        db.keep_patients(("labs", "results"), cases["patient_id"])  # the case steps' rows
        medications, diagnoses = case_events(cases)
        found = case_steps(db, cases, results, medications, diagnoses, drug_matches, rules, window)
    found.cases = order_cases(found.cases)
    return found


def sodium_results(
    corrected: pd.DataFrame, profile: Profile, in_window: pd.Series | np.ndarray
) -> pd.DataFrame:
    """The corrected sodium results classified (`sodium.classify`), `in_window` marked, in
    RESULT_COLUMNS."""
    results = classify(corrected, profile)
    results["in_window"] = in_window
    return results[[c for c in RESULT_COLUMNS if c in results.columns]]


def case_steps(
    db: Tables,
    cases: pd.DataFrame,
    results: pd.DataFrame,
    medications: pd.DataFrame,
    diagnoses: pd.DataFrame,
    drug_matches: pd.DataFrame,
    rules: RuleSet,
    window: Window,
    windows: tuple[list[Window], np.ndarray] | None = None,
) -> ScreenResult:
    """The steps of the `cases` (found on `db`'s `results`, which `results` holds with their
    `possibly_spurious` flags) over their patients' medications and diagnoses: the cases with their
    tiers, not yet ordered, and the evidence (the attrition empty). With `windows` (several
    screened at once: each window and the window number of each case) a case's
    over-correction is sought in its own window."""
    # the medications and diagnoses are the cases' patients' only (no second filter)
    meds = active_drug_classes(cases, medications, drug_matches, rules, db, of_cases=True)
    conditions = case_conditions(cases, diagnoses, rules, db, of_cases=True)
    cofactors = electrolyte_cofactors(cases, None, rules, db)
    workup = missing_workup(db, cases, rules).to_numpy()  # in the cases' order, kept below
    cases = latest_and_delta(db, cases, rules)
    cases = attach_risk(cases, meds, conditions, cofactors, rules, db)
    oc = overcorrection_pairs(db, cases, window, rules, *(windows or ()))
    cases = cases.merge(oc, on="patient_id", how="left")
    cases["overcorrection"] = cases["oc_rise"].notna()
    cases["possibly_spurious"] = spurious_basis(cases, results).to_numpy()
    cases["missing_workup"] = workup
    return ScreenResult(
        cases=assign_tiers(cases, rules),
        sodium_results=results,
        medication_evidence=meds,
        condition_evidence=conditions,
        cofactor_evidence=cofactors,
        attrition=[],
    )
