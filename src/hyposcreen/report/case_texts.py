"""Spec §10: the texts of the review list made of several of a case's columns: its
over-rapid correction ('125.0 at <time> -> 133.5 at <time> (+8.5 mmol/L; limit 8 per 24 h)')
and its evidence joined ('factor: text | factor: text | over-rapid correction: ...'); from the
columns' arrays (report/review_list.py puts them in the list)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hyposcreen.ingest.clock_folds import time_offsets
from hyposcreen.report.evidence import iso, one_decimal
from hyposcreen.report.evidence_arrays import iso_texts
from hyposcreen.report.html_text import choose, join_runs, per_distinct, run_starts
from hyposcreen.report.numbers import general_array, general_text, one_decimal_array


def overcorrection_text(cases: pd.DataFrame, hours: float = 24.0) -> pd.Series:
    """'125.0 at <time> -> 133.5 at <time> (+8.5 mmol/L; limit 8 per 24 h)' of an over-rapid
    correction, '' for a case without one (the text of none is made on a night without).
    `hours`: the rules' over-correction window (windows.overcorrection_window_hours)."""
    return pd.Series(overcorrection_objects(cases, hours), index=cases.index, dtype="str")


def overcorrection_objects(cases: pd.DataFrame, hours: float = 24.0) -> np.ndarray:
    corrected = cases["overcorrection"].to_numpy(dtype=bool)
    shown = np.full(len(cases), "", dtype=object)  # each text is its own row's: only theirs
    if corrected.any():
        shown[corrected] = _correction_objects(cases, np.flatnonzero(corrected), hours)
    return shown


def _correction_objects(cases: pd.DataFrame, rows: np.ndarray, hours: float) -> np.ndarray:
    """`correction_texts` of the cases at `rows`, made from their columns' arrays."""
    count = len(rows)
    columns = ["oc_from_sodium", "oc_to_sodium", "oc_rise"]  # rounded at once
    numbers = [cases[c].to_numpy(dtype="float64", na_value=np.nan)[rows] for c in columns]
    from_sodium, to_sodium, rise = np.split(one_decimal_array(np.concatenate(numbers)), 3)
    names = ("oc_from_time", "oc_to_time")
    times = [cases[c] for c in names]
    offsets = [_offsets_at(cases, c, rows) for c in names]  # in a repeated hour (clock_folds)
    kinds = {t.dtype for t in times}
    if len(kinds) == 1 and all(isinstance(k, np.dtype) and k.kind == "M" for k in kinds):
        both = None
        if any(o is not None for o in offsets):
            both = np.concatenate([np.full(count, None) if o is None else o for o in offsets])
        stamps = iso_texts(np.concatenate([t.to_numpy()[rows] for t in times]), both)
        from_time, to_time = stamps[:count], stamps[count:]
    else:
        from_time, to_time = (
            iso(t.iloc[rows], o).to_numpy(dtype=object) for t, o in zip(times, offsets, strict=True)
        )
    limit = cases["limit"]
    limits = (
        general_array(limit.to_numpy()[rows])
        if limit.dtype == np.float64
        else general_text(limit.iloc[rows]).to_numpy(dtype=object)
    )
    return (
        from_sodium
        + " at "
        + from_time
        + " -> "
        + to_sodium
        + " at "
        + to_time
        + " (+"
        + rise
        + " mmol/L; limit "
        + limits
        + f" per {hours:g} h)"
    )


def _offsets_at(cases: pd.DataFrame, column: str, rows: np.ndarray) -> np.ndarray | None:
    offsets = time_offsets(cases, column)
    return None if offsets is None else offsets[rows]


def correction_texts(cases: pd.DataFrame, hours: float = 24.0) -> pd.Series:
    return (
        one_decimal(cases["oc_from_sodium"])
        + " at "
        + iso(cases["oc_from_time"], time_offsets(cases, "oc_from_time"))
        + " -> "
        + one_decimal(cases["oc_to_sodium"])
        + " at "
        + iso(cases["oc_to_time"], time_offsets(cases, "oc_to_time"))
        + " (+"
        + one_decimal(cases["oc_rise"])
        + " mmol/L; limit "
        + general_text(cases["limit"])
        + f" per {hours:g} h)"
    )


def evidence_per_patient(evidence: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(patients, 'factor: text | factor: text' of each) in the evidence table's order."""
    if evidence.empty:
        return np.array([], dtype=object), np.array([], dtype=object)
    patient = evidence["patient_id"].to_numpy(dtype=object)
    if pd.isna(patient).any() or not (patient[1:] >= patient[:-1]).all():
        rows = evidence.sort_values("patient_id", kind="stable")
        pieces = (rows["risk_factor"] + ": " + rows["text"]).to_numpy(dtype=object)
        patient = rows["patient_id"].to_numpy()
    else:  # the evidence table comes sorted by patient: its rows as they are
        factor, text = (evidence[c].to_numpy(dtype=object) for c in ("risk_factor", "text"))
        pieces = factor + ": " + text
    starts = run_starts(patient)
    return patient[starts], join_runs(choose(starts, "", " | ") + pieces, starts)


def case_evidence(patients: pd.Series, evidence: pd.DataFrame, oc: np.ndarray) -> np.ndarray:
    """Each case's evidence ('' without any), its over-rapid correction after it."""
    listed, joined = evidence_per_patient(evidence)
    if patients.hasnans or pd.isna(listed).any():
        per_patient = pd.Series(joined, index=listed, dtype=object)
        shown = patients.map(per_patient).fillna("").to_numpy(dtype=object)
    else:  # each case's patient found among the distinct ones (sorted runs) with evidence
        found = pd.Index(listed, dtype=object).get_indexer(patients.to_numpy(dtype=object))
        shown = np.append(joined, "")[found]
    corrected = np.flatnonzero(oc != "")
    if len(corrected):
        joined = shown[corrected] + " | over-rapid correction: " + oc[corrected]
        stripped = per_distinct(joined, lambda text: text.lstrip(" |"))
        shown[corrected] = pd.Series(joined).str.lstrip(" |") if stripped is None else stripped
    return shown
