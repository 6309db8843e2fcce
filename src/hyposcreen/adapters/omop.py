"""OMOP CDM 5.4 adapter (`--source omop`): measurement, drug_exposure, condition_occurrence, person.

Tables are CSV (comma- or tab-delimited, any suffix .csv/.tsv/.txt, optionally gzipped) or
Parquet, one file or a folder of parts per table, table and column names in any letter case,
in the input folder or in one subfolder each (`cdm/`, `vocabulary/`). A table that is read but
lies only in an archive (`measurement.csv.zip`) stops the run naming it. `concept` and
`concept_ancestor` are used when present, the shipped `rules/omop_concepts.csv` fills in (a
table of a header alone is read as absent). Of `concept` every id is also collected: rows naming
an id it lacks are counted, and warn when nothing else tells them (_omop_concept_ids,
omop_vocabulary_gaps). `visit_occurrence` is not needed (visit ids are kept as encounter ids);
`concept_relationship` is not read (the `*_concept_id` columns hold the standard concept a
source concept `Maps to`).

Mapping (decisions where the CDM leaves room are marked *):
- measurement: LOINC from `measurement_concept_id` (then `measurement_source_concept_id`) via
  the vocabulary, else `measurement_source_value` when it is LOINC-shaped, else that value is the
  lab name for the lab dictionary. A standard concept that is a LOINC outside spec §2 is dropped
  in Arrow as `unknown_loinc`. `value_raw` is the operator plus `value_as_number` (`<100`), else
  `value_source_value` (`HEMOLYZED`, `___` are quarantined as non-numeric by the cleaner).
  *`value_as_number` is a database number: its one separator is the decimal sign, so at a
  site with `csv: {decimal: ","}` `135.000` is 135 (written `135,000` in value_raw, the site's
  convention cleaning reads), never 135000; the site's own text (`3,2`) reads as before.
  *Unit: UCUM code of `unit_concept_id`, else `unit_source_value`. *specimen_time:
  `measurement_datetime`, else `measurement_date` (+ `measurement_time` when given); a
  datetime holding a date alone or 00:00 takes the clock time `measurement_time` holds (an ETL
  that filled the datetime from the date: _omop_labs._specimen_time); a row
  dated by a date alone (`measurement_date` alone, or a `measurement_datetime` holding a date
  without a clock time) reads as midnight and is marked so (`ingest.frames.date_alone_column`):
  too many of them warn (date_only_times).
- drug_exposure: drug_name = `drug_source_value` (as written), else the drug concept's name; the
  listed ingredients found through `concept_ancestor` are appended in brackets when the name does
  not already say them (without `concept_ancestor`: the drug concept's own name), and their
  RxNorm code fills `rxnorm` when there is one. *end_time: `drug_exposure_end_datetime`, else
  `_end_date`, else `verbatim_end_date`, else start + `days_supply` days (up to a century).
  *An end known only to the day (an end date, or an end datetime at 00:00 on the start's own
  day or on the end date's day: an ETL that had only the date) lasts to 23:59:59 of that day:
  OMOP end dates are inclusive (the last day of exposure), a one-day administration with a
  start time is not an order stopped before it began, and the end datetime and end date of
  one record never disagree by a day. *status from
  `stop_reason` words (error -> entered-in-error, cancel -> cancelled, complete -> completed,
  stop/discontinu -> stopped), so an ETL's stopped record without end date is not ongoing.
- condition_occurrence: the ICD-10-CM / ICD-9-CM code of `condition_source_concept_id`, else
  `condition_source_value` (dotted or not; a leading digit means ICD-9-CM, 6+ digits SNOMED),
  else the SNOMED code of `condition_concept_id`; *when the source code is not a listed
  condition but the SNOMED concept is, the SNOMED code is used. A row with no code at all is
  not relevant (`no_condition_code`). recorded_time = `condition_start_datetime` / `_date`;
  status = `condition_status_source_value`.
- person: person_id, `person_source_value` as mrn, birth date from `birth_datetime` or
  year/month/day_of_birth (year only when month/day are missing), sex from gender concept.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from hyposcreen.adapters._files import SourceTable, listing, packed_tables, parts_folder
from hyposcreen.adapters._omop_concept_ids import ConceptGaps
from hyposcreen.adapters._omop_events import (
    read_condition_occurrence,
    read_drug_exposure,
    read_person,
)
from hyposcreen.adapters._omop_labs import read_measurement
from hyposcreen.adapters._omop_vocab import load_vocabulary, omop_files, table_subfolders
from hyposcreen.config import SiteMapping, Window
from hyposcreen.errors import InputError
from hyposcreen.ingest.canonical import SCHEMAS, IngestedTable
from hyposcreen.ingest.tabular import RowFilter, empty_frame
from hyposcreen.rules.loader import RuleSet

# a column whose absence a warning names (date_only_times: a measurement dated by its date)
_NOTED_ABSENT = {"labs": ("measurement_datetime",)}
SOURCE_TABLES = {
    "labs": "measurement",
    "medications": "drug_exposure",
    "diagnoses": "condition_occurrence",
    "patients": "person",
}
REQUIRED = ("measurement", "drug_exposure", "condition_occurrence")
OPTIONAL = ("person", "concept", "concept_ancestor", "visit_occurrence")
_VOCABULARY = {  # vocabulary tables each canonical table is mapped through
    "labs": ("concept",),
    "medications": ("concept", "concept_ancestor"),
    "diagnoses": ("concept",),
    "patients": ("concept",),
}
# canonical columns each table is mapped onto (the rest stay empty)
MAPPED_COLUMNS = {
    "labs": ("patient_id", "encounter_id", "specimen_time", "value_raw", "value", "unit", "loinc",
             "lab_name", "ref_low", "ref_high", "source_row"),
    "medications": ("patient_id", "encounter_id", "drug_name", "rxnorm", "start_time",
                    "end_time", "status", "route", "source_row"),
    "diagnoses": ("patient_id", "encounter_id", "code", "code_system", "recorded_time",
                  "status", "description", "source_row"),
    "patients": ("patient_id", "mrn", "birth_date", "sex", "source_row"),
}  # fmt: skip


# tables whose absence changes what is screened (visit_occurrence is not read)
_READ_TABLES = (*REQUIRED, "person", "concept", "concept_ancestor")


def check_layout(input_dir: Path) -> None:
    """Raise InputError unless the required tables are there and no table that is read lies
    in an archive (`measurement.csv.zip`, a zipped `CONCEPT.csv`: the readers open gzip
    streams, so the table would be missing, or the vocabulary silently the shipped one)."""
    subfolders = [d.name for d in table_subfolders(input_dir)]
    if packed := packed_tables(input_dir, _READ_TABLES, subfolders):
        raise InputError(f"OMOP extract {input_dir}: {packed}")
    missing = [t for t in REQUIRED if not omop_files(input_dir, t)]
    if missing:
        raise InputError(
            f"Input folder {input_dir} does not look like an OMOP CDM 5.4 extract: no "
            f"{', '.join(missing)} table. --source omop expects {', '.join(REQUIRED)} (and "
            f"optionally {', '.join(OPTIONAL)}) as .csv/.csv.gz/.tsv/.parquet files or folders "
            f"named after the table, in any letter case, in the folder or one subfolder. "
            f"Found: {listing(input_dir)}."
        )


def input_files(input_dir: Path, name: str) -> list[Path]:
    """The table's files plus the vocabulary files its mapping reads."""
    files = omop_files(input_dir, SOURCE_TABLES[name])
    for table in _VOCABULARY[name]:
        files += omop_files(input_dir, table)
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
    files = omop_files(input_dir, stem)
    if not files:
        if name == "patients":
            return IngestedTable(name, empty_frame(schema), rows_in=0)
        check_layout(input_dir)
    vocab = load_vocabulary(input_dir, mapping, rules, with_ancestors=name == "medications")
    table = SourceTable(stem, files, mapping, parts_folder=parts_folder(input_dir, stem, files))
    row_filter = row_filter or RowFilter()
    reader = {
        "labs": read_measurement,
        "medications": read_drug_exposure,
        "diagnoses": read_condition_occurrence,
        "patients": read_person,
    }[name]
    gaps = ConceptGaps(vocab.held)
    frames, not_relevant, unmapped = reader(table, vocab, rules, mapping, row_filter, gaps)
    records, vocab_counts = vocab.used_by(_VOCABULARY[name])
    ingested = table.ingested(
        schema,
        frames,
        not_relevant,
        unmapped,
        MAPPED_COLUMNS[name],
        extra_files=records,
        extra_counts=vocab_counts,
        noted_absent=_NOTED_ABSENT.get(name, ()),
    )
    ingested.source_counts[stem].update(gaps.source_counts())
    places = {  # "concept", "concept_run_on", ... (adapters._omop_vocab_rows)
        k: p for k, p in vocab.row_places.items() if k.removesuffix("_run_on") in _VOCABULARY[name]
    }
    if gaps.references:
        places[stem] = tuple(gaps.references)
    return dataclasses.replace(ingested, concept_places=places)
