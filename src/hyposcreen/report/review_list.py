"""Spec §10: the review list — one row per listed case, its evidence and considerations."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hyposcreen.report.considerations import considerations
from hyposcreen.report.display import clinical_value
from hyposcreen.report.numbers import one_decimal_text, round_one_decimal
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


def iso(values: pd.Series) -> pd.Series:
    """ISO 8601 text of naive site-local timestamps ('' for missing)."""
    text = values.dt.strftime("%Y-%m-%dT%H:%M:%S")
    return text.where(values.notna(), "")


def one_decimal(values: pd.Series) -> pd.Series:
    return one_decimal_text(values)


def _date(values: pd.Series) -> pd.Series:
    """Calendar dates of a medication's start/end; a missing end reads 'ongoing'."""
    return values.dt.strftime("%Y-%m-%d").where(values.notna(), "ongoing")


EVIDENCE_COLUMNS = ["patient_id", "risk_factor", "source", "text", "time"]
_CENSOR_SIGNS = {"<": "<", "<=": "≤", ">": ">", ">=": "≥"}


def _end_text(meds: pd.DataFrame) -> pd.Series:
    """', end 2026-11-15'; a stopped/completed record without end date says until when the
    rules count it as active (', no end date, active until 2026-12-01'); else ', end ongoing'."""
    until = meds["active_until"] if "active_until" in meds else pd.Series(pd.NaT, meds.index)
    until = pd.to_datetime(until)
    counted = ", no end date, active until " + until.dt.strftime("%Y-%m-%d")
    text = (", end " + _date(meds["end_time"])).where(
        meds["end_time"].notna() | until.isna(), counted
    )
    return text


def _lab_value_text(rows: pd.DataFrame) -> pd.Series:
    """'3.2'; a censored result keeps its mark at clinical precision: '< 3.0' (spec §3)."""
    exact = rows["value"].map(lambda v: f"{v:g}").astype("str")
    if "censored" not in rows:
        return exact
    sign = rows["censored"].fillna("").astype("str").map(_CENSOR_SIGNS)
    marked = sign.notna()
    if not marked.any():
        return exact
    shown = [
        f"{mark} {clinical_value(analyte, value)}"
        for mark, analyte, value in zip(
            sign[marked], rows.loc[marked, "analyte"], rows.loc[marked, "value"], strict=True
        )
    ]
    return exact.where(~marked, pd.Series(shown, index=rows.index[marked], dtype=object))


def _evidence_part(
    rows: pd.DataFrame, risk_factor: pd.Series, source: str, text: pd.Series, time: pd.Series
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "patient_id": rows["patient_id"],
            "risk_factor": risk_factor,
            "source": source,
            "text": text,
            "time": time,
        }
    )


def evidence_table(result: ScreenResult) -> pd.DataFrame:
    """Long evidence: patient_id, risk_factor, source, text, time (one row per piece)."""
    parts = []
    meds = result.medication_evidence
    if not meds.empty:
        text = (
            meds["drug"].astype("str")
            + " (start "
            + _date(meds["start_time"])
            + _end_text(meds)
            + ", day "
            + meds["days_since_start"].astype("int64").astype("str")
            + np.where(meds["new_start"], ", new start", "")
            + ")"
        )
        parts.append(
            _evidence_part(meds, meds["risk_factor"], "medication", text, meds["start_time"])
        )
    conditions = result.condition_evidence
    if not conditions.empty:
        text = (
            conditions["code"].astype("str")
            + " ("
            + conditions["code_system"].astype("str")
            + ") recorded "
            + iso(conditions["recorded_time"])
        )
        factor = conditions["risk_factor"].fillna(
            "correction_risk:" + conditions["condition"].astype("str")
        )
        parts.append(
            _evidence_part(conditions, factor, "diagnosis", text, conditions["recorded_time"])
        )
    spurious = _spurious_evidence(result.sodium_results)
    if not spurious.empty:
        parts.append(spurious)
    cofactors = result.cofactor_evidence
    if not cofactors.empty:
        text = (
            cofactors["analyte"].astype("str")
            + " "
            + _lab_value_text(cofactors)
            + " "
            + cofactors["unit"].astype("str")
            + " at "
            + iso(cofactors["time"])
            + " ("
            + cofactors["detail"].astype("str")
            + ")"
        )
        parts.append(
            _evidence_part(cofactors, cofactors["risk_factor"], "lab", text, cofactors["time"])
        )
    if not parts:
        return pd.DataFrame(columns=EVIDENCE_COLUMNS)
    table = pd.concat(parts, ignore_index=True)
    return table.sort_values(
        ["patient_id", "risk_factor", "time", "text"], kind="stable"
    ).reset_index(drop=True)


def _spurious_evidence(results: pd.DataFrame) -> pd.DataFrame:
    """Evidence rows of the possibly spurious sodium results (spec §8 delta check)."""
    if "possibly_spurious" not in results or not results["possibly_spurious"].any():
        return pd.DataFrame(columns=EVIDENCE_COLUMNS)
    rows = results.loc[results["possibly_spurious"].astype(bool)]
    text = (
        "sodium "
        + one_decimal(rows["corrected_sodium"])
        + " mmol/L (corrected) at "
        + iso(rows["specimen_time"])
        + " lies far below the results before and after it (repeat the sample)"
    )
    factor = pd.Series("possibly_spurious", index=rows.index)
    return _evidence_part(rows, factor, "lab", text, rows["specimen_time"])


def _overcorrection_text(cases: pd.DataFrame) -> pd.Series:
    text = (
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
        + cases["limit"].map(lambda v: f"{v:g}")
        + " per 24 h)"
    )
    return text.where(cases["overcorrection"], "")


def build_review_list(
    result: ScreenResult,
    rules: RuleSet,
    profile_name: str,
    run_id: str,
    window_start: pd.Timestamp,
    window_end: pd.Timestamp,
    patients: pd.DataFrame | None = None,
    allow_identifiers: bool = False,
) -> pd.DataFrame:
    """The review list as typed columns (parquet); `to_text` renders it for CSV."""
    cases = result.cases.loc[result.cases["listed"]].reset_index(drop=True)
    if cases.empty:
        return _empty_review(allow_identifiers and patients is not None and not patients.empty)
    evidence = evidence_table(result)
    per_patient = (
        (evidence["risk_factor"] + ": " + evidence["text"])
        .groupby(evidence["patient_id"])
        .agg(" | ".join)
        if not evidence.empty
        else pd.Series(dtype=object)
    )
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
    text = review.copy()
    for column in ("index_time", "nadir_time", "window_start", "window_end"):
        text[column] = iso(pd.to_datetime(review[column]))
    for column in NUMBERS_AS_TEXT:
        text[column] = one_decimal(review[column])
    text.attrs[NUMERIC_ATTR] = NUMBERS_AS_TEXT  # write_csv keeps their plain numbers
    for column in ("overcorrection", "correction_risk", "cramp_documented"):
        text[column] = np.where(review[column].astype(bool), "true", "false")
    return text
