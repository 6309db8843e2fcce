"""Spec §7-8 over the registered sodium results: the cases and the analytes of their missing
work-up, each a named query (each case's latest result: `serial.latest_and_previous`).

The queries read tables registered once per screen (`engine.Tables`): `results` (the corrected,
classified sodium results: patient_id, specimen_time, value_num, glucose_mg_dl, censored,
corrected_sodium, hyponatremic, in_window, severity, level) and `labs` (the usable results:
patient_id, analyte, specimen_time, ...). Every choice among tied rows is fully ordered.
"""

from __future__ import annotations

import pandas as pd

from hyposcreen.rules.loader import RuleSet
from hyposcreen.screen.engine import Tables, microseconds

CASE_COLUMNS = [
    "patient_id", "index_time", "index_sodium", "corrected_sodium", "index_glucose",
    "index_censored", "severity", "level", "n_low_results",
]  # fmt: skip

# one case per patient with a hyponatremic result in the window; index = the lowest corrected
# value (ties: the earliest; then the lower measured value, the lower glucose, an exact value
# before a censored one: "" sorts before "<"), so no choice rests on the order of the file
_CASES_SQL = """
SELECT patient_id, specimen_time AS index_time, value_num AS index_sodium, corrected_sodium,
       glucose_mg_dl AS index_glucose, censored AS index_censored, severity, level,
       count(*) OVER (PARTITION BY patient_id) AS n_low_results
FROM results
WHERE in_window AND hyponatremic
QUALIFY row_number() OVER (
    PARTITION BY patient_id
    ORDER BY corrected_sodium NULLS LAST, specimen_time NULLS LAST, value_num NULLS LAST,
             glucose_mg_dl NULLS LAST, censored NULLS LAST
) = 1
ORDER BY patient_id
"""


def find_cases(results: pd.DataFrame | None = None, db: Tables | None = None) -> pd.DataFrame:
    """One row per case (spec §7): CASE_COLUMNS and nadir_time (= index_time), by patient_id.

    `results` (or the `results` table already registered in `db`) carries in_window,
    hyponatremic, severity and level (`sodium.classify`)."""
    if db is None:
        assert results is not None
        with Tables({"results": _case_inputs(results)}) as own:
            return find_cases(db=own)
    time_type = db.dtype("results", "specimen_time")
    cases = db.query(
        _CASES_SQL,
        dtypes={
            "patient_id": "str",
            "index_time": time_type,
            "index_sodium": "float64",
            "corrected_sodium": "float64",
            "index_glucose": "float64",
            "index_censored": "str",
            "severity": "str",
            "level": "str",
            "n_low_results": "int64",
        },
    )
    cases["nadir_time"] = cases["index_time"]
    return cases


def _case_inputs(results: pd.DataFrame) -> pd.DataFrame:
    """The columns the case query reads (a missing tie-break column reads as null)."""
    out = results.copy()
    for column in ("glucose_mg_dl", "censored"):
        if column not in out:
            out[column] = None
    out["glucose_mg_dl"] = out["glucose_mg_dl"].astype("float64")
    out["censored"] = out["censored"].astype("str")
    for column in ("severity", "level"):
        out[column] = out[column].astype("str")
    return out[
        [
            "patient_id", "specimen_time", "value_num", "glucose_mg_dl", "censored",
            "corrected_sodium", "hyponatremic", "in_window", "severity", "level",
        ]
    ].astype({"patient_id": "str", "hyponatremic": "bool", "in_window": "bool"})  # fmt: skip


# per case, the work-up analytes with no usable result from `before` ahead of the index to
# `after` behind it (both inclusive), `;`-joined in name order ("" when none is missing)
_MISSING_WORKUP_SQL = """
WITH present AS (
    SELECT DISTINCT c.patient_id, l.analyte
    FROM cases c JOIN labs l ON l.patient_id = c.patient_id
    WHERE l.analyte IN (SELECT analyte FROM wanted)
      AND epoch_us(l.specimen_time) - epoch_us(c.index_time) BETWEEN -$before_us AND $after_us
)
SELECT c.patient_id,
       coalesce(string_agg(w.analyte, ';' ORDER BY w.analyte)
                FILTER (WHERE p.analyte IS NULL), '') AS missing_workup
FROM cases c CROSS JOIN wanted w
LEFT JOIN present p ON p.patient_id = c.patient_id AND p.analyte = w.analyte
GROUP BY c.patient_id
ORDER BY c.patient_id
"""


def missing_workup(db: Tables, cases: pd.DataFrame, rules: RuleSet) -> pd.Series:
    """Per case (in `cases`' order) the `;`-joined work-up analytes without a usable result
    within -24 h..+48 h of the index (spec §8); `labs` is registered in `db`."""
    wanted = pd.DataFrame({"analyte": list(rules.workup_analytes)}, dtype="str")
    windows = rules.windows
    found = db.query(
        _MISSING_WORKUP_SQL,
        {
            "before_us": microseconds(pd.Timedelta(hours=windows.workup_hours_before)),
            "after_us": microseconds(pd.Timedelta(hours=windows.workup_hours_after)),
        },
        frames={
            "cases": cases[["patient_id", "index_time"]].astype({"patient_id": "str"}),
            "wanted": wanted,
        },
    )
    by_patient = found.set_index("patient_id")["missing_workup"]
    missing = by_patient.reindex(cases["patient_id"].astype("str").to_numpy()).fillna("")
    return pd.Series(missing.to_numpy(), dtype=object).astype("str")
