"""The canonical tables of spec §1: column names, which are required, and their dtypes.

Foundation data (like the rules): the site mapping checks its column names against it before
anything is read, and every reader and adapter writes frames of these columns.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TableSchema:
    name: str
    required: tuple[str, ...]
    one_of: tuple[str, ...]  # at least one of these must be present
    optional: tuple[str, ...]
    time_columns: tuple[str, ...]
    float_columns: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.one_of + self.optional


LABS = TableSchema(
    name="labs",
    required=("patient_id", "specimen_time", "value_raw", "unit"),
    one_of=("loinc", "lab_name"),
    optional=(
        "encounter_id",
        "specimen_id",
        "result_time",
        "value",
        "ref_low",
        "ref_high",
        "status",
        "specimen_type",
        "source_row",
    ),
    time_columns=("specimen_time", "result_time"),
    float_columns=("value", "ref_low", "ref_high"),
)
MEDICATIONS = TableSchema(
    name="medications",
    required=("patient_id", "start_time"),
    one_of=("drug_name", "rxnorm", "atc"),
    optional=("end_time", "status", "route", "encounter_id", "source_row"),
    time_columns=("start_time", "end_time"),
)
DIAGNOSES = TableSchema(
    name="diagnoses",
    required=("patient_id", "code", "code_system", "recorded_time"),
    one_of=(),
    optional=("status", "encounter_id", "description", "source_row"),
    time_columns=("recorded_time",),
)
PATIENTS = TableSchema(
    name="patients",
    required=("patient_id",),
    one_of=(),
    optional=("mrn", "name", "birth_date", "sex", "unit", "ward", "source_row"),
    time_columns=(),
)
SCHEMAS = {s.name: s for s in (LABS, MEDICATIONS, DIAGNOSES, PATIENTS)}
REQUIRED_TABLES = ("labs", "medications", "diagnoses")

# Columns every ingested frame carries besides the canonical ones.
PROVENANCE = ("source_file", "source_row")
