"""Spec §3: every input row gets exactly one bucket and a reason; values parsed, units converted.

Buckets: used | not_relevant | duplicate | quarantined. When a row has several problems the
first of this order wins: not relevant, missing key, status, non-numeric, bad unit,
implausible, duplicate. Rows dropped while reading (analyte of no interest, outside the read
window) are counted by the reader (clean.selector); everything else is decided here, with the
rule tables joined in the engine (rules.sql_engine): labs in clean.labs / clean.lab_sql,
medications and diagnoses in clean.events, buckets and the reconciliation in clean.buckets.
"""

from hyposcreen.clean.buckets import (
    BUCKETS,
    DUPLICATE,
    NOT_RELEVANT,
    QUARANTINED,
    USED,
    bucket_sizes,
    count_buckets,
    reconcile,
)
from hyposcreen.clean.events import clean_diagnoses, clean_medications
from hyposcreen.clean.labs import clean_labs
from hyposcreen.clean.selector import lab_row_filter, read_window_start

__all__ = [
    "BUCKETS",
    "DUPLICATE",
    "NOT_RELEVANT",
    "QUARANTINED",
    "USED",
    "bucket_sizes",
    "clean_diagnoses",
    "clean_labs",
    "clean_medications",
    "count_buckets",
    "lab_row_filter",
    "read_window_start",
    "reconcile",
]
