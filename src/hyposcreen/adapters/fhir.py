"""`--source fhir`: a FHIR R4 Bulk Data export (NDJSON) read into the canonical tables.

labs        <- Observation (values of `component[]` too; the Observations a DiagnosticReport
               or a panel Observation contains: fhir_contained_results), Specimen types
               resolved; an OperationOutcome reporting an error (a Bulk Data error file, a
               search page's outcome) is quarantined `export_error` (quarantine_warnings)
medications <- MedicationRequest, -Statement, -Administration, -Dispense (+ Medication)
diagnoses   <- Condition (+ Encounter: the start of the stay dates a Condition without a date)
patients    <- Patient

Files: `<Type>*.ndjson[.gz]` anywhere in the folder (see `fhir_files`; whether a folder is an
export to screen: `fhir_layout`); files of Bundles or of several types, and JSON documents
(`*.json[.gz]`: Synthea's Bundle per patient, a saved search page; see `fhir_documents`) are
read for every table. Row accounting (the manifest's reconciliation):
`rows_in` counts every non-blank line of the table's files, and a line that maps to k > 1 rows
(an Observation panel's relevant components, a Bundle's entries) counts k. Observation lines
without a relevant code are skipped before parsing (not relevant, `unknown_loinc`); lines of
another resource type are not relevant (`other_resource_type`); a line that is not JSON, or
not a resource object, is quarantined (`malformed_row`). A Bundle entry that holds no resource
is one row too: not relevant (`entry_without_resource`: a transaction's DELETE), or quarantined
(`malformed_row`) when its `resource` has no resourceType, at its place (`entry[3]`;
`12.entry[3]` in a Bundle on line 12), by every table that reads it. `source_file` is the
file's path inside the export, `source_row` its line number (`12.1`: the second row of line
12). A JSON document is parsed once per run, whatever the tables that read it (`fhir_parsed`).
Of several versions of one resourceType/id (`meta.versionId`, else `meta.lastUpdated`) the
latest is used, the others quarantined `superseded_version` (`fhir_versions`); all are
quarantined `deleted_resource` when the newest is a Bundle entry's DELETE (the entry itself
stays `entry_without_resource`); so is the latest version of a Specimen, Medication or
Encounter the rows refer to (`fhir_index`: a deleted one is not found; a record naming its
drug only by a deleted Medication is quarantined `deleted_medication`). The rows of a Patient
whose newest version is a deletion are quarantined `deleted_patient` (`fhir_deleted_patients`).
A patient named by identifier is the Patient resource holding it (`fhir_subjects`).
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import Counter
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from hyposcreen.adapters.fhir_conditions import DIAGNOSIS_COLUMNS, ConditionMapper
from hyposcreen.adapters.fhir_contained_results import result_rows
from hyposcreen.adapters.fhir_deleted_patients import (
    holds_deletion,
    patients_frame,
    set_aside_deleted_patients,
    unordered_deletion_rows,
)
from hyposcreen.adapters.fhir_files import DOCUMENTS, MIXED, classify
from hyposcreen.adapters.fhir_index import (
    Versions,
    encounter_start,
    index_resources,
    keep_latest,
    medication_index_entry,
)
from hyposcreen.adapters.fhir_labs import LAB_COLUMNS, ObservationMapper
from hyposcreen.adapters.fhir_layout import LAB_SOURCES, check_layout, export_parts, input_files
from hyposcreen.adapters.fhir_medications import (
    DRUG_ROWS,
    RESOURCE_TYPE,
    ROW_COLUMNS,
    MedicationMapper,
)
from hyposcreen.adapters.fhir_parsed import TABLE_TYPES, documents_as_one, keep_only
from hyposcreen.adapters.fhir_patients import PATIENT_COLUMNS, patient_row
from hyposcreen.adapters.fhir_scan import (
    LineReader,
    Resource,
    date_bounds,
    scan_all,
    scan_document,
    scan_prefiltered,
)
from hyposcreen.adapters.fhir_specimens import specimen_entry
from hyposcreen.adapters.fhir_subjects import SubjectResolver
from hyposcreen.adapters.fhir_table import Row, TableBuilder
from hyposcreen.adapters.fhir_versions import DELETE_ENTRY
from hyposcreen.config import SiteMapping, Window
from hyposcreen.ingest.canonical import SCHEMAS, IngestedTable
from hyposcreen.ingest.tabular import RowFilter, file_record
from hyposcreen.rules.loader import RuleSet

__all__ = ["TABLE_TYPES", "check_layout", "input_files", "read_table"]

log = logging.getLogger(__name__)

_COLUMNS = {
    "labs": LAB_COLUMNS,
    "medications": ROW_COLUMNS,
    "diagnoses": DIAGNOSIS_COLUMNS,
    "patients": PATIENT_COLUMNS,
}


def _reader(
    name: str,
    rules: RuleSet,
    by_type: dict[str, list[Path]],
    builder: TableBuilder,
    indexed: dict[str, int],
    unresolved: set[str],
) -> tuple[LineReader, Any, MedicationMapper | None]:
    """How one table maps resource lines (and, for labs, the pre-filter regex), with the
    reference resources it needs (Specimen for labs, Medication for medications, Encounter for
    diagnoses) indexed."""
    wanted = frozenset(TABLE_TYPES[name])
    mixed = by_type.get(MIXED, []) + by_type.get(DOCUMENTS, [])
    subjects = SubjectResolver(by_type.get("Patient", []) + mixed, unresolved)
    if name == "labs":
        specimens, keep_specimen = _reference_index(
            "Specimen", specimen_entry, by_type, mixed, indexed
        )
        observations = ObservationMapper(rules, specimens)

        def observation_rows(resource: Resource) -> list[Row]:
            return subjects.resolve(resource, observations.rows(resource))

        def lab_rows(resource: Resource) -> list[Row]:
            return result_rows(resource, observation_rows, observations.relevant)

        reader = LineReader(builder, wanted, lab_rows, {"Specimen": keep_specimen})
        return reader, observations.needle, None
    if name == "medications":
        versions: Versions = {}
        medications, keep_medication = _reference_index(
            "Medication", medication_index_entry, by_type, mixed, indexed, versions
        )
        mapper = MedicationMapper(rules, medications, versions)

        def medication_rows(resource: Resource) -> list[Row]:
            return subjects.resolve(resource, mapper.rows(resource))

        reader = LineReader(builder, wanted, medication_rows, {"Medication": keep_medication})
        return reader, None, mapper
    if name == "diagnoses":
        starts, keep_encounter = _reference_index(
            "Encounter", encounter_start, by_type, mixed, indexed
        )
        conditions = ConditionMapper(rules, starts, subjects.patient_files)

        def condition_rows(resource: Resource) -> list[Row]:
            return subjects.resolve(resource, [conditions.row(resource)])

        return (
            LineReader(builder, wanted, condition_rows, {"Encounter": keep_encounter}),
            None,
            None,
        )

    def rows(resource: Resource) -> list[Row]:
        return [patient_row(resource)]

    return LineReader(builder, wanted, rows, {}), None, None


def _reference_index(
    kind: str,
    entry: Callable[[Resource], Any],
    by_type: dict[str, list[Path]],
    mixed: list[Path],
    indexed: dict[str, int],
    versions: Versions | None = None,
) -> tuple[dict[str, Any], Callable[[Resource], None]]:
    """The index (id -> `entry` of its latest version) of the `kind` resources a table's rows
    refer to, read from their own files and the mixed ones (its size noted in `indexed`), and
    what keeps one more such resource met while the table's own lines are read; `versions`:
    where the index notes its versions (fhir_index; an id noted but not indexed is deleted)."""
    versions = {} if versions is None else versions
    index: dict[str, Any] = index_resources(by_type.get(kind, []) + mixed, kind, entry, versions)
    indexed[kind] = len(index)

    def keep(resource: Resource) -> None:
        keep_latest(index, versions, str(resource.get("id")), resource, entry)

    return index, keep


def _scan(
    input_dir: Path,
    path: Path,
    kind: str,
    reader: LineReader,
    needle: Any,
    tally: Counter[str],
    bounds: tuple[bytes, bytes] | None,
) -> tuple[int, str]:
    """The rows one file accounts for, and its sha256: a JSON document read whole,
    Observation-like lines through the pre-filter, any other line parsed."""
    rel = path.relative_to(input_dir).as_posix()
    if kind == DOCUMENTS:
        return scan_document(path, rel, reader, tally)
    digest = hashlib.sha256()
    if needle is not None and (kind == MIXED or holds_deletion(path)):
        needle = _with_outcomes(needle)
    if needle is not None and kind != "OperationOutcome":
        rows = scan_prefiltered(path, rel, needle, reader, tally, bounds, digest)
    else:
        rows = scan_all(path, rel, reader, tally, digest)
    return rows, digest.hexdigest()


@lru_cache(maxsize=4)
def _with_outcomes(needle: re.Pattern[bytes]) -> re.Pattern[bytes]:
    """The lab pre-filter that also finds the lines of a file of Bundles holding an
    OperationOutcome (a searchset page's outcome): an export error is never skipped unread;
    and those holding a deletion (a `_history` Bundle's DELETE entry: `fhir_versions`).
    Only there, and on a file holding a DELETE entry (an Observation's on a line of its own, a
    bulk export's `deleted/Observation.ndjson`; the byte search of fhir_deleted_patients, made
    once per file, tells): on another Observation file the extra branch would slow the search
    by ~30 %."""
    outcome = rb'|"resourceType"\s*:\s*"OperationOutcome"'
    return re.compile(needle.pattern + outcome + b"|" + DELETE_ENTRY.pattern)


def _count_medications(
    mapper: MedicationMapper, set_aside: list[pd.DataFrame], counts: dict[str, Counter[str]]
) -> None:
    """Take the rows `set_aside` (superseded versions, a deleted Patient's) out of the counts,
    then count the records whose drug is unknown (by note) and the drug rows judged, by
    resource type."""
    mapper.set_aside(set_aside)
    for (kind, note), count in mapper.unmapped.items():
        counts.setdefault(kind, Counter())[f"note_{note}"] += count
    for kind, count in mapper.drug_rows.items():
        counts.setdefault(kind, Counter())[DRUG_ROWS] += count


def read_table(
    input_dir: Path,
    name: str,
    mapping: SiteMapping,
    rules: RuleSet,
    window: Window,
    row_filter: RowFilter | None,
) -> IngestedTable:
    """One canonical table from the export (see the module docstring for the row accounting);
    `window` is applied through `row_filter` (labs), like the tabular reader."""
    schema = SCHEMAS[name]
    by_type, unknown = classify(input_dir)
    keep_only(by_type.get(DOCUMENTS, []))  # documents of an earlier run are not kept
    if name == "labs" and not any(by_type.get(t) for t in LAB_SOURCES):
        check_layout(input_dir)  # raises with the reason
    row_filter = row_filter or RowFilter()
    builder = TableBuilder(schema, _COLUMNS[name], mapping, row_filter)
    bounds = date_bounds(row_filter)
    indexed: dict[str, int] = {}
    unresolved: set[str] = set()  # patient ids that are an identifier's value no Patient holds
    reader, needle, medication_mapper = _reader(name, rules, by_type, builder, indexed, unresolved)
    counts: dict[str, Counter[str]] = {}
    files: list[dict[str, object]] = []
    documents: list[dict[str, object]] = []
    for kind in (*TABLE_TYPES[name], MIXED, DOCUMENTS):
        for path in by_type.get(kind, []):
            tally = counts.setdefault(kind, Counter())
            tally["files"] += 1
            size = path.stat().st_size  # when read: a file grown while read is not published
            rows, sha256 = _scan(input_dir, path, kind, reader, needle, tally, bounds)
            record = file_record(path, rows, sha256, size)
            (documents if kind == DOCUMENTS else files).append(record)
    files += documents_as_one(input_dir, documents)
    rows_in = sum(int(f["rows"]) for f in files)  # type: ignore[call-overload]
    frame = patients_frame(builder, by_type) if name == "patients" else builder.frame()
    set_aside = list(builder.superseded)
    unordered = None
    if name != "patients":
        set_aside.append(set_aside_deleted_patients(frame, by_type, unresolved))
        unordered = unordered_deletion_rows(frame, by_type)
    if medication_mapper is not None:
        _count_medications(medication_mapper, set_aside, counts)
        frame = frame.drop(columns=[RESOURCE_TYPE], errors="ignore")
    for tally in counts.values():
        tally["unmapped"] = sum(v for k, v in tally.items() if k.startswith("unmapped_"))
    for support, size in indexed.items():
        if by_type.get(support):
            counts[support] = Counter(files=len(by_type[support]), indexed=size)
            files += [file_record(p, 0) for p in by_type[support]]
    if name in ("medications", "diagnoses") and not any(
        by_type.get(t) for t in (*TABLE_TYPES[name], MIXED, DOCUMENTS)
    ):
        log.warning("FHIR export %s has no %s resources.", input_dir, "/".join(TABLE_TYPES[name]))
    return IngestedTable(
        name,
        frame,
        rows_in=rows_in,
        not_relevant={k: v for k, v in builder.not_relevant.items() if v},
        files=files,
        present_columns=tuple(c for c in schema.columns if c in _COLUMNS[name]),
        source_counts={kind: dict(sorted(tally.items())) for kind, tally in counts.items()},
        unordered_deletions=unordered,
        documents_read=tuple(documents),
        **export_parts(input_dir, by_type, unknown),
    )
