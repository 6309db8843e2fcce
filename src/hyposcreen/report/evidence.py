"""Spec §10: the evidence behind each listed case — one row per medication, diagnosis or lab
result that made a risk factor (evidence.csv), in words a reviewer can check at the source."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hyposcreen.arrow_columns import holds_arrow_text, text_on_every_row
from hyposcreen.ingest.clock_folds import offset_column, time_offsets
from hyposcreen.report.display import clinical_value
from hyposcreen.report.evidence_arrays import (
    CENSOR_SIGNS,
    NotPlain,
    evidence_frame,
    evidence_parts,
    iso_texts,
    with_offsets,
)
from hyposcreen.report.numbers import general_text, one_decimal_text
from hyposcreen.screen.cases import ScreenResult


def iso(values: pd.Series, offsets: np.ndarray | None = None) -> pd.Series:
    """ISO 8601 text of naive site-local timestamps to the second ('' for missing); a time in
    an hour the clocks repeat with its UTC offset (`offsets`: `clock_folds.time_offsets`)."""
    if isinstance(values.dtype, np.dtype) and values.dtype.kind == "M":  # naive: numpy prints
        shown = iso_texts(values.to_numpy(), offsets)
        return pd.Series(shown, index=values.index, dtype="str")
    text = values.dt.strftime("%Y-%m-%dT%H:%M:%S")
    text = text.where(values.notna(), "")
    if offsets is None:
        return text
    return pd.Series(with_offsets(text.to_numpy(dtype=object), offsets), index=values.index)


def evidence_for_csv(evidence: pd.DataFrame, timezone: str = "UTC") -> pd.DataFrame:
    """evidence.csv's rows: the time as text ('2026-05-12 09:00:00'), one in an hour the
    clocks repeat with the UTC offset of its instant ('2026-10-25 02:30:00+01:00'), then
    `time_zone`: the site's zone those wall times are in (`timezone`, on every row)."""
    time = evidence["time"].astype("str")
    offsets = time_offsets(evidence, "time")
    if offsets is not None:
        time = with_offsets(time.to_numpy(dtype=object), offsets)
    zone = text_on_every_row(len(evidence), timezone)
    shown = evidence.drop(columns=offset_column("time"), errors="ignore")
    return shown.assign(time=time, time_zone=zone)


def one_decimal(values: pd.Series) -> pd.Series:
    return one_decimal_text(values)


def _date(values: pd.Series) -> pd.Series:
    """Calendar dates of a medication's start/end; a missing end reads 'ongoing'."""
    return values.dt.strftime("%Y-%m-%d").where(values.notna(), "ongoing")


EVIDENCE_COLUMNS = ["patient_id", "risk_factor", "source", "text", "time"]
_CENSOR_SIGNS = CENSOR_SIGNS


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
    exact = general_text(rows["value"])
    if "censored" not in rows:
        return exact
    sign = rows["censored"].fillna("").astype("str").map(_CENSOR_SIGNS)
    marked = sign.notna()
    if not marked.any():
        return exact
    censored = rows.loc[marked, ["analyte", "value"]]
    keys = pd.MultiIndex.from_frame(censored)  # each distinct analyte and value shown once
    position, distinct = keys.factorize()
    values = np.array([clinical_value(a, v) for a, v in distinct] + [""], dtype=object)
    shown = sign[marked].to_numpy(dtype=object) + " " + values[position]
    return exact.where(~marked, pd.Series(shown, index=rows.index[marked], dtype=object))


def _evidence_part(
    rows: pd.DataFrame,
    risk_factor: pd.Series,
    source: str,
    text: pd.Series,
    time_column: str,
) -> pd.DataFrame:
    """Evidence rows of `rows`, timed by their `time_column` (with its UTC offsets in an hour
    the clocks repeat, clock_folds.time_offsets, when it has any)."""
    part = pd.DataFrame(
        {
            "patient_id": rows["patient_id"],
            "risk_factor": risk_factor,
            "source": source,
            "text": text,
            "time": rows[time_column],
        }
    )
    offsets = time_offsets(rows, time_column)
    if offsets is not None:
        part[offset_column("time")] = offsets
    return part


def evidence_table(result: ScreenResult) -> pd.DataFrame:
    """Long evidence: patient_id, risk_factor, source, text, time (one row per piece); made
    from arrays (report/evidence_arrays.py) when the columns allow, else `evidence_by_columns`."""
    try:
        parts = evidence_parts(result)
        return evidence_frame(parts) if parts else pd.DataFrame(columns=EVIDENCE_COLUMNS)
    except NotPlain:
        return evidence_by_columns(result)


def evidence_by_columns(result: ScreenResult) -> pd.DataFrame:
    """`evidence_table` by pandas column operations (any column types, missing values)."""
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
            _evidence_part(
                meds,
                meds["risk_factor"],
                "medication",
                text,
                "start_time",
            )
        )
    conditions = result.condition_evidence
    if not conditions.empty:
        text = (
            conditions["code"].astype("str")
            + " ("
            + conditions["code_system"].astype("str")
            + ") recorded "
            + iso(conditions["recorded_time"], time_offsets(conditions, "recorded_time"))
        )
        factor = conditions["risk_factor"].fillna(
            "correction_risk:" + conditions["condition"].astype("str")
        )
        parts.append(
            _evidence_part(
                conditions,
                factor,
                "diagnosis",
                text,
                "recorded_time",
            )
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
            + iso(cofactors["time"], time_offsets(cofactors, "time"))
            + " ("
            + cofactors["detail"].astype("str")
            + ")"
        )
        parts.append(
            _evidence_part(
                cofactors,
                cofactors["risk_factor"],
                "lab",
                text,
                "time",
            )
        )
    if not parts:
        return pd.DataFrame(columns=EVIDENCE_COLUMNS)
    table = pd.concat(parts, ignore_index=True)
    order = _sorted_order(table)
    if order is not None:
        return table.take(order).reset_index(drop=True)
    return table.sort_values(_ORDER, kind="stable").reset_index(drop=True)


_ORDER = ["patient_id", "risk_factor", "time", "text"]


def _sorted_order(table: pd.DataFrame) -> np.ndarray | None:
    """The positions `sort_values(_ORDER, kind="stable")` puts the rows in, as one stable
    lexsort of each text's rank among its sorted distinct values (pandas compares texts by
    code point, as Python does) and the times; None (pandas sorts) when a key is missing
    anywhere or is not text and naive times."""
    texts = [table[c] for c in ("patient_id", "risk_factor", "text")]
    time = table["time"]
    if not (isinstance(time.dtype, np.dtype) and time.dtype.kind == "M") or time.hasnans:
        return None
    if not all(holds_arrow_text(t) and not t.hasnans for t in texts):
        return None
    patient, factor, text = (pd.factorize(t.to_numpy(dtype=object), sort=True)[0] for t in texts)
    return np.lexsort((text, time.to_numpy().view("int64"), factor, patient))


def _spurious_evidence(results: pd.DataFrame) -> pd.DataFrame:
    """Evidence rows of the possibly spurious sodium results (spec §8 delta check)."""
    if "possibly_spurious" not in results or not results["possibly_spurious"].any():
        return pd.DataFrame(columns=EVIDENCE_COLUMNS)
    rows = results.loc[results["possibly_spurious"].astype(bool)]
    offsets = time_offsets(rows, "specimen_time")
    text = (
        "sodium "
        + one_decimal(rows["corrected_sodium"])
        + " mmol/L (corrected) at "
        + iso(rows["specimen_time"], offsets)
        + " lies far below the results before and after it (repeat the sample)"
    )
    factor = pd.Series("possibly_spurious", index=rows.index)
    return _evidence_part(rows, factor, "lab", text, "specimen_time")
