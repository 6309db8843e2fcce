"""Counts of a run's cleaned tables that its warnings judge (patient_overlap, patient_id_forms,
date_only_times), made by the clean stage and carried to publish: in one process, or per
patient-hash partition and added up (one patient's rows of every table meet in one
partition). Counts only, no value from the extract: `{check: {table: (count, count)}}`, as
JSON carries it between processes."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from hyposcreen.date_only_times import date_only_times, date_only_warnings
from hyposcreen.patient_id_forms import near_match_warnings, near_matches
from hyposcreen.patient_overlap import (
    distinct_ids,
    scientific_id_warnings,
    scientific_ids,
    shared_patients,
    unmatched_patient_warnings,
)
from hyposcreen.rules.loader import WarningThresholds
from hyposcreen.run_warnings import RunWarning

DeliveryCounts = dict[str, dict[str, tuple[int, int]]]


def count_delivery(
    labs: pd.DataFrame, medications: pd.DataFrame, diagnoses: pd.DataFrame, canonical: bool
) -> DeliveryCounts:
    """The counts of one run (or partition). Date-only specimen times are judged in the
    canonical layout only: there they are a date column mapped as the time, where OMOP's
    `measurement_date` without a `measurement_datetime` is the standard's own fallback."""
    tables = {"labs": labs, "medications": medications, "diagnoses": diagnoses}
    ids = {name: distinct_ids(frame) for name, frame in tables.items()}
    counts = {
        "shared_patients": shared_patients(ids),
        "scientific_ids": scientific_ids(ids),
        "near_matches": near_matches(ids),
    }
    if canonical:
        counts["date_only_times"] = {"labs": date_only_times(labs)}
    return counts


def as_counts(raw: Mapping[str, Mapping[str, object]] | None) -> DeliveryCounts | None:
    """`DeliveryCounts` from their JSON form (pairs as lists)."""
    if raw is None:
        return None
    return {
        check: {table: (int(pair[0]), int(pair[1])) for table, pair in tables.items()}  # type: ignore[index]
        for check, tables in raw.items()
    }


def add_counts(parts: list[DeliveryCounts]) -> DeliveryCounts | None:
    """The counts of patient-hash partitions added up (None when no partition had them)."""
    if not parts:
        return None
    total: DeliveryCounts = {}
    for part in parts:
        for check, tables in part.items():
            into = total.setdefault(check, {})
            for table, (first, second) in tables.items():
                had = into.get(table, (0, 0))
                into[table] = (had[0] + first, had[1] + second)
    return total


def delivery_warnings(counts: DeliveryCounts | None, limits: WarningThresholds) -> list[RunWarning]:
    if counts is None:
        return []
    return (
        unmatched_patient_warnings(counts.get("shared_patients"), limits)
        + scientific_id_warnings(counts.get("scientific_ids"))
        + near_match_warnings(counts.get("near_matches"), limits)
        + date_only_warnings(counts.get("date_only_times", {}).get("labs"), limits)
    )
