"""Spec §8 delta check on arrays: each sodium result against the patient's nearest earlier and
nearest later time with a result, found with one sort of the results instead of a window query.

It computes what serial's `_SPURIOUS_SQL` computes, on the Arrow table the screen registered as
`results` (patient_id, specimen_time, corrected_sodium, row): the results are grouped into
moments (patient, time in microseconds; the lowest corrected value and the lowest row of each),
the moments sorted by patient and time, each moment's neighbours are the moments before and
after it of the same patient, and a result is flagged when both neighbours are within the
window of its moment and, rounded to 9 decimals as `round9` rounds (half to even on x * 1e9),
at least `drop` above its corrected value. A result without patient or time is never flagged
and is no moment (in SQL its NULL time sorts after every time, so it only ever is a NULL
neighbour, which flags nothing); a missing value is left out of its moment's lowest and flags
nothing. Times in nanoseconds or with a zone are left to the query (None).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

_MICRO_UNITS = ("s", "ms", "us")  # units whose epoch microseconds are exact


def spurious_of_table(results: pa.Table, window_us: int, drop: float) -> pd.DataFrame | None:
    """`row`, `before_row`, `after_row` (int64, by row) of the flagged results of `results`;
    None when its times are not naive times in seconds to microseconds or a value is a NaN
    that is not NULL (the query decides those)."""
    time = results.column("specimen_time")
    if not pa.types.is_timestamp(time.type) or time.type.tz is not None:
        return None
    if time.type.unit not in _MICRO_UNITS:
        return None
    patient = pc.dictionary_encode(results.column("patient_id").combine_chunks())
    code = patient.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    at_us = pc.cast(time, pa.timestamp("us")).cast(pa.int64()).combine_chunks()
    known = (code >= 0) & ~np.asarray(at_us.is_null(), dtype=bool)
    at = at_us.fill_null(0).to_numpy(zero_copy_only=False)
    value = pc.cast(results.column("corrected_sodium"), pa.float64()).combine_chunks()
    if pc.any(pc.is_nan(value)).as_py():  # a NaN that is no NULL: DuckDB orders it above all
        return None
    sodium = value.to_numpy(zero_copy_only=False)  # NULL as NaN
    row = results.column("row").combine_chunks().to_numpy(zero_copy_only=False).astype(np.int64)
    kept = np.flatnonzero(known)
    order = kept[np.lexsort((at[kept], code[kept]))]
    if not len(order):
        return _flagged(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64))
    m_code, m_at = code[order], at[order]
    starts = np.flatnonzero(np.r_[True, (m_code[1:] != m_code[:-1]) | (m_at[1:] != m_at[:-1])])
    first = np.zeros(len(order), dtype=bool)
    first[starts] = True
    moment_of = np.full(len(code), -1, dtype=np.int64)
    moment_of[order] = np.cumsum(first) - 1  # each sorted result's moment
    m_code, m_at = m_code[starts], m_at[starts]
    lowest = np.fmin.reduceat(sodium[order], starts)  # NULLs left out, as min() does
    one_row = np.minimum.reduceat(row[order], starts)
    same_before = np.r_[False, m_code[1:] == m_code[:-1]]
    same_after = np.r_[m_code[1:] == m_code[:-1], False]
    near = (
        same_before
        & same_after
        & (m_at - np.r_[0, m_at[:-1]] <= window_us)
        & (np.r_[m_at[1:], 0] - m_at <= window_us)
    )
    mine = kept[near[moment_of[kept]]]
    at_moment = moment_of[mine]
    before, after = at_moment - 1, at_moment + 1
    with np.errstate(invalid="ignore"):
        dropped = (_round9(lowest[before] - sodium[mine]) >= drop) & (
            _round9(lowest[after] - sodium[mine]) >= drop
        )
    flagged = mine[dropped]
    by_row = np.argsort(row[flagged], kind="stable")
    flagged, before, after = flagged[by_row], before[dropped][by_row], after[dropped][by_row]
    return _flagged(row[flagged], one_row[before], one_row[after])


def _round9(values: np.ndarray) -> np.ndarray:
    """`round9`: half to even on x * 1e9, then / 1e9 (NaN stays NaN)."""
    return np.rint(values * 1e9) / 1e9


def _flagged(row: np.ndarray, before_row: np.ndarray, after_row: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "row": np.asarray(row, dtype=np.int64),
            "before_row": np.asarray(before_row, dtype=np.int64),
            "after_row": np.asarray(after_row, dtype=np.int64),
        }
    )
