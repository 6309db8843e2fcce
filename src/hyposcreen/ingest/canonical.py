"""The canonical tables as read (`IngestedTable`); their columns are defined in
`hyposcreen.schema` (spec §1) and re-exported here for the readers and adapters."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from hyposcreen.ingest.excel_forms import ExcelFormCounts
from hyposcreen.ingest.loinc_shapes import LoincShapeCounts
from hyposcreen.schema import (
    DIAGNOSES,
    LABS,
    MEDICATIONS,
    PATIENTS,
    PROVENANCE,
    REQUIRED_TABLES,
    SCHEMAS,
    TableSchema,
)

__all__ = [
    "DIAGNOSES",
    "LABS",
    "MEDICATIONS",
    "PATIENTS",
    "PROVENANCE",
    "REQUIRED_TABLES",
    "SCHEMAS",
    "IngestedTable",
    "TableSchema",
]


@dataclass
class IngestedTable:
    """One canonical table as read: the candidate rows plus the rows already accounted for.

    `frame` holds every canonical column (absent optional ones as nulls, strings as str dtype,
    times parsed to naive site-local datetime64[us] with the text kept in `<col>_raw`), plus
    `source_file`/`source_row`; for labs also `analyte`. Rows dropped while reading (an analyte
    of no interest) are only counted, in `not_relevant` by reason.
    """

    name: str
    frame: pd.DataFrame
    rows_in: int
    not_relevant: dict[str, int] = field(default_factory=dict)
    files: list[dict[str, object]] = field(default_factory=list)  # path, sha256, rows, bytes
    present_columns: tuple[str, ...] = ()  # canonical columns the source really had
    # adapters: rows read / mapped / unmapped per resource type or source table
    source_counts: dict[str, dict[str, int]] = field(default_factory=dict)
    # (column, value) -> rows the reader dropped as unrecognised (report/coverage.py)
    unrecognised: dict[tuple[str, str], int] = field(default_factory=dict)
    # rows dropped as unknown_loinc whose code is a listed LOINC written another way, by shape
    # (ingest.loinc_shapes; canonical reader only)
    loinc_shapes: LoincShapeCounts | None = None
    # cells written ="..." for a spreadsheet, by file and column (ingest.excel_forms; CSV only)
    excel_forms: ExcelFormCounts | None = None
    # FHIR: rows screened although their Patient has a deletion that could not be ordered
    # against its versions, and the first three as `file:row` (adapters.fhir_deleted_patients)
    unordered_deletions: tuple[int, tuple[str, ...]] | None = None
    # OMOP: per source table, the first `file:row` of its rows naming a concept id the
    # vocabulary lacks that nothing else tells (adapters._omop_concept_ids); per vocabulary
    # table, of its rows that did not split into columns (omop_vocabulary_gaps)
    concept_places: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # MIMIC: per table read to map this one (d_labitems, admissions, d_icd_diagnoses), the
    # first `file:row` of its rows that did not split into columns (`<table>`) or that list
    # an item id on disagreeing rows (`d_labitems_conflicting_itemid`; mimic_dictionary_rows)
    auxiliary_places: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # a canonical table read from a folder of parts: the folder, listed again before publishing
    parts_folder: Path | None = None
    # the suffixes of the parts that folder may hold (empty: the canonical reader's), and the
    # files the reader listed there besides those it read (FHIR: files no table reads)
    part_suffixes: tuple[str, ...] = ()
    parts_listed: tuple[str, ...] = ()
    # FHIR: each JSON document's own record (`files` holds one entry for them all, naming none),
    # checked before publishing as a file read is (ingest.read_identities)
    documents_read: tuple[dict[str, object], ...] = ()
