"""Spec §10: the review list — one row per listed case with its evidence and considerations
(the evidence rows themselves: report/evidence.py), typed for Parquet and as text for CSV."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hyposcreen.report.considerations import considerations
from hyposcreen.report.evidence import (  # noqa: F401 - evidence_table & co. are also read from here
    EVIDENCE_COLUMNS,
    _end_text,
    _lab_value_text,
    evidence_table,
    iso,
    one_decimal,
)
from hyposcreen.report.html_text import choose, join_runs, run_starts
from hyposcreen.report.numbers import general_text, round_one_decimal
from hyposcreen.report.safe_cells import NUMERIC_ATTR
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
    corrected = cases["overcorrection"].to_numpy(dtype=bool)
    if not corrected.any():
        return pd.Series("", index=cases.index, dtype="str")
    shown = np.full(len(cases), "", dtype=object)  # each text is its own row's: only theirs
    shown[corrected] = _correction_texts(cases.loc[corrected]).to_numpy(dtype=object)
    return pd.Series(shown, index=cases.index, dtype="str")


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


def _evidence_per_patient(evidence: pd.DataFrame) -> pd.Series:
    """patient -> 'factor: text | factor: text' in the evidence table's order."""
    if evidence.empty:
        return pd.Series(dtype=object)
    rows = evidence.sort_values("patient_id", kind="stable")
    pieces = (rows["risk_factor"] + ": " + rows["text"]).to_numpy(dtype=object)
    patient = rows["patient_id"].to_numpy()
    starts = run_starts(patient)
    joined = join_runs(choose(starts, "", " | ") + pieces, starts)
    return pd.Series(joined, index=patient[starts], dtype=object)


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
    cases = result.cases.loc[result.cases["listed"]].reset_index(drop=True)
    if cases.empty:
        return _empty_review(allow_identifiers and patients is not None and not patients.empty)
    if evidence is None:
        evidence = evidence_table(result)
    per_patient = _evidence_per_patient(evidence)
    oc_text = _overcorrection_text(cases)
    evidence_text = cases["patient_id"].map(per_patient).fillna("")
    evidence_text = evidence_text.where(
        oc_text == "",
        evidence_text.str.cat("over-rapid correction: " + oc_text, sep=" | ").str.lstrip(" |"),
    )
    review = pd.DataFrame(
        {
            "rank": cases["rank"].astype("int64"),
            "tier": cases["tier"].astype("int64"),
            "patient_id": cases["patient_id"].astype("str"),
            "index_time": cases["index_time"],
            "index_sodium": round_one_decimal(cases["index_sodium"]),
            "corrected_sodium": round_one_decimal(cases["corrected_sodium"]),
            "severity": cases["severity"].astype("str"),
            "latest_sodium": round_one_decimal(cases["latest_sodium"]),
            "delta_48h": round_one_decimal(cases["delta_48h"]),
            "overcorrection": cases["overcorrection"].astype(bool),
            "risk_factors": cases["risk_factors"].astype("str"),
            "correction_risk": cases["correction_risk"].astype(bool),
            "missing_workup": cases["missing_workup"].astype("str"),
            "evidence": evidence_text.astype("str"),
            "considerations": considerations(cases, rules).astype("str")
            if len(cases)
            else pd.Series(dtype="str"),
            "profile": profile_name,
            "rules_version": rules.version,
            "run_id": run_id,
            "tier_name": cases["tier"].map(TIER_NAMES).astype("str"),
            "n_low_results": cases["n_low_results"].astype("int64"),
            "nadir_time": cases["nadir_time"],
            "trend": cases["trend"].astype("str"),
            "overcorrection_pair": oc_text.astype("str"),
            "cramp_documented": cases["cramp_documented"].astype(bool),
            "index_glucose": cases["index_glucose"].astype("float64"),
            "window_start": window_start,
            "window_end": window_end,
            "relisted_because": _text_or_blank(cases, "relisted_because"),
            "previously_listed": _time_or_blank(cases, "previously_listed"),
            "last_reviewed": _time_or_blank(cases, "last_reviewed"),
        }
    )
    if allow_identifiers and patients is not None and not patients.empty:
        shown = patients.drop_duplicates("patient_id").set_index("patient_id")
        for column in IDENTIFIER_COLUMNS:
            source = (
                column
                if column in shown
                else ("ward" if column == "unit" and "ward" in shown else None)
            )
            values = review["patient_id"].map(shown[source]) if source else None
            review[column] = (
                values.astype("str").where(values.notna(), "") if values is not None else ""
            )
    review["possibly_spurious"] = _text_or_blank(cases, "possibly_spurious").to_numpy()
    return review


def _text_or_blank(cases: pd.DataFrame, column: str) -> pd.Series:
    if column not in cases:
        return pd.Series("", index=cases.index, dtype="str")
    return cases[column].fillna("").astype("str")


def _time_or_blank(cases: pd.DataFrame, column: str) -> pd.Series:
    """ISO text of a nightly-state time, '' when there is none (or no state)."""
    if column not in cases:
        return pd.Series("", index=cases.index, dtype="str")
    return iso(pd.to_datetime(cases[column])).fillna("").astype("str")


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


# the review-list columns to_text writes as numbers in text (write_csv keeps them numbers)
NUMBERS_AS_TEXT = (
    "index_sodium",
    "corrected_sodium",
    "latest_sodium",
    "delta_48h",
    "index_glucose",
)


def to_text(review: pd.DataFrame) -> pd.DataFrame:
    """CSV rendering: ISO times, one decimal, true/false, '' for missing."""
    text = review.copy(deep=False)  # the columns written as they are are not copied
    for column in ("index_time", "nadir_time", "window_start", "window_end"):
        text[column] = iso(pd.to_datetime(review[column]))
    for column in NUMBERS_AS_TEXT:
        text[column] = one_decimal(review[column])
    text.attrs[NUMERIC_ATTR] = NUMBERS_AS_TEXT  # write_csv keeps their plain numbers
    for column in ("overcorrection", "correction_risk", "cramp_documented"):
        text[column] = np.where(review[column].astype(bool), "true", "false")
    return text
