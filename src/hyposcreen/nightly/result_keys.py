"""The key a nightly run remembers each sodium result by, so that a later night tells a
result it has seen from one reported late."""

from __future__ import annotations

import pandas as pd

from hyposcreen.ingest.clock_folds import second_marks

_ISO = "%Y-%m-%dT%H:%M:%S"


def result_keys(sodium: pd.DataFrame) -> pd.Series:
    """A 64-bit digest per result (patient, collection time, analyte, value as received), as a
    signed integer for SQLite; pandas' hash uses a fixed key, so it is stable across runs. A
    repeated hour's second occurrence keys apart from the first (`clock_folds`)."""
    time = sodium["specimen_time"].dt.strftime(_ISO)
    second = second_marks(sodium, "specimen_time")
    if second is not None:
        time = time.where(~second, time + " second")
    parts = pd.DataFrame(
        {
            "patient_id": sodium["patient_id"].astype("str"),
            "specimen_time": time,
            "analyte": sodium["analyte"].astype("str"),
            "value_raw": sodium["value_raw"].astype("str").fillna(""),
        }
    )
    digest = pd.util.hash_pandas_object(parts, index=False).to_numpy().view("int64")
    return pd.Series(digest, index=sodium.index, dtype="int64")
