"""Spec §8: serial figures of each case on corrected values, over-rapid correction, spurious
results (the serial queries read the `results` table registered once per screen)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hyposcreen.arrow_columns import is_listed
from hyposcreen.config import Window
from hyposcreen.rules.loader import RuleSet
from hyposcreen.screen.engine import Tables, microseconds
from hyposcreen.screen.neighbours import spurious_of_table

# per case its last result (before window_end: the results end there; same time: the lower
# corrected value, a missing value first — as the stable pandas order had it) and the most
# recent result strictly before its index, at most `window` earlier (same time: the lower
# corrected value, a missing value last); NULL where there is none
_LATEST_AND_PREVIOUS_SQL = """
WITH latest AS (
    SELECT r.patient_id, r.specimen_time AS latest_time, r.corrected_sodium AS latest_sodium
    FROM results r
    WHERE r.patient_id IN (SELECT patient_id FROM cases)
    QUALIFY row_number() OVER (
        PARTITION BY r.patient_id
        ORDER BY r.specimen_time DESC NULLS LAST, r.corrected_sodium ASC NULLS FIRST
    ) = 1
),
previous AS (
    SELECT c.patient_id, r.specimen_time AS previous_time,
           r.corrected_sodium AS previous_sodium
    FROM cases c JOIN results r
      ON r.patient_id = c.patient_id
     AND epoch_us(r.specimen_time) < epoch_us(c.index_time)
     AND epoch_us(c.index_time) - epoch_us(r.specimen_time) <= $window_us
    QUALIFY row_number() OVER (
        PARTITION BY c.patient_id
        ORDER BY r.specimen_time DESC, r.corrected_sodium IS NULL DESC, r.corrected_sodium ASC
    ) = 1
)
SELECT c.patient_id, l.latest_time, l.latest_sodium, p.previous_time, p.previous_sodium
FROM cases c
LEFT JOIN latest l ON l.patient_id = c.patient_id
LEFT JOIN previous p ON p.patient_id = c.patient_id
ORDER BY c.patient_id
"""


def latest_and_previous(db: Tables, cases: pd.DataFrame, hours: float) -> pd.DataFrame:
    """Per case (`cases`: patient_id, index_time) in patient order: its latest registered
    result (latest_time, latest_sodium) and its previous result within `hours` before the
    index, 0 < gap <= hours (previous_time, previous_sodium; null when none)."""
    time_type = db.dtype("results", "specimen_time")
    return db.query(
        _LATEST_AND_PREVIOUS_SQL,
        {"window_us": microseconds(pd.Timedelta(hours=hours))},
        {
            "patient_id": cases["patient_id"].dtype,
            "latest_time": time_type,
            "latest_sodium": "float64",
            "previous_time": time_type,
            "previous_sodium": "float64",
        },
        frames={"cases": cases[["patient_id", "index_time"]].astype({"patient_id": "str"})},
    )


def latest_and_delta(db: Tables, cases: pd.DataFrame, rules: RuleSet) -> pd.DataFrame:
    """latest_sodium/latest_time (last result before window_end; same time → the lower) and
    delta_48h (index minus the most recent earlier result within 48 h, context included);
    `results` is registered in `db`."""
    serial = latest_and_previous(db, cases, rules.windows.delta_window_hours)
    out = cases.merge(serial, on="patient_id", how="left")
    out["delta_48h"] = (out["corrected_sodium"] - out["previous_sodium"]).round(9)
    return out


# Spec §8: every pair of results of a case's patient inside its [start_us, end_us) (a case of
# windows screened at once carries its window's bounds): a hyponatremic,
# b later by at most the window, rising by more than the case's limit; the steepest rise
# per case (ties: the earliest a, then the earliest b, then the lower a, then the lower b)
_OVERCORRECTION_SQL = """
WITH inside AS (
    SELECT r.patient_id, r.specimen_time, epoch_us(r.specimen_time) AS at_us,
           r.corrected_sodium, r.hyponatremic
    FROM results r JOIN cases c ON c.patient_id = r.patient_id
    WHERE epoch_us(r.specimen_time) >= c.start_us AND epoch_us(r.specimen_time) < c.end_us
),
pairs AS (
    SELECT a.patient_id,
           a.specimen_time AS oc_from_time, a.corrected_sodium AS oc_from_sodium,
           b.specimen_time AS oc_to_time, b.corrected_sodium AS oc_to_sodium,
           round9(b.corrected_sodium - a.corrected_sodium) AS oc_rise
    FROM inside a JOIN inside b
      ON b.patient_id = a.patient_id
     AND b.at_us > a.at_us AND b.at_us - a.at_us <= $window_us
    WHERE a.hyponatremic
)
SELECT p.patient_id, oc_from_time, oc_from_sodium, oc_to_time, oc_to_sodium, oc_rise
FROM pairs p JOIN cases c ON c.patient_id = p.patient_id
WHERE p.oc_rise > c."limit"
QUALIFY row_number() OVER (
    PARTITION BY p.patient_id
    ORDER BY oc_rise DESC, oc_from_time, oc_to_time, oc_from_sodium, oc_to_sodium
) = 1
ORDER BY p.patient_id
"""


def overcorrection_pairs(
    db: Tables,
    cases: pd.DataFrame,
    window: Window,
    rules: RuleSet,
    windows: list[Window] | None = None,
    numbers: np.ndarray | None = None,
) -> pd.DataFrame:
    """The steepest over-rapid rise per case: a hyponatremic result a, a later result b with
    0 < b.time - a.time <= 24 h and b - a > the case's limit (`limit` column of `cases`),
    both inside [window_start - 72 h, window_end). Ties: the earliest pair. `results`
    (patient_id, specimen_time, corrected_sodium, hyponatremic) is registered in `db`.
    With `windows` (several screened at once) each case's window is `windows[n]`, n its
    number in `numbers` (one per case)."""
    bounds = [overcorrection_bounds(w, rules) for w in (windows or [window])]
    starts, ends = (np.array(side, dtype=np.int64) for side in zip(*bounds))
    number = numbers if numbers is not None else np.zeros(len(cases), dtype=np.int64)
    hours = pd.Timedelta(hours=rules.windows.overcorrection_window_hours)
    time_type = db.dtype("results", "specimen_time")
    frame = cases[["patient_id", "limit"]].astype({"patient_id": "str"})
    frame = frame.assign(start_us=starts[number], end_us=ends[number])
    return db.query(
        _OVERCORRECTION_SQL,
        {"window_us": microseconds(hours)},
        {
            "patient_id": cases["patient_id"].dtype,
            "oc_from_time": time_type,
            "oc_from_sodium": "float64",
            "oc_to_time": time_type,
            "oc_to_sodium": "float64",
            "oc_rise": "float64",
        },
        frames={"cases": frame},
    )


def overcorrection_bounds(window: Window, rules: RuleSet) -> tuple[int, int]:
    """[start, end) in microseconds of the results an over-rapid correction is sought in."""
    start = window.start - pd.Timedelta(hours=rules.windows.context_hours_before_window)
    return microseconds(pd.Timestamp(start)), microseconds(pd.Timestamp(window.end))


# Spec §8 delta check: each result against the patient's nearest earlier and nearest later
# time with a result (a result at the very same time is no neighbour); when several results
# share a neighbouring time, the lowest of them counts, so the flag never rests on the order
# of rows in a file and a drop must be that far below every result at that time
_SPURIOUS_SQL = """
WITH moments AS (
    SELECT patient_id, epoch_us(specimen_time) AS at_us, min(corrected_sodium) AS lowest,
           min(row) AS one_row
    FROM results
    GROUP BY patient_id, epoch_us(specimen_time)
),
neighbours AS (
    SELECT patient_id, at_us,
           lag(at_us) OVER by_time AS before_us, lag(lowest) OVER by_time AS before_value,
           lead(at_us) OVER by_time AS after_us, lead(lowest) OVER by_time AS after_value,
           lag(one_row) OVER by_time AS before_row, lead(one_row) OVER by_time AS after_row
    FROM moments
    WINDOW by_time AS (PARTITION BY patient_id ORDER BY at_us)
)
SELECT r.row, n.before_row, n.after_row
FROM results r JOIN neighbours n
  ON n.patient_id = r.patient_id AND n.at_us = epoch_us(r.specimen_time)
WHERE n.at_us - n.before_us <= $window_us AND n.after_us - n.at_us <= $window_us
  AND round9(n.before_value - r.corrected_sodium) >= $drop
  AND round9(n.after_value - r.corrected_sodium) >= $drop
ORDER BY r.row
"""


def possibly_spurious(results: pd.DataFrame, rules: RuleSet, db: Tables | None = None) -> pd.Series:
    """Spec §8 delta check: a result at least `spurious_drop_mmol_l` (corrected) below both the
    patient's previous and next results, each within `spurious_neighbour_hours` of it. Results
    at the same time as the one checked are not its neighbours; of several results at the
    neighbouring time, the lowest counts (never the order of the rows). Aligned to `results`'
    index;
    `db`, when given, holds `results` with `row` = the position in `results`."""
    if db is None:
        columns = results[["patient_id", "specimen_time", "corrected_sodium"]]
        frame = columns.astype({"patient_id": "str"}).assign(row=np.arange(len(results)))
        with Tables({"results": frame}) as own:
            return possibly_spurious(results, rules, own)
    flagged = spurious_neighbours(db, rules)
    hit = np.zeros(len(results), dtype=bool)
    hit[flagged["row"].to_numpy()] = True
    return pd.Series(hit, index=results.index, dtype=bool)


def spurious_neighbours(db: Tables, rules: RuleSet) -> pd.DataFrame:
    """The possibly spurious results of the registered `results` (patient_id, specimen_time,
    corrected_sodium, row): `row`, and `before_row` / `after_row`, a result at the
    neighbouring time each side (the lowest `row` there). Found on the registered Arrow
    table with one sort (neighbours.py) when its times allow, else by `_SPURIOUS_SQL`."""
    window_us = microseconds(pd.Timedelta(hours=rules.windows.spurious_neighbour_hours))
    drop = float(rules.limits.spurious_drop_mmol_l)
    registered = db.arrow("results")
    found = spurious_of_table(registered, window_us, drop) if registered is not None else None
    if found is not None:
        return found
    return db.query(
        _SPURIOUS_SQL,
        {"window_us": window_us, "drop": drop},
        {"row": "int64", "before_row": "int64", "after_row": "int64"},
    )


def spurious_of_some(
    results: pd.DataFrame, rules: RuleSet, known: np.ndarray, again: np.ndarray
) -> pd.Series:
    """`possibly_spurious` of `results` where each patient's flags are `known` already (a
    boolean per result), but for the patients of the `again` mask, whose flags are found here
    (each patient's flags depend on that patient's results only)."""
    hit = np.asarray(known, dtype=bool).copy()
    redo = is_listed(results["patient_id"], results.loc[again, "patient_id"])
    if redo.any():
        hit[redo] = possibly_spurious(results.loc[redo], rules).to_numpy()
    return pd.Series(hit, index=results.index, dtype=bool)


def spurious_basis(cases: pd.DataFrame, results: pd.DataFrame) -> pd.Series:
    """Per case: which of its key results is possibly spurious — "index", "overcorrection_pair"
    or both (";"-joined), "" when none. `results` carries `possibly_spurious`. A key result is
    known by its time and its corrected value: another result at the same time that is
    possibly spurious does not make the pair's result so."""
    columns = ["patient_id", "specimen_time", "corrected_sodium"]
    flagged = results.loc[results["possibly_spurious"], columns]
    keys = pd.MultiIndex.from_frame(flagged)

    def hit(times: pd.Series, values: pd.Series) -> pd.Series:
        wanted = pd.MultiIndex.from_arrays([cases["patient_id"], times, values])
        return pd.Series(wanted.isin(keys), index=cases.index, dtype=bool)

    index = hit(cases["index_time"], cases["corrected_sodium"])
    pair = pd.Series(False, index=cases.index)
    for time, value in (("oc_from_time", "oc_from_sodium"), ("oc_to_time", "oc_to_sodium")):
        if time in cases:
            pair |= hit(cases[time], cases[value])
    text = pd.Series("", index=cases.index, dtype=object)
    text = text.where(~index, "index")
    both = index & pair
    text = text.where(~(pair & ~index), "overcorrection_pair")
    return text.where(~both, "index;overcorrection_pair").astype("str")
