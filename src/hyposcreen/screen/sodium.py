"""Spec §4-5: glucose-corrected sodium, the hyponatremia definition and severity of a profile."""

from __future__ import annotations

import operator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from hyposcreen.rules.loader import Profile, RuleSet
from hyposcreen.screen.engine import Tables, microseconds

_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
# Binary floating point: 134.2 + 0.8 is 135.00000000000003. Comparisons use values rounded
# to 9 decimals (far below any clinical precision); outputs round to 1 decimal.
_NOISE_DECIMALS = 9


def compare(values: pd.Series, op: str, threshold: float) -> pd.Series:
    return pd.Series(_OPS[op](values, threshold), index=values.index).fillna(False).astype(bool)


# Spec §4: the glucose of the same specimen (nearest in time, then the earlier, then the lower),
# else the nearest glucose of the patient within ± the window inclusive (then the earlier,
# then the lower). Distances in integer microseconds; every choice fully ordered. The pairing
# and the ranking share these candidates and this order, so rank 1 is always the pair.
_GLUCOSE_CANDIDATES = """
WITH candidates AS (
    SELECT s.row, g.glucose_time, g.glucose_mg_dl, g.glucose_row, 0 AS preference,
           abs(epoch_us(g.glucose_time) - epoch_us(s.specimen_time)) AS distance
    FROM sodium s JOIN glucose g
      ON g.patient_id = s.patient_id AND g.specimen_id = s.specimen_id
    UNION ALL
    SELECT s.row, g.glucose_time, g.glucose_mg_dl, g.glucose_row, 1 AS preference,
           abs(epoch_us(g.glucose_time) - epoch_us(s.specimen_time)) AS distance
    FROM sodium s JOIN glucose g
      ON g.patient_id = s.patient_id
     AND epoch_us(g.glucose_time) BETWEEN epoch_us(s.specimen_time) - $window_us
                                      AND epoch_us(s.specimen_time) + $window_us
)"""
_GLUCOSE_PREFERENCE = """row_number() OVER (
    PARTITION BY row
    ORDER BY preference, distance NULLS LAST, glucose_time NULLS LAST,
             glucose_mg_dl NULLS LAST
)"""
_PAIR_GLUCOSE_SQL = f"""{_GLUCOSE_CANDIDATES}
SELECT row, glucose_time, glucose_mg_dl, glucose_row
FROM candidates
QUALIFY {_GLUCOSE_PREFERENCE} = 1
ORDER BY row
"""  # noqa: S608 - built from the constant pieces above, no value in it
# every candidate of each sodium result: `rank` 1 is its pair, 2 its pair were the first not
# there, and so on
_RANKED_GLUCOSE_SQL = f"""{_GLUCOSE_CANDIDATES}
SELECT row, glucose_time, glucose_mg_dl, glucose_row, {_GLUCOSE_PREFERENCE} AS rank
FROM candidates
ORDER BY row, rank
"""  # noqa: S608 - built from the constant pieces above, no value in it


def paired_glucose(db: Tables, minutes: float, glucose_row: bool = False) -> pd.DataFrame:
    """The glucose paired with each sodium result (spec §4) of the registered tables `sodium`
    (row, patient_id, specimen_id, specimen_time) and `glucose` (patient_id, specimen_id,
    glucose_time, glucose_mg_dl, glucose_row): `row`, `glucose_time`, `glucose_mg_dl` for the
    sodium rows that have one (and, with `glucose_row`, the paired glucose's glucose_row: of
    glucose rows alike in time and value, any one)."""
    paired = db.query(
        _PAIR_GLUCOSE_SQL,
        {"window_us": microseconds(pd.Timedelta(minutes=minutes))},
        {
            "row": "int64",
            "glucose_time": db.dtype("glucose", "glucose_time"),
            "glucose_mg_dl": "float64",
            "glucose_row": "int64",
        },
    )
    return paired if glucose_row else paired.drop(columns="glucose_row")


def ranked_glucose(db: Tables, minutes: float) -> pd.DataFrame:
    """Every glucose a sodium result of the registered `sodium` and `glucose` tables (as
    `paired_glucose` reads them) may be paired with, in the order of preference: `row`,
    `glucose_time`, `glucose_mg_dl`, `glucose_row`, `rank` (from 1: the pair), by row and
    rank. Of any subset of the glucose rows, a result's pair is its first candidate there."""
    return db.query(
        _RANKED_GLUCOSE_SQL,
        {"window_us": microseconds(pd.Timedelta(minutes=minutes))},
        {
            "row": "int64",
            "glucose_time": db.dtype("glucose", "glucose_time"),
            "glucose_mg_dl": "float64",
            "glucose_row": "int64",
            "rank": "int64",
        },
    )


def pair_glucose(sodium: pd.DataFrame, glucose: pd.DataFrame, minutes: float) -> pd.DataFrame:
    """`paired_glucose` of two frames: `sodium` (row, patient_id, specimen_id, specimen_time)
    and `glucose` (patient_id, specimen_id, glucose_time, glucose_mg_dl)."""
    keys = {"patient_id": "str", "specimen_id": "str"}
    tables = {
        "sodium": sodium[["row", "patient_id", "specimen_id", "specimen_time"]].astype(keys),
        "glucose": glucose[["patient_id", "specimen_id", "glucose_time", "glucose_mg_dl"]]
        .astype(keys)
        .assign(glucose_row=np.arange(len(glucose))),
    }
    with Tables(tables) as db:
        return paired_glucose(db, minutes)


# the sodium and glucose results of the registered `labs` (row: its position in the extract's
# order) as the pairing reads them; a sodium's row is its position among the sodium results
_SODIUM_VIEW = """
SELECT row_number() OVER (ORDER BY row) - 1 AS row, patient_id, specimen_id, specimen_time
FROM labs WHERE analyte = 'sodium'
"""
_GLUCOSE_VIEW = """
SELECT patient_id, specimen_id, specimen_time AS glucose_time, value_num AS glucose_mg_dl,
       row AS glucose_row
FROM labs WHERE analyte = 'glucose'
"""


def pair_registered_glucose(
    db: Tables,
    minutes: float,
    sodium: pd.DataFrame | None = None,
    glucose_row: bool = False,
    ranked: bool = False,
) -> pd.DataFrame:
    """`paired_glucose` of the sodium and glucose results of the registered `labs` (patient_id,
    specimen_id, analyte, specimen_time, value_num, row = position): rows numbered as the
    sodium rows of `labs` in their order. `sodium`, when given, is those rows already (row,
    patient_id, specimen_id, specimen_time), registered as they are (no numbering query), or
    some of them: each sodium row's pair depends on the glucose rows only. `glucose_row`: the
    paired glucose's `row` in `labs` too; `ranked`: every candidate (`ranked_glucose`)."""
    time_type = db.dtype("labs", "specimen_time")
    if sodium is None:
        db.view("sodium", _SODIUM_VIEW, {"row": "int64", "specimen_time": time_type})
    else:
        keys = {"patient_id": "str", "specimen_id": "str"}
        db.register("sodium", sodium[["row", *keys, "specimen_time"]].astype(keys))
    db.view(
        "glucose",
        _GLUCOSE_VIEW,
        {"glucose_time": time_type, "glucose_mg_dl": "float64", "glucose_row": "int64"},
    )
    return ranked_glucose(db, minutes) if ranked else paired_glucose(db, minutes, glucose_row)


@dataclass(frozen=True)
class KnownPairs:
    """Glucose pairs decided before the screen for some sodium rows (numbered as
    `correct_for_glucose` numbers them): `pairs` (row, glucose_time, glucose_mg_dl) of those
    with a pair; the rows in `unsettled` are paired by the screen itself; every other row
    has no glucose to pair."""

    pairs: pd.DataFrame
    unsettled: np.ndarray
    # `possibly_spurious` per sodium row as known beforehand, for the patients none of whose
    # rows is unsettled or `changed` (serial.spurious_of_some); None: found by the screen
    spurious: np.ndarray | None = None
    # rows whose corrected value may not be the one `spurious` was found with
    changed: np.ndarray | None = None


def correct_for_glucose(
    sodium: pd.DataFrame,
    glucose: pd.DataFrame | None,
    rules: RuleSet,
    factor: float | None = None,
    db: Tables | None = None,
    known: KnownPairs | None = None,
) -> pd.DataFrame:
    """Sodium results with their paired glucose and `corrected_sodium` (spec §4).

    `sodium`: patient_id, specimen_time, specimen_id, value_num (mmol/L).
    `glucose`: patient_id, specimen_time, specimen_id, value_num (mg/dL); only usable results.
    Or, with `db`, `glucose` is None and the pairing reads the registered `labs`, whose sodium
    rows (in order) are `sodium` (`pair_registered_glucose`); with `known` as well, only its
    unsettled rows are paired there.
    """
    settings = rules.glucose
    factor = float(factor if factor is not None else settings["factor"])
    if factor not in [float(f) for f in settings["allowed_factors"]]:
        raise ValueError(
            f"glucose correction factor {factor} is not one of {settings['allowed_factors']}"
        )
    out = sodium.reset_index(drop=True)  # a frame of its own: adding a column changes no other
    out["row"] = np.arange(len(out))
    minutes = float(settings["pairing_window_minutes"])
    if db is not None and known is not None:
        paired = known.pairs
        if len(known.unsettled):
            own = pair_registered_glucose(db, minutes, out.iloc[known.unsettled])
            paired = pd.concat([paired, own], ignore_index=True).sort_values("row")
    elif db is not None:
        paired = pair_registered_glucose(db, minutes, out)
    else:
        assert glucose is not None
        glucose = glucose.rename(
            columns={"specimen_time": "glucose_time", "value_num": "glucose_mg_dl"}
        )
        columns = ["patient_id", "specimen_id", "glucose_time", "glucose_mg_dl"]
        paired = pair_glucose(out, glucose[columns], minutes)
    out = out.merge(paired, on="row", how="left").drop(columns="row")
    excess = (out["glucose_mg_dl"] - float(settings["threshold_mg_dl"])).clip(lower=0).fillna(0.0)
    corrected = out["value_num"] + factor * excess / 100.0
    out["corrected_sodium"] = corrected.round(_NOISE_DECIMALS)
    return out


def classify(results: pd.DataFrame, profile: Profile) -> pd.DataFrame:
    """Add `hyponatremic`, `low_measured`, `hyperglycemia_related`, `severity`, `level`."""
    out = results.copy(deep=False)  # copy on write: `results` keeps its columns
    corrected = out["corrected_sodium"]
    measured = out["value_num"].round(_NOISE_DECIMALS)
    out["hyponatremic"] = compare(
        corrected, profile.hyponatremia_op, profile.hyponatremia_threshold
    )
    low_measured = compare(measured, profile.hyponatremia_op, profile.hyponatremia_threshold)
    out["hyperglycemia_related"] = low_measured & ~out["hyponatremic"]
    severity = np.full(len(out), None, dtype=object)  # the first band each result falls in
    level = np.full(len(out), None, dtype=object)
    open_ = np.array(out["hyponatremic"], dtype=bool)  # not yet in a band (a copy)
    for band in profile.bands:
        hit = open_ & compare(corrected, band.op, band.threshold).to_numpy(dtype=bool)
        severity[hit] = band.label
        level[hit] = band.level
        if not pd.isna(band.label):  # a band without a label leaves its results open
            open_ &= ~hit
    out["severity"] = pd.Series(severity, index=out.index, dtype=object)
    out["level"] = pd.Series(level, index=out.index, dtype=object)
    return out
