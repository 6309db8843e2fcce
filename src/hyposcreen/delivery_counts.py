"""Counts of a run's cleaned tables that its warnings judge (patient_overlap, patient_id_forms,
date_only_times), made by the clean stage and carried to publish: in one process, or per
patient-hash partition and added up (one patient's rows of every table meet in one
partition). Counts only, no value from the extract: `{check: {table: (count, count)}}`, as
JSON carries it between processes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyarrow as pa

from hyposcreen.date_only_times import DateOnlyCounts, date_only_times, date_only_warnings
from hyposcreen.patient_id_forms import (
    IdForms,
    NearMatches,
    apostrophe_matches,
    case_matches,
    id_form_warnings,
    id_forms,
    near_match_warnings,
    near_matches,
)
from hyposcreen.patient_overlap import (
    SharedPatients,
    distinct_ids,
    scientific_count,
    scientific_id_warnings,
    shared_patients,
    unmatched_patient_warnings,
)
from hyposcreen.rules.loader import WarningThresholds
from hyposcreen.run_warnings import RunWarning
from hyposcreen.validate.remembered import frame_identity

DeliveryCounts = dict[str, dict[str, tuple[int, int]]]


def count_delivery(
    labs: pd.DataFrame, medications: pd.DataFrame, diagnoses: pd.DataFrame, source: str
) -> DeliveryCounts:
    """The counts of one run (or partition) of a `source` layout. Date-only specimen times
    are judged where date_only_times judges them (canonical: a date column mapped as the
    time; OMOP: `measurement_date` without `measurement_datetime`; FHIR: an Observation's
    effective time written as a date alone), under the table named."""
    tables = {"labs": labs, "medications": medications, "diagnoses": diagnoses}
    ids = {name: table_ids(name, frame) for name, frame in tables.items()}
    return counts_of_ids(ids, date_only_times(labs, source))


def counts_of_ids(
    ids: Mapping[str, TableIds],
    date_only: DateOnlyCounts | None,
    shared: SharedPatients | None = None,
    case: NearMatches | None = None,
    quoted: NearMatches | None = None,
) -> DeliveryCounts:
    """`count_delivery`'s counts from each table's `TableIds` (the labs' first) and the labs'
    date-only counts by the table they are judged as (None: not judged); `shared`: their
    shared_patients, `case`: their case_matches, `quoted`: their apostrophe_matches, when
    known."""
    counts = {
        "shared_patients": (
            shared
            if shared is not None
            else shared_patients({n: t.distinct for n, t in ids.items()})
        ),
        "scientific_ids": {name: (len(t.distinct), t.scientific) for name, t in ids.items()},
        "near_matches": near_matches({name: t.forms for name, t in ids.items()}),
        "case_matches": (
            case if case is not None else case_matches({name: t.forms for name, t in ids.items()})
        ),
        "apostrophe_matches": (
            quoted
            if quoted is not None
            else apostrophe_matches({name: t.forms for name, t in ids.items()})
        ),
    }
    if date_only is not None:
        counts["date_only_times"] = date_only
    return counts


@dataclass(frozen=True)
class TableIds:
    """What a table's patient ids say on their own: its distinct ids, their forms and how many
    are in scientific notation (only counts are taken of them: the order of the ids is none
    of theirs)."""

    distinct: pa.Array
    forms: IdForms
    scientific: int


# table -> (identity of its patient-id column, the arrays that identity names, its TableIds):
# the windows of one read count the same medications and diagnoses every night
_LAST: dict[str, tuple[Any, list[Any], TableIds]] = {}


def table_ids(name: str, frame: pd.DataFrame) -> TableIds:
    """`TableIds` of `frame`, taken again only when its patient ids are not the very arrays
    of the last frame of table `name` (memory only, held with those arrays)."""
    holders: list[Any] = []
    if frame.columns.is_unique:  # the column alone, without looking its name up as a list
        ids = frame["patient_id"].to_frame().reset_index(drop=True)
    else:
        ids = frame[["patient_id"]].reset_index(drop=True)
    identity = frame_identity(ids, holders)
    last = _LAST.get(name)
    if identity is not None and last is not None and last[0] == identity:
        return last[2]
    distinct = distinct_ids(frame)
    found = TableIds(distinct, id_forms(distinct), scientific_count(distinct))
    if identity is None:
        _LAST.pop(name, None)
    else:
        _LAST[name] = (identity, holders, found)
    return found


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


def delivery_warnings(
    counts: DeliveryCounts | None,
    limits: WarningThresholds,
    lab_source_counts: Mapping[str, Mapping[str, int]] | None = None,
) -> list[RunWarning]:
    """The warnings the counts call for; `lab_source_counts`: the labs table's source_counts
    (the columns its source files lack, which a date-only warning names)."""
    if counts is None:
        return []
    return (
        unmatched_patient_warnings(counts.get("shared_patients"), limits)
        + scientific_id_warnings(counts.get("scientific_ids"))
        + near_match_warnings(counts.get("near_matches"), limits)
        + id_form_warnings(
            counts.get("near_matches"),
            counts.get("case_matches"),
            limits,
            counts.get("apostrophe_matches"),
        )
        + date_only_warnings(counts.get("date_only_times"), limits, lab_source_counts)
    )
