"""Spec §6, electrolyte co-factors within ±24 h of the index: low potassium, magnesium, calcium."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hyposcreen.arrow_columns import is_listed
from hyposcreen.rules.loader import RuleSet
from hyposcreen.screen.engine import Tables, microseconds

# censored: the result's censoring operator ("<", "<=", ">", ">=") or "" when exact (spec §3)
EVIDENCE_COLUMNS = [
    "patient_id", "risk_factor", "analyte", "value", "unit", "time", "detail", "censored",
]  # fmt: skip


# each case's co-factor results within ± the window of its index (inclusive); with each total
# calcium, the albumin nearest it within ± the albumin window (ties: the earlier albumin,
# then the higher one — the smaller correction; spec §6), NULL when none
_NEAR_INDEX_SQL = """
WITH near AS (
    SELECT c.patient_id, r.analyte, c.index_time, r.specimen_time, r.value_num, r.censored,
           r.row
    FROM cases c JOIN labs r
      ON r.patient_id = c.patient_id
     AND abs(epoch_us(r.specimen_time) - epoch_us(c.index_time)) <= $window_us
    WHERE list_contains($analytes, r.analyte)
),
albumin AS (
    SELECT t.row, a.value_num AS albumin, a.specimen_time AS albumin_time
    FROM (SELECT DISTINCT row, patient_id, specimen_time FROM near
          WHERE analyte = 'calcium_total') t
    JOIN labs a
      ON a.patient_id = t.patient_id
     AND abs(epoch_us(a.specimen_time) - epoch_us(t.specimen_time)) <= $albumin_us
    WHERE a.analyte = 'albumin'
    QUALIFY row_number() OVER (
        PARTITION BY t.row
        ORDER BY abs(epoch_us(a.specimen_time) - epoch_us(t.specimen_time)),
                 a.specimen_time, a.value_num DESC NULLS LAST
    ) = 1
)
SELECT n.patient_id, n.analyte, n.index_time, n.specimen_time, n.value_num, n.censored,
       b.albumin, b.albumin_time
FROM near n LEFT JOIN albumin b ON b.row = n.row
ORDER BY n.patient_id, n.analyte, n.specimen_time, n.value_num
"""
_NEAR_ANALYTES = ("potassium", "magnesium", "calcium_ionized", "calcium_total")


def near_index(db: Tables, cases: pd.DataFrame, hours: float, albumin_hours: float) -> pd.DataFrame:
    """Co-factor results of the registered `labs` (patient_id, analyte, specimen_time,
    value_num, censored, row) within ± `hours` of each case's index_time: patient_id, analyte,
    index_time, specimen_time, value_num, censored ("" for an exact value), and for a total
    calcium the albumin nearest it within ± `albumin_hours` (albumin, albumin_time; else null)."""
    time_type = db.dtype("labs", "specimen_time")
    return db.query(
        _NEAR_INDEX_SQL,
        {
            "window_us": microseconds(pd.Timedelta(hours=hours)),
            "albumin_us": microseconds(pd.Timedelta(hours=albumin_hours)),
            "analytes": list(_NEAR_ANALYTES),
        },
        {
            "patient_id": cases["patient_id"].dtype,
            "analyte": "str",
            "index_time": cases["index_time"].dtype,
            "specimen_time": time_type,
            "value_num": "float64",
            "censored": "str",
            "albumin": "float64",
            "albumin_time": time_type,
        },
        frames={"cases": cases[["patient_id", "index_time"]].astype({"patient_id": "str"})},
    )


LAB_TABLE_COLUMNS = [
    "patient_id", "specimen_id", "analyte", "specimen_time", "value_num", "censored",
]  # fmt: skip


def lab_table(labs: pd.DataFrame) -> pd.DataFrame:
    """The usable results as the screen's queries read them (`labs`), `row` = the position."""
    absent = {c: ("" if c == "censored" else None) for c in LAB_TABLE_COLUMNS if c not in labs}
    labs = labs.assign(**absent) if absent else labs
    table = labs[LAB_TABLE_COLUMNS].astype(
        {"patient_id": "str", "specimen_id": "str", "analyte": "str", "censored": "str"}
    )
    return table.assign(row=np.arange(len(table)))


def _of_analyte(near: pd.DataFrame, analyte: str) -> pd.DataFrame:
    rows = near.loc[near["analyte"] == analyte]
    return rows[["patient_id", "index_time", "specimen_time", "value_num", "censored"]]


def _lowest(rows: pd.DataFrame, value_column: str, *tie_breaks: str) -> pd.DataFrame:
    """The lowest qualifying value per patient (ties: the earliest, then `tie_breaks`)."""
    keys = ["patient_id", value_column, "specimen_time", *tie_breaks]
    ordered = rows.sort_values(keys, kind="stable")
    return ordered.drop_duplicates("patient_id")


def electrolyte_cofactors(
    cases: pd.DataFrame,
    labs: pd.DataFrame | None,
    rules: RuleSet,
    db: Tables | None = None,
) -> pd.DataFrame:
    """Evidence rows for hypokalemia, hypomagnesemia and hypocalcemia.

    `labs` holds used results dated before window_end, values in canonical units (patient_id,
    analyte, specimen_time, value_num and, when known, censored); or pass `db` with them
    registered as `labs` (`lab_table`).
    """
    if cases.empty:
        return pd.DataFrame(columns=EVIDENCE_COLUMNS)
    if db is None:
        assert labs is not None
        with Tables({"labs": lab_table(labs)}) as own:
            return electrolyte_cofactors(cases, None, rules, own)
    hours = rules.windows.cofactor_window_hours
    limits = rules.limits
    near_all = near_index(db, cases, hours, rules.windows.albumin_window_hours)
    parts = []
    simple = [
        ("hypokalemia", "potassium", limits.potassium_low_mmol_l, "mmol/L"),
        ("hypomagnesemia", "magnesium", limits.magnesium_low_mg_dl, "mg/dL"),
    ]
    for risk_factor, analyte, threshold, unit in simple:
        near = _of_analyte(near_all, analyte)
        low = _lowest(near.loc[near["value_num"] < threshold], "value_num")
        parts.append(
            pd.DataFrame(
                {
                    "patient_id": low["patient_id"],
                    "risk_factor": risk_factor,
                    "analyte": analyte,
                    "value": low["value_num"],
                    "unit": unit,
                    "time": low["specimen_time"],
                    "detail": f"< {threshold:g} {unit}",
                    "censored": low["censored"],
                }
            )
        )
    parts.append(_hypocalcemia(near_all, rules))
    evidence = _concat(parts)
    return evidence.sort_values(["patient_id", "risk_factor"], kind="stable").reset_index(drop=True)


def _hypocalcemia(near_all: pd.DataFrame, rules: RuleSet) -> pd.DataFrame:
    """Ionized calcium decides alone when present near the index; else albumin-corrected total.
    `near_all`: the co-factor results near each index, with the total calcium's nearest
    albumin (`near_index`)."""
    limits = rules.limits
    ionized = _of_analyte(near_all, "calcium_ionized")
    ionized_low = _lowest(
        ionized.loc[ionized["value_num"] < limits.ionized_calcium_low_mmol_l], "value_num"
    )
    by_ionized = pd.DataFrame(
        {
            "patient_id": ionized_low["patient_id"],
            "risk_factor": "hypocalcemia",
            "analyte": "calcium_ionized",
            "value": ionized_low["value_num"],
            "unit": "mmol/L",
            "time": ionized_low["specimen_time"],
            "detail": f"ionized < {limits.ionized_calcium_low_mmol_l:g} mmol/L",
            "censored": ionized_low["censored"],
        }
    )
    total = near_all.loc[near_all["analyte"] == "calcium_total"]
    total = total.loc[~is_listed(total["patient_id"], ionized["patient_id"])]
    if total.empty:
        return by_ionized
    total = total.drop(columns="analyte").reset_index(drop=True)
    reference = limits.albumin_reference_g_dl
    adjust = (limits.albumin_calcium_factor * (reference - total["albumin"])).where(
        total["albumin"] < reference, 0.0
    )
    total["corrected_calcium"] = (total["value_num"] + adjust.fillna(0.0)).round(9)
    low = _lowest(
        total.loc[total["corrected_calcium"] < limits.total_calcium_low_mg_dl],
        "corrected_calcium",
        "value_num",  # same corrected value and time: the lower measured calcium
    )
    # the limit first, as every co-factor states it ('< 8.5 mg/dL'), then what the value is made
    # of: the page keeps a value stated below it below it when rounding (report/display)
    limit = f"< {limits.total_calcium_low_mg_dl:g} mg/dL; "
    total_text = limit + "total " + low["value_num"].map(lambda v: f"{v:g}").astype("str")
    total_text = total_text + " mg/dL, "
    corrected = low["albumin"].notna() & (low["albumin"] < reference)
    detail = total_text + np.where(
        corrected,
        "albumin " + low["albumin"].map(lambda v: f"{v:g}").astype("str") + " g/dL",
        "no albumin correction",
    )
    by_total = pd.DataFrame(
        {
            "patient_id": low["patient_id"],
            "risk_factor": "hypocalcemia",
            "analyte": "calcium_total",
            "value": low["corrected_calcium"],
            "unit": "mg/dL",
            "time": low["specimen_time"],
            "detail": detail,
            "censored": low["censored"],
        }
    )
    return _concat([by_ionized, by_total])


def _concat(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Non-empty evidence parts stacked; the empty evidence table when there is none."""
    filled = [p for p in parts if not p.empty]
    if not filled:
        return pd.DataFrame(columns=EVIDENCE_COLUMNS)
    return pd.concat(filled, ignore_index=True)
