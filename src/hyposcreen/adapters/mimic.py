"""MIMIC-IV `hosp` adapter (`--source mimic`): labevents, prescriptions, diagnoses_icd, patients.

Files are `<table>.csv` or `.csv.gz` (also Parquet, a folder per table, upper-case names) in
the input folder or its `hosp/` subfolder. `admissions` is required (diagnosis times, below);
`d_labitems`, `patients` and `d_icd_diagnoses` are optional. A table delivered only in an archive
(`labevents.csv.zip`) stops the run naming the archive and saying to unpack it: the CSV reader's
passes (the line scan, the header probes, Arrow's CSV reader) open plain and gzip files only,
and a zip is an archive of members, not one compressed stream.

Labs: each `itemid` is identified once, not per row. A site lab dictionary entry for the item id
wins, then the shipped `rules/mimic_labitems.csv` (only while the extract's `d_labitems` names the
item as it does, or lacks it: its item ids are recalled, the extract's label is the data), then
the `d_labitems` label through the lab dictionary. The `d_labitems` fluid is the specimen type,
so a sodium item measured in urine is urine sodium and one in ascites or pleural fluid is not
relevant — never serum sodium (the same rule as the canonical path,
`rules.matching.identify_analytes`). `labevents` (100M+ rows in
MIMIC-IV) is read with a projection and filtered to the relevant item ids in Arrow before any
pandas conversion. value_raw = `value` (`___` and text are quarantined as non-numeric unless
`valuenum` holds a number), unit = `valueuom`, specimen_time = `charttime`, result_time =
`storetime`, specimen_id and hadm_id (encounter) are kept. A result with no value whose
`comments` say it was cancelled gets status `cancelled` (quarantined with that reason).

Diagnosis times: `diagnoses_icd` rows carry no time. They are billing codes assigned for a whole
hospital stay, so a code is dated at the start of its `hadm_id`'s stay: the `admittime`, or the
`edregtime` when the patient was registered in the emergency department before (the stay's first
sodium is often drawn there). The conditions of spec §6 (cirrhosis, heart failure, CKD, SIADH,
alcohol use, malnutrition) are present during the stay they were coded for, and a retrospective
screen of that stay must see them at its sodium results; `dischtime` would hide every condition
of the stay in which the hyponatremia happened. For a nightly screen the codes of a stay exist
only after discharge, so the current stay contributes no codes and nothing leaks; previous stays
count from their admission. A code whose hadm_id is not in `admissions` has no time and is
quarantined (missing_key); one of a listed condition warns (adapters._mimic_diagnoses).

MIMIC-III spellings (upper-case names, prescriptions startdate/enddate, diagnoses icd9_code)
are read too.

Patients: MIMIC-IV has no birth date (only anchor_age/anchor_year in a shifted calendar); the
birth date stays empty rather than being guessed. sex = `gender`.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path

import pandas as pd

from hyposcreen.adapters._files import (
    SourceTable,
    finish,
    first_present,
    id_text,
    listing,
    packed_tables,
    parts_folder,
    split_tables,
)
from hyposcreen.adapters._mimic_diagnoses import read_diagnoses
from hyposcreen.adapters._mimic_lab_items import dictionary_counts
from hyposcreen.adapters._mimic_labs import (
    SUBFOLDERS,
    Reader,
    identify_items,
    mimic_files,
    read_labevents,
)
from hyposcreen.config import SiteMapping, Window
from hyposcreen.errors import InputError
from hyposcreen.ingest.canonical import SCHEMAS, IngestedTable
from hyposcreen.ingest.tabular import RowFilter, empty_frame
from hyposcreen.rules.loader import RuleSet

__all__ = ["check_layout", "identify_items", "input_files", "read_table"]

SOURCE_TABLES = {
    "labs": "labevents",
    "medications": "prescriptions",
    "diagnoses": "diagnoses_icd",
    "patients": "patients",
}
REQUIRED = ("labevents", "prescriptions", "diagnoses_icd", "admissions")
OPTIONAL = ("d_labitems", "patients", "d_icd_diagnoses")
# canonical columns each table is mapped onto (the rest stay empty)
MAPPED_COLUMNS = {
    "labs": ("patient_id", "encounter_id", "specimen_id", "specimen_time", "result_time",
             "value_raw", "value", "unit", "lab_name", "specimen_type", "status", "ref_low",
             "ref_high", "source_row"),
    "medications": ("patient_id", "encounter_id", "drug_name", "start_time", "end_time", "route",
                    "source_row"),
    "diagnoses": ("patient_id", "encounter_id", "code", "code_system", "recorded_time",
                  "description", "source_row"),
    "patients": ("patient_id", "sex", "source_row"),
}  # fmt: skip
_AUXILIARY = {
    "labs": ("d_labitems",),
    "diagnoses": ("admissions", "d_icd_diagnoses"),
}


def check_layout(input_dir: Path) -> None:
    """Raise InputError unless the required tables are there and no table lies in an archive
    (`labevents.csv.zip`: a reader of gzip streams would have to unpack it first)."""
    if packed := packed_tables(input_dir, (*REQUIRED, *OPTIONAL), SUBFOLDERS):
        raise InputError(f"MIMIC-IV extract {input_dir}: {packed}")
    missing = [t for t in REQUIRED if not mimic_files(input_dir, t)]
    if missing:
        split = split_tables(input_dir, missing, SUBFOLDERS)
        raise InputError(
            f"Input folder {input_dir} does not look like a MIMIC-IV hosp extract: no "
            f"{', '.join(missing)} table. --source mimic expects {', '.join(REQUIRED)} (and "
            f"optionally {', '.join(OPTIONAL)}) as .csv or .csv.gz files, or a folder of parts "
            f"named after the table, in the folder or its hosp/ subfolder. Found: "
            f"{listing(input_dir, SUBFOLDERS)}.{' ' + split if split else ''}"
        )


def input_files(input_dir: Path, name: str) -> list[Path]:
    """The table's files plus the dictionaries / admissions its mapping reads."""
    files = mimic_files(input_dir, SOURCE_TABLES[name])
    for table in _AUXILIARY.get(name, ()):
        files += mimic_files(input_dir, table)
    return files


def read_table(
    input_dir: Path,
    name: str,
    mapping: SiteMapping,
    rules: RuleSet,
    window: Window,
    row_filter: RowFilter | None,
) -> IngestedTable:
    schema = SCHEMAS[name]
    stem = SOURCE_TABLES[name]
    files = mimic_files(input_dir, stem)
    if not files:
        if name == "patients":
            return IngestedTable(name, empty_frame(schema), rows_in=0)
        check_layout(input_dir)
    if name == "diagnoses":  # dated by admissions: required
        check_layout(input_dir)
    table = SourceTable(stem, files, mapping, parts_folder=parts_folder(input_dir, stem, files))
    reader = {
        "labs": read_labevents,
        "medications": _read_prescriptions,
        "diagnoses": read_diagnoses,
        "patients": _read_patients,
    }[name]
    frames, not_relevant, unmapped, extra = reader(
        input_dir, table, rules, mapping, row_filter or RowFilter()
    )
    counts, places = dictionary_counts(extra)
    ingested = table.ingested(
        schema,
        frames,
        not_relevant,
        unmapped,
        MAPPED_COLUMNS[name],
        extra_files=[r for t in extra for r in t.records],
        extra_counts=counts,
        extra_tables=extra,
    )
    return dataclasses.replace(ingested, auxiliary_places=places)


# ------------------------------------------------------------------ prescriptions

# MIMIC-III spelled the times startdate/enddate: read too
_PRESCRIPTIONS = (
    "subject_id", "hadm_id", "starttime", "stoptime", "startdate", "enddate", "drug", "route",
)  # fmt: skip


def _read_prescriptions(
    input_dir: Path, table: SourceTable, rules: RuleSet, mapping: SiteMapping, row_filter: RowFilter
) -> Reader:
    not_relevant: Counter[str] = Counter()
    unmapped: Counter[str] = Counter()
    frames = []
    for raw in table.batches(
        _PRESCRIPTIONS, required=("subject_id", "drug"), one_of=("starttime", "startdate")
    ):
        frame = pd.DataFrame(
            {
                "patient_id": id_text(raw["subject_id"]),
                "encounter_id": id_text(raw["hadm_id"]),
                "drug_name": raw["drug"],
                "start_time": first_present(raw, ["starttime", "startdate"]),
                "end_time": first_present(raw, ["stoptime", "enddate"]),
                "route": raw["route"],
                "source_file": raw["source_file"],
                "source_row": raw["source_row"],
            }
        )
        unmapped["no_drug_name"] += int(raw["drug"].isna().sum())
        frames.append(finish(frame, SCHEMAS["medications"], mapping, row_filter, not_relevant))
    return frames, not_relevant, unmapped, []


# ------------------------------------------------------------------ patients


def _read_patients(
    input_dir: Path, table: SourceTable, rules: RuleSet, mapping: SiteMapping, row_filter: RowFilter
) -> Reader:
    not_relevant: Counter[str] = Counter()
    frames = []
    for raw in table.batches(("subject_id", "gender"), required=("subject_id",)):
        frame = pd.DataFrame(
            {
                "patient_id": id_text(raw["subject_id"]),
                "sex": raw["gender"],
                "source_file": raw["source_file"],
                "source_row": raw["source_row"],
            }
        )
        frames.append(finish(frame, SCHEMAS["patients"], mapping, row_filter, not_relevant))
    return frames, not_relevant, Counter(), []
