"""Spec §10: the review list — one row per listed case with its evidence and considerations
(the evidence rows themselves: report/evidence.py), typed for Parquet and as text for CSV."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from hyposcreen.arrow_columns import holds_arrow_text
from hyposcreen.report.considerations import consideration_objects
from hyposcreen.report.evidence import (  # noqa: F401 - evidence_table & co. are also read from here
    EVIDENCE_COLUMNS,
    _end_text,
    _lab_value_text,
    evidence_table,
    iso,
    one_decimal,
)
from hyposcreen.report.evidence_arrays import STR, iso_texts, str_array
from hyposcreen.report.html_text import choose, join_runs, looked_up, per_distinct, run_starts
from hyposcreen.report.numbers import (
    general_array,
    general_text,
    one_decimal_array,
    round_one_decimal_array,
)
from hyposcreen.report.review_text import NUMBERS_AS_TEXT, to_text  # noqa: F401 - read from here
from hyposcreen.rules.loader import RuleSet
from hyposcreen.screen.cases import ScreenResult

REVIEW_COLUMNS = [
    "rank",
    "tier",
    "patient_id",
    "index_time",
    "index_sodium",
    "corrected_sodium",
    "severity",
    "latest_sodium",
    "delta_48h",
    "overcorrection",
    "risk_factors",
    "correction_risk",
    "missing_workup",
    "evidence",
    "considerations",
    "profile",
    "rules_version",
    "run_id",
]
EXTRA_COLUMNS = [
    "tier_name",
    "n_low_results",
    "nadir_time",
    "trend",
    "overcorrection_pair",
    "cramp_documented",
    "index_glucose",
    "window_start",
    "window_end",
    "relisted_because",  # nightly runs with state: new | nadir_lower;tier_escalation;...
    "previously_listed",  # start of the window that last listed the case
    "last_reviewed",  # latest clinician review recorded with `hyposcreen reviewed`
]
IDENTIFIER_COLUMNS = ["mrn", "name", "unit"]
# added after the identifier columns so every earlier column keeps its position
LATE_COLUMNS = ["possibly_spurious"]  # "index" | "overcorrection_pair" | both | ""
TIER_NAMES = {1: "urgent", 2: "soon", 3: "routine"}
DISCLAIMER = (
    "This list supports clinical review of laboratory results. It is not an order set and does "
    "not replace clinical judgement."
)


def _overcorrection_text(cases: pd.DataFrame) -> pd.Series:
    """'125.0 at <time> -> 133.5 at <time> (+8.5 mmol/L; limit 8 per 24 h)' of an over-rapid
    correction, '' for a case without one (the text of none is made on a night without)."""
    return pd.Series(_overcorrection_objects(cases), index=cases.index, dtype="str")


def _overcorrection_objects(cases: pd.DataFrame) -> np.ndarray:
    corrected = cases["overcorrection"].to_numpy(dtype=bool)
    shown = np.full(len(cases), "", dtype=object)  # each text is its own row's: only theirs
    if corrected.any():
        shown[corrected] = _correction_objects(cases, np.flatnonzero(corrected))
    return shown


def _correction_objects(cases: pd.DataFrame, rows: np.ndarray) -> np.ndarray:
    """`_correction_texts` of the cases at `rows`, made from their columns' arrays."""
    count = len(rows)
    columns = ["oc_from_sodium", "oc_to_sodium", "oc_rise"]  # rounded at once
    numbers = [cases[c].to_numpy(dtype="float64", na_value=np.nan)[rows] for c in columns]
    from_sodium, to_sodium, rise = np.split(one_decimal_array(np.concatenate(numbers)), 3)
    times = [cases[c] for c in ("oc_from_time", "oc_to_time")]
    kinds = {t.dtype for t in times}
    if len(kinds) == 1 and all(isinstance(k, np.dtype) and k.kind == "M" for k in kinds):
        stamps = iso_texts(np.concatenate([t.to_numpy()[rows] for t in times]))
        from_time, to_time = stamps[:count], stamps[count:]
    else:
        from_time, to_time = (iso(t.iloc[rows]).to_numpy(dtype=object) for t in times)
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
        + " per 24 h)"
    )


def _correction_texts(cases: pd.DataFrame) -> pd.Series:
    return (
        one_decimal(cases["oc_from_sodium"])
        + " at "
        + iso(cases["oc_from_time"])
        + " -> "
        + one_decimal(cases["oc_to_sodium"])
        + " at "
        + iso(cases["oc_to_time"])
        + " (+"
        + one_decimal(cases["oc_rise"])
        + " mmol/L; limit "
        + general_text(cases["limit"])
        + " per 24 h)"
    )


def _evidence_per_patient(evidence: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
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


def _case_evidence(patients: pd.Series, evidence: pd.DataFrame, oc: np.ndarray) -> np.ndarray:
    """Each case's evidence ('' without any), its over-rapid correction after it."""
    listed, joined = _evidence_per_patient(evidence)
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


_DTYPES = {"str": STR, "int64": np.dtype("int64"), bool: np.dtype(bool)}


def _typed(cases: pd.DataFrame, column: str, dtype: str | type = "str") -> Any:
    """`cases[column].astype(dtype)` as an array the DataFrame takes as it is."""
    values = cases[column]
    return (values if values.dtype == _DTYPES[dtype] else values.astype(dtype)).array


def build_review_list(
    result: ScreenResult,
    rules: RuleSet,
    profile_name: str,
    run_id: str,
    window_start: pd.Timestamp,
    window_end: pd.Timestamp,
    patients: pd.DataFrame | None = None,
    allow_identifiers: bool = False,
    evidence: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The review list as typed columns (parquet); `to_text` renders it for CSV. `evidence`:
    `evidence_table(result)` when the caller has it already."""
    identified = allow_identifiers and patients is not None and not patients.empty
    listed = result.cases["listed"]
    if listed.dtype == bool:  # the listed cases' rows taken at once (no index to align)
        cases = result.cases.take(np.flatnonzero(listed.to_numpy())).reset_index(drop=True)
    else:
        cases = result.cases.loc[listed].reset_index(drop=True)
    if cases.empty:
        return _empty_review(identified)
    if evidence is None:
        evidence = evidence_table(result)
    oc = _overcorrection_objects(cases)
    sodium = round_one_decimal_array(
        np.column_stack([cases[c].to_numpy(dtype="float64", na_value=np.nan) for c in _SODIUM])
    )
    names = looked_up(cases["tier"].to_numpy(), TIER_NAMES)
    columns = {
        "rank": _typed(cases, "rank", "int64"),
        "tier": _typed(cases, "tier", "int64"),
        "patient_id": _typed(cases, "patient_id"),
        "index_time": cases["index_time"].array,
        "index_sodium": sodium[:, 0],
        "corrected_sodium": sodium[:, 1],
        "severity": _typed(cases, "severity"),
        "latest_sodium": sodium[:, 2],
        "delta_48h": sodium[:, 3],
        "overcorrection": _typed(cases, "overcorrection", bool),
        "risk_factors": _typed(cases, "risk_factors"),
        "correction_risk": _typed(cases, "correction_risk", bool),
        "missing_workup": _typed(cases, "missing_workup"),
        "evidence": str_array(_case_evidence(cases["patient_id"], evidence, oc)),
        "considerations": str_array(consideration_objects(cases, rules)),
        "profile": _every(len(cases), profile_name),
        "rules_version": _every(len(cases), rules.version),
        "run_id": _every(len(cases), run_id),
        "tier_name": cases["tier"].map(TIER_NAMES).astype("str").array
        if names is None
        else str_array(names),
        "n_low_results": _typed(cases, "n_low_results", "int64"),
        "nadir_time": cases["nadir_time"].array,
        "trend": _typed(cases, "trend"),
        "overcorrection_pair": str_array(oc),
        "cramp_documented": _typed(cases, "cramp_documented", bool),
        "index_glucose": cases["index_glucose"].astype("float64").array,
        "window_start": _every(len(cases), window_start),
        "window_end": _every(len(cases), window_end),
        "relisted_because": _text_or_blank(cases, "relisted_because"),
        "previously_listed": _time_or_blank(cases, "previously_listed"),
        "last_reviewed": _time_or_blank(cases, "last_reviewed"),
    }
    if not identified:
        columns["possibly_spurious"] = _text_or_blank(cases, "possibly_spurious")
        return pd.DataFrame(columns)
    review = pd.DataFrame(columns)
    assert patients is not None
    _add_identifiers(review, patients)
    review["possibly_spurious"] = _text_or_blank(cases, "possibly_spurious").to_numpy()
    return review


def _add_identifiers(review: pd.DataFrame, patients: pd.DataFrame) -> None:
    """mrn, name and unit (or ward) of each case from the patients table ('' for none)."""
    shown = patients.drop_duplicates("patient_id").set_index("patient_id")
    for column in IDENTIFIER_COLUMNS:
        source = column if column in shown else None
        if column == "unit" and source is None and "ward" in shown:
            source = "ward"
        values = review["patient_id"].map(shown[source]) if source else None
        review[column] = (
            values.astype("str").where(values.notna(), "") if values is not None else ""
        )


_SODIUM = ["index_sodium", "corrected_sodium", "latest_sodium", "delta_48h"]  # one decimal


def _every(count: int, value: Any) -> Any:
    """A text or a naive time on every row, as the DataFrame would spread it (else `value`)."""
    if isinstance(value, str):
        return str_array(np.full(count, value, dtype=object))
    if isinstance(value, pd.Timestamp) and value.tz is None:
        return np.full(count, value.to_datetime64())
    return value


def _text_or_blank(cases: pd.DataFrame, column: str) -> Any:
    """The column's text ('' for missing) as an array of `str`; '' for a column not there."""
    if column not in cases:
        return str_array(np.full(len(cases), "", dtype=object))
    values = cases[column]
    if not holds_arrow_text(values):
        return values.fillna("").astype("str").array
    text = values.to_numpy(dtype=object)
    text[pd.isna(text)] = ""
    return str_array(text)


def _time_or_blank(cases: pd.DataFrame, column: str) -> Any:
    """ISO text of a nightly-state time, '' when there is none (or no state)."""
    if column not in cases:
        return str_array(np.full(len(cases), "", dtype=object))
    values = cases[column]
    if not (isinstance(values.dtype, np.dtype) and values.dtype.kind == "M"):
        values = pd.to_datetime(values)
    return iso(values).fillna("").astype("str").array


def _empty_review(with_identifiers: bool) -> pd.DataFrame:
    """A list with no rows keeps its columns and types (a quiet night is a valid result)."""
    columns = (
        REVIEW_COLUMNS
        + EXTRA_COLUMNS
        + (IDENTIFIER_COLUMNS if with_identifiers else [])
        + LATE_COLUMNS
    )
    types = {
        "rank": "int64", "tier": "int64", "n_low_results": "int64",
        "index_sodium": "float64", "corrected_sodium": "float64", "latest_sodium": "float64",
        "delta_48h": "float64", "index_glucose": "float64",
        "overcorrection": "bool", "correction_risk": "bool", "cramp_documented": "bool",
        "index_time": "datetime64[us]", "nadir_time": "datetime64[us]",
        "window_start": "datetime64[us]", "window_end": "datetime64[us]",
    }  # fmt: skip
    return pd.DataFrame({c: pd.Series(dtype=types.get(c, "str")) for c in columns})
