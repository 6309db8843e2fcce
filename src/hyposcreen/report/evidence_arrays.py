"""The evidence table (report/evidence.py) made from arrays of Python strings, a night's few
hundred rows in one DataFrame at the end instead of a few dozen pandas column operations.

Its rows, texts and order are those of the pandas way (`evidence.evidence_by_columns`): a
column of another type, or a missing value where a text or a sort key is made, raises
`NotPlain` and the caller takes the pandas way instead."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa

from hyposcreen.arrow_columns import holds_arrow_text
from hyposcreen.ingest.clock_folds import offset_column, time_offsets
from hyposcreen.report.display import clinical_value
from hyposcreen.report.numbers import general_array, one_decimal_array
from hyposcreen.screen.cases import ScreenResult

CENSOR_SIGNS = {"<": "<", "<=": "≤", ">": ">", ">=": "≥"}
_FIRST_DAY = np.datetime64("0001-01-01", "D")  # strftime's %Y has four digits from here ...
_LAST_DAY = np.datetime64("9999-12-31", "D")  # ... to here, as numpy's dates


STR = pd.Series(dtype="str").dtype  # pandas' text: Arrow large_string, NaN for missing


def str_array(texts: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """`pd.array(texts, dtype="str")` of Python strings (NaN for missing), converted to Arrow
    at once; anything else through pandas."""
    try:
        arrow = pa.array(texts, type=pa.large_string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pd.array(texts, dtype=STR)
    return pd.arrays.ArrowStringArray(arrow, dtype=STR)


class NotPlain(Exception):
    """A column these arrays do not take as the pandas way would (its type, a missing value)."""


class Part(NamedTuple):
    """The evidence rows of one source, column by column."""

    patient: np.ndarray
    factor: np.ndarray
    source: str
    text: np.ndarray
    time: np.ndarray
    offset: np.ndarray | None = None  # the time's UTC offset in a repeated hour (clock_folds)


def texts(values: pd.Series) -> np.ndarray:
    """`values.astype("str")` as an object array of Python strings (text only, none missing)."""
    shown = values.to_numpy(dtype=object)
    if holds_arrow_text(values):
        if pd.isna(shown).any():
            raise NotPlain
        return shown
    if values.dtype == object and pd.api.types.infer_dtype(shown, skipna=False) == "string":
        return shown
    raise NotPlain


def keys(values: pd.Series) -> np.ndarray:
    """A column the table takes as it is (patient, factor): Arrow text, none missing."""
    if not holds_arrow_text(values):
        raise NotPlain
    return texts(values)


def times(values: pd.Series) -> np.ndarray:
    """Naive times as numpy datetime64 (missing as NaT)."""
    shown = values.to_numpy()
    if shown.dtype.kind != "M":
        raise NotPlain
    return shown


def iso_texts(moments: np.ndarray, offsets: np.ndarray | None = None) -> np.ndarray:
    """`evidence.iso` of naive times, as an object array ('' for NaT); each distinct time
    written once (numpy writes a time in about as long as pandas finds its kind). A time in
    an hour the clocks repeat is written with its UTC offset (`offsets`, from the screen's
    `clock_folds.offset_column`): '2026-10-25T02:30:00+01:00'."""
    position, distinct = pd.factorize(moments)  # NaT: -1
    seconds = np.asarray(distinct).astype("datetime64[s]")  # floored, as strftime's %S
    text = np.datetime_as_string(seconds, unit="s").astype(object)
    return with_offsets(np.append(text, "")[position], offsets)


def with_offsets(shown: np.ndarray, offsets: np.ndarray | None) -> np.ndarray:
    """Texts of times with the UTC offset appended where `offsets` holds one (a time in an
    hour the clocks repeat); `shown` itself without any."""
    if offsets is None:
        return shown
    known = ~pd.isna(offsets) & (shown != "")
    if not known.any():
        return shown
    shown = shown.copy()
    shown[known] = shown[known] + offsets[known]
    return shown


def date_texts(moments: np.ndarray, missing: str) -> np.ndarray:
    """strftime('%Y-%m-%d') of naive times, `missing` for NaT."""
    days = moments.astype("datetime64[D]")
    absent = np.isnat(days)
    present = days[~absent]
    if len(present) and (present.min() < _FIRST_DAY or present.max() > _LAST_DAY):
        text = pd.Series(moments).dt.strftime("%Y-%m-%d").to_numpy(dtype=object)
    else:
        text = np.datetime_as_string(days, unit="D").astype(object)
    text[absent] = missing
    return text


def evidence_parts(result: ScreenResult) -> list[Part]:
    """The parts of the table in the pandas way's order (empty sources left out)."""
    parts = []
    if not result.medication_evidence.empty:
        parts.append(_medications(result.medication_evidence))
    if not result.condition_evidence.empty:
        parts.append(_conditions(result.condition_evidence))
    spurious = _spurious(result.sodium_results)
    if spurious is not None:
        parts.append(spurious)
    if not result.cofactor_evidence.empty:
        parts.append(_labs(result.cofactor_evidence))
    return parts


def evidence_frame(parts: list[Part]) -> pd.DataFrame:
    """The parts as one table sorted by patient, factor, time and text (stable)."""
    if len({part.time.dtype for part in parts}) != 1:
        raise NotPlain  # pandas would bring the times to one unit
    patient, factor, text, time = (
        np.concatenate([getattr(part, name) for part in parts])
        for name in ("patient", "factor", "text", "time")
    )
    if np.isnat(time).any():
        raise NotPlain
    sources = np.array([part.source for part in parts], dtype=object)
    source = sources[np.repeat(np.arange(len(parts)), [len(part.text) for part in parts])]
    ranks = [pd.factorize(column, sort=True)[0] for column in (patient, factor, text)]
    order = np.lexsort((ranks[2], time.view("int64"), ranks[1], ranks[0]))
    frame = pd.DataFrame(
        {
            "patient_id": str_array(patient[order]),
            "risk_factor": str_array(factor[order]),
            "source": str_array(source[order]),
            "text": str_array(text[order]),
            "time": time[order],
        }
    )
    if any(part.offset is not None for part in parts):
        offset = np.concatenate(
            [
                np.full(len(part.text), None, dtype=object) if part.offset is None else part.offset
                for part in parts
            ]
        )
        frame[offset_column("time")] = offset[order]
    return frame


def _medications(meds: pd.DataFrame) -> Part:
    start = times(meds["start_time"])
    end = times(meds["end_time"])
    if "active_until" in meds:
        until = times(meds["active_until"])
    else:
        until = np.full(len(meds), np.datetime64("NaT"), dtype="datetime64[us]")
    counted = np.isnat(end) & ~np.isnat(until)  # stopped without an end date: active until
    ends = np.where(
        counted,
        ", no end date, active until " + date_texts(until, ""),
        ", end " + date_texts(end, "ongoing"),
    ).astype(object)
    days = meds["days_since_start"]
    if days.dtype != np.int64:
        raise NotPlain
    text = (
        texts(meds["drug"])
        + " (start "
        + date_texts(start, "ongoing")
        + ends
        + ", day "
        + days.to_numpy().astype(str).astype(object)
        + np.where(meds["new_start"], ", new start", "").astype(object)
        + ")"
    )
    return Part(
        keys(meds["patient_id"]), keys(meds["risk_factor"]), "medication", text, start,
        time_offsets(meds, "start_time"),
    )  # fmt: skip


def _conditions(conditions: pd.DataFrame) -> Part:
    recorded = times(conditions["recorded_time"])
    offsets = time_offsets(conditions, "recorded_time")
    text = (
        texts(conditions["code"])
        + " ("
        + texts(conditions["code_system"])
        + ") recorded "
        + iso_texts(recorded, offsets)
    )
    factors = conditions["risk_factor"]
    if not holds_arrow_text(factors):
        raise NotPlain
    factor = factors.to_numpy(dtype=object)
    missing = pd.isna(factor)
    if missing.any():  # a correction risk without its own factor is named after its condition
        factor[missing] = "correction_risk:" + texts(conditions["condition"][missing])
    return Part(keys(conditions["patient_id"]), factor, "diagnosis", text, recorded, offsets)


def _spurious(results: pd.DataFrame) -> Part | None:
    """The possibly spurious sodium results (spec §8 delta check), None when there are none."""
    if "possibly_spurious" not in results or not results["possibly_spurious"].any():
        return None
    flags = results["possibly_spurious"]
    chosen = flags.to_numpy() if flags.dtype == bool else flags.astype(bool).to_numpy()
    rows = np.flatnonzero(chosen)
    when = times(results["specimen_time"])[rows]
    offsets = time_offsets(results, "specimen_time")
    offsets = None if offsets is None else offsets[rows]
    sodium = results["corrected_sodium"].to_numpy(dtype="float64", na_value=np.nan)[rows]
    text = (
        "sodium "
        + one_decimal_array(sodium)
        + " mmol/L (corrected) at "
        + iso_texts(when, offsets)
        + " lies far below the results before and after it (repeat the sample)"
    )
    factor = np.full(len(rows), "possibly_spurious", dtype=object)
    return Part(keys(results["patient_id"].iloc[rows]), factor, "lab", text, when, offsets)


def _labs(cofactors: pd.DataFrame) -> Part:
    when = times(cofactors["time"])
    offsets = time_offsets(cofactors, "time")
    text = (
        texts(cofactors["analyte"])
        + " "
        + lab_values(cofactors)
        + " "
        + texts(cofactors["unit"])
        + " at "
        + iso_texts(when, offsets)
        + " ("
        + texts(cofactors["detail"])
        + ")"
    )
    return Part(
        keys(cofactors["patient_id"]), keys(cofactors["risk_factor"]), "lab", text, when, offsets
    )


def lab_values(rows: pd.DataFrame) -> np.ndarray:
    """'3.2'; a censored result keeps its mark at clinical precision: '< 3.0' (spec §3)."""
    values = rows["value"]
    if values.dtype != np.float64:
        raise NotPlain
    shown = general_array(values.to_numpy())
    if "censored" not in rows:
        return shown
    position, marks = pd.factorize(rows["censored"].to_numpy(dtype=object))
    signs = [CENSOR_SIGNS.get(m) if isinstance(m, str) else None for m in marks]
    if not any(signs):
        return shown
    marked = np.array([sign is not None for sign in signs] + [False])[position]
    sign = np.array([*signs, None], dtype=object)[position][marked]
    analyte = rows["analyte"].to_numpy(dtype=object)[marked]
    value = values.to_numpy()[marked]
    # each distinct analyte and value at clinical precision once
    value_code = pd.factorize(value)[0] + 1  # 0: a missing value
    pair = pd.factorize(analyte)[0].astype(np.int64) * (len(value) + 1) + value_code
    _, first, where = np.unique(pair, return_index=True, return_inverse=True)
    clinical = np.array([clinical_value(analyte[i], value[i]) for i in first], dtype=object)
    shown[marked] = sign + " " + clinical[where.reshape(-1)]
    return shown
