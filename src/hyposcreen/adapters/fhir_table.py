"""The rows one canonical table gets from a FHIR export, collected as the resources are read:
full batches are finished (`ingest.tabular.finish_batch`), quarantined-as-read rows kept with
their text, and the versions of one resource compared at the end (`fhir_versions`)."""

from __future__ import annotations

from collections import Counter

import pandas as pd

from hyposcreen.adapters.fhir_versions import HIDDEN, Version, quarantine_superseded
from hyposcreen.config import SiteMapping
from hyposcreen.ingest.canonical import TableSchema
from hyposcreen.ingest.tabular import RowFilter, canonical_columns, empty_frame, finish_batch

Row = tuple[object, ...]
_BATCH_ROWS = 50_000  # pending rows cost ~1 kB each; small batches keep the peak low
MALFORMED_TEXT = 500  # bytes of a quarantined-as-read row's text kept in the quarantine
UNRESOLVED = "unresolved_reference"
DELETED_MEDICATION = "deleted_medication"
# A hidden column: the patient a row quarantined as read for its drug's reference is about
# (it has no patient_id): fhir_deleted_patients quarantines it deleted_patient when deleted.
SUBJECT = "__fhir_subject"


class UnresolvedReference(ValueError):
    """A resource that names what it is about only by a reference to a resource the export
    does not hold (a MedicationRequest's `Medication/x`): quarantined `unresolved_reference`,
    and the night warns (quarantine_warnings): part of the export did not arrive."""


class DeletedReference(UnresolvedReference):
    """A resource that names what it is about only by a reference to a resource the export
    records deleted (a `_history` Bundle's DELETE is the Medication's newest version):
    quarantined `deleted_medication`, and the night warns (deleted_reference_warnings)."""


class TableBuilder:
    """Collects canonical rows in lists and hands full batches to `finish_batch`."""

    def __init__(
        self,
        schema: TableSchema,
        columns: tuple[str, ...],
        mapping: SiteMapping,
        row_filter: RowFilter,
    ) -> None:
        self.schema, self.columns = schema, columns
        self.mapping, self.row_filter = mapping, row_filter
        self.rows: list[Row] = []
        self.files: list[str] = []
        self.lines: list[str] = []
        self.versions: list[Version] = []
        self.malformed: list[tuple[str, str, str, str | None, str | None]] = []
        self.not_relevant: Counter[str] = Counter()
        self.frames: list[pd.DataFrame] = []
        self.superseded: list[pd.DataFrame] = []  # older versions' rows, hidden columns kept
        self.deletions: list[Version] = []  # the versions Bundle entries record deleted

    def add(self, row: Row, source_file: str, source_row: str, version: Version) -> None:
        self.rows.append(row)
        self.files.append(source_file)
        self.lines.append(source_row)
        self.versions.append(version)
        if len(self.rows) >= _BATCH_ROWS:
            self.flush()

    def add_malformed(
        self,
        source_file: str,
        source_row: str,
        raw: bytes | bytearray,
        reason: str | None = None,
        subject: str | None = None,
    ) -> None:
        """A row quarantined as read: `malformed_row`, or `reason` when given; `subject`, the
        patient it is about, in the hidden column `SUBJECT`."""
        content = raw[:MALFORMED_TEXT].decode("utf-8", errors="replace")
        self.malformed.append((source_file, source_row, content, reason, subject))

    def flush(self) -> None:
        if not self.rows:
            return
        values = list(zip(*self.rows, strict=True))
        data = {c: pd.Series(v, dtype="object") for c, v in zip(self.columns, values, strict=True)}
        frame = pd.DataFrame(data)
        for column in self.columns:
            if column not in self.schema.float_columns:
                frame[column] = frame[column].astype("str").where(frame[column].notna())
        frame["source_file"] = pd.Series(self.files, dtype="str")
        frame["source_row"] = pd.Series(self.lines, dtype="str")
        if any(key is not None for key, _, _ in self.versions):  # fhir_versions
            for position, column in enumerate(HIDDEN):
                frame[column] = pd.Series([v[position] for v in self.versions], dtype=object)
        frame = canonical_columns(frame, self.schema)
        self.frames.append(
            finish_batch(frame, self.schema, self.mapping, self.row_filter, self.not_relevant)
        )
        self.rows, self.files, self.lines, self.versions = [], [], [], []

    def frame(self) -> pd.DataFrame:
        self.flush()
        frames = list(self.frames)
        if any(HIDDEN[0] in f.columns for f in frames):  # versions to compare
            patients = self.not_relevant if self.schema.name == "patients" else None
            frames = [
                quarantine_superseded(
                    pd.concat(frames, ignore_index=True), patients, self.superseded, self.deletions
                )
            ]
        if self.malformed:
            bad = empty_frame(self.schema, len(self.malformed))
            bad["source_file"] = [m[0] for m in self.malformed]
            bad["source_row"] = [m[1] for m in self.malformed]
            bad["malformed_text"] = [m[2] for m in self.malformed]
            if any(m[3] for m in self.malformed):
                bad["malformed_reason"] = pd.Series([m[3] for m in self.malformed], dtype=object)
            if any(m[4] for m in self.malformed):
                bad[SUBJECT] = pd.Series([m[4] for m in self.malformed], dtype=object)
            frames.append(bad)
        return pd.concat(frames, ignore_index=True) if frames else empty_frame(self.schema)
