"""Spec §3 buckets: their names, the reasons shared by every table, and the reconciliation.

Every input row ends in exactly one bucket (used | not_relevant | duplicate | quarantined) and
the manifest reconciles rows_in = used + not_relevant + duplicate + quarantined.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from hyposcreen.rules import sql_engine as engine
from hyposcreen.rules.matching import map_distinct
from hyposcreen.site_words import status_key

USED, NOT_RELEVANT, DUPLICATE, QUARANTINED = "used", "not_relevant", "duplicate", "quarantined"
BUCKETS = (USED, NOT_RELEVANT, DUPLICATE, QUARANTINED)


def malformed_reasons(frame: pd.DataFrame) -> pd.Series:
    """A reason per row, set only for rows the CSV parser could not split (malformed_row) or
    the reader refused (its `malformed_reason`, e.g. oversized_row)."""
    reason = pd.Series(None, index=frame.index, dtype=object)
    if "malformed_text" in frame.columns:
        reason[frame["malformed_text"].notna()] = "malformed_row"
    if "malformed_reason" in frame.columns:  # e.g. oversized_row (ingest.oversized)
        given = frame["malformed_reason"].notna()
        reason[given] = frame.loc[given, "malformed_reason"]
    return reason


def patient_key(patient_id: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Patient ids without surrounding spaces (null stays null), and where one is missing."""
    stripped = patient_id.astype("str").str.strip().where(patient_id.notna())
    return stripped, patient_id.isna() | (stripped == "")


def patient_codes(patient_id: pd.Series) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """patient_key computed once per distinct id: the stripped ids, where one is missing, and
    a code per row that is equal exactly where the stripped ids are (-1 where missing)."""
    encoded = pc.dictionary_encode(engine.text_array(patient_id))
    stripped = pc.utf8_trim_whitespace(encoded.dictionary)
    same = pc.dictionary_encode(stripped)
    blank = pc.equal(stripped, "").to_numpy(zero_copy_only=False)
    codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False)
    key = np.append(same.indices.to_numpy(zero_copy_only=False), -1)[codes]
    missing = np.append(blank, True)[codes]
    key[missing] = -1
    texts = pd.Series(pd.array(pc.take(stripped, encoded.indices), dtype="str"))
    return texts.set_axis(patient_id.index), missing, key


def normalize_status(status: pd.Series) -> pd.Series:
    """Status words as the rules hold them: accents folded, '_' and spaces as one '-'."""
    return map_distinct(status, status_key)


def buckets_of(reason: pd.Series, not_relevant: tuple[str, ...]) -> np.ndarray:
    """The bucket of each row from its reason: none -> used, a not-relevant reason ->
    not_relevant, any other -> quarantined."""
    return np.select(
        [reason.isna(), reason.isin(not_relevant)], [USED, NOT_RELEVANT], default=QUARANTINED
    )


def bucket_sizes(frame: pd.DataFrame) -> dict[tuple[str, str], int]:
    """Rows per (bucket, reason) of one cleaned frame ('' when there is no reason)."""
    if not len(frame):
        return {}
    grouped = frame.groupby(["bucket", frame["reason"].fillna("")], dropna=False).size()
    return {(str(b), str(r)): int(n) for (b, r), n in grouped.items()}


def count_buckets(frame: pd.DataFrame, read_not_relevant: dict[str, int], rows_in: int) -> dict:
    """Reconciliation of one table: rows_in = used + not_relevant + duplicate + quarantined."""
    return reconcile(bucket_sizes(frame), read_not_relevant, rows_in)


def reconcile(
    sizes: dict[tuple[str, str], int], read_not_relevant: dict[str, int], rows_in: int
) -> dict:
    """count_buckets from (bucket, reason) sizes, which partitions of a table can add up."""
    by_bucket = {b: 0 for b in BUCKETS}
    by_reason: dict[str, dict[str, int]] = {b: {} for b in BUCKETS}
    for (bucket, reason), count in sizes.items():
        by_bucket[bucket] += int(count)
        if reason:
            by_reason[bucket][reason] = int(count)
    for reason, count in read_not_relevant.items():
        by_bucket[NOT_RELEVANT] += int(count)
        by_reason[NOT_RELEVANT][reason] = by_reason[NOT_RELEVANT].get(reason, 0) + int(count)
    total = sum(by_bucket.values())
    return {
        "rows_in": rows_in,
        **by_bucket,
        "reasons": {b: dict(sorted(r.items())) for b, r in by_reason.items() if r},
        "reconciled": total == rows_in,
    }
