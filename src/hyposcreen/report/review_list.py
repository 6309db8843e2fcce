"""Spec §10: the review list — one row per listed case with its evidence and considerations
(the evidence rows themselves: report/evidence.py), typed for Parquet and as text for CSV."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from hyposcreen.arrow_columns import holds_arrow_text, text_on_every_row
from hyposcreen.report.case_texts import (
    case_evidence,
    overcorrection_objects,
)
from hyposcreen.report.case_texts import (  # noqa: F401 - also read from here
    correction_texts as _correction_texts,
)
from hyposcreen.report.case_texts import (  # noqa: F401 - also read from here
    overcorrection_text as _overcorrection_text,
)
from hyposcreen.report.considerations import consideration_objects
from hyposcreen.report.evidence import (  # noqa: F401 - evidence_table & co. are also read from here
    EVIDENCE_COLUMNS,
    _end_text,
    _lab_value_text,
    evidence_table,
    iso,
    one_decimal,
)
from hyposcreen.report.evidence_arrays import STR, str_array
from hyposcreen.report.html_text import looked_up
from hyposcreen.report.numbers import round_one_decimal_array
from hyposcreen.report.patient_identifiers import shown_identifiers
from hyposcreen.report.review_text import (  # noqa: F401 - NUMBERS_AS_TEXT, to_text read from here
    NUMBERS_AS_TEXT,
    TIME_OFFSETS,
    held_offsets,
    to_text,
)
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
# added after the identifier columns so every earlier column keeps its position:
# possibly_spurious ("index" | "overcorrection_pair" | both | ""), then index_censored (the index
# sodium's censoring sign as reported, "<", "<=", ">", ">=", or "": `<120` is banded and printed
# as 120.0, spec §3 "used, marked"), and last time_zone (the site's IANA zone, e.g.
# "Europe/Berlin", on every row: the zone of the list's site-local times, spec §11), as in every
# CSV the run writes
LATE_COLUMNS = ["possibly_spurious", "index_censored", "time_zone"]
TIER_NAMES = {1: "urgent", 2: "soon", 3: "routine"}
DISCLAIMER = (
    "This list supports clinical review of laboratory results. It is not an order set and does "
    "not replace clinical judgement."
)


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
    timezone: str = "UTC",
) -> pd.DataFrame:
    """The review list as typed columns (parquet); `to_text` renders it for CSV. `evidence`:
    `evidence_table(result)` when the caller has it already; `timezone`: the site's, in which
    the list's times are wall times (named in the `time_zone` column)."""
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
    oc = overcorrection_objects(cases, rules.windows.overcorrection_window_hours)
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
        "evidence": str_array(case_evidence(cases["patient_id"], evidence, oc)),
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
        columns["index_censored"] = _text_or_blank(cases, "index_censored")
        columns["time_zone"] = _every(len(cases), timezone)
        return _with_offsets(pd.DataFrame(columns), cases)
    review = pd.DataFrame(columns)
    assert patients is not None
    _add_identifiers(review, patients)
    review["possibly_spurious"] = _text_or_blank(cases, "possibly_spurious").to_numpy()
    review["index_censored"] = _text_or_blank(cases, "index_censored").to_numpy()
    review["time_zone"] = _every(len(cases), timezone)
    return _with_offsets(review, cases)


def _with_offsets(review: pd.DataFrame, cases: pd.DataFrame) -> pd.DataFrame:
    """The list with the offsets of its case times in an hour the clocks repeat in its attrs
    (review_text.TIME_OFFSETS: the CSV, page and workbook show them; Parquet's typed times
    cannot)."""
    held = held_offsets(cases, ("index_time", "nadir_time"))
    if held:
        review.attrs[TIME_OFFSETS] = held
    return review


def _add_identifiers(review: pd.DataFrame, patients: pd.DataFrame) -> None:
    """mrn, name and unit (or ward) of each case from the patients table ('' for none); a
    patient with several rows is shown one of them by a rule (report.patient_identifiers)."""
    shown = shown_identifiers(patients)
    for column in IDENTIFIER_COLUMNS:
        values = review["patient_id"].map(shown[column])
        review[column] = values.astype("str").where(values.notna(), "")


_SODIUM = ["index_sodium", "corrected_sodium", "latest_sodium", "delta_48h"]  # one decimal


def _every(count: int, value: Any) -> Any:
    """A text or a naive time on every row, as the DataFrame would spread it (else `value`)."""
    if isinstance(value, str):
        return text_on_every_row(count, value)
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
