"""CSV / CSV.gz / Parquet extracts with a site column mapping, read in projected batches.

`read_table` reads one canonical table into memory; `TableStream` yields it as a stream of
canonical frames (the partitioned run spills them). The parts live by concern: `files` (which
files, their manifest records), `batches` (Arrow batches of a CSV or Parquet file; a CSV's
parser and its malformed rows in `csv_parser`), `frames` (canonical columns and times),
`row_filter` (what a reader drops early, by reason), `window_pushdown` (the read window applied
in Arrow for typed timestamps), `csv_source` (a CSV's text to parse and the checks that it was
read whole) and `batch_frames` (one batch as a canonical frame). The names other modules import
from here stay importable from here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from hyposcreen.config import SiteMapping
from hyposcreen.errors import EnvironmentProblem, InputError
from hyposcreen.ingest.batch_frames import ROW_COLUMN, BatchFrames, coded_sites
from hyposcreen.ingest.batches import csv_batches, header_of, parquet_batches
from hyposcreen.ingest.canonical import IngestedTable, TableSchema
from hyposcreen.ingest.csv_parser import DEFAULT_MAX_ROW_BYTES, MalformedRows
from hyposcreen.ingest.csv_source import text_schema, whole_csv_batches
from hyposcreen.ingest.delivery import (
    check_control_totals,
    check_unchanged,
    data_rows,
    identity_to_read,
)
from hyposcreen.ingest.empty_parts import parts_to_read
from hyposcreen.ingest.file_columns import file_columns, refuse_other_columns, site_columns
from hyposcreen.ingest.files import (
    SUFFIXES,
    file_record,
    find_table_files,
    refuse_lost_partition_columns,
    sha256_of,
    table_folder,
    unread_candidates,
)
from hyposcreen.ingest.frames import canonical_columns, empty_frame, malformed_frame
from hyposcreen.ingest.layout_hint import layout_hint
from hyposcreen.ingest.parquet_batches import check_flat_columns
from hyposcreen.ingest.row_filter import RowFilter, Selector, finish_batch
from hyposcreen.ingest.suffixes import parquet
from hyposcreen.ingest.window_pushdown import WindowPushdown

__all__ = [
    "DEFAULT_MAX_ROW_BYTES",
    "SUFFIXES",
    "MalformedRows",
    "RowFilter",
    "Selector",
    "TableStream",
    "TooLargeForMemory",
    "canonical_columns",
    "csv_batches",
    "empty_frame",
    "file_record",
    "find_table_files",
    "finish_batch",
    "header_of",
    "malformed_frame",
    "parquet_batches",
    "read_table",
    "sha256_of",
]


class TooLargeForMemory(EnvironmentProblem):
    """A table read in memory (the size estimate said it was small) outgrew its row cap: the
    plain run switches to partitions; elsewhere the run stops instead of growing unbounded."""

    def __init__(self, table: str, rows: int, cap: int) -> None:
        self.rows = rows
        super().__init__(
            f"The {table} table holds more than {cap} rows, far more than its file size "
            f"suggested; it was not read into memory. Run again with --partitions "
            f"{max(2, rows // (cap // 4) + 1)} (or more)."
        )


def read_table(
    input_dir: Path,
    schema: TableSchema,
    mapping: SiteMapping,
    row_filter: RowFilter | None = None,
    required: bool = True,
    max_row_bytes: int = DEFAULT_MAX_ROW_BYTES,
    max_rows: int | None = None,
) -> IngestedTable:
    """Read one canonical table from an input folder, batch by batch, keeping relevant rows."""
    stream = TableStream(input_dir, schema, mapping, row_filter, required, max_row_bytes)
    stream.max_rows = max_rows
    kept = list(stream.frames())
    frame = pd.concat(kept, ignore_index=True) if kept else empty_frame(schema)
    return stream.ingested(frame)


class TableStream:
    """One canonical table as a stream of canonical frames (the rows `read_table` keeps).

    `frames()` yields them in file and row order (a file's malformed rows after its batches);
    once it is exhausted, `ingested(frame)` wraps any frame with the table's counts and file
    records. The partitioned run spills the frames instead of concatenating them.
    """

    def __init__(
        self,
        input_dir: Path,
        schema: TableSchema,
        mapping: SiteMapping,
        row_filter: RowFilter | None = None,
        required: bool = True,
        max_row_bytes: int = DEFAULT_MAX_ROW_BYTES,
    ) -> None:
        self.schema, self.mapping, self.input_dir = schema, mapping, input_dir
        self.max_row_bytes = max_row_bytes
        self.max_rows: int | None = None  # counted while the files stream (TooLargeForMemory)
        self.table = mapping.table(schema.name)
        stem = self.table.file or schema.name
        self.folder = table_folder(input_dir, stem)  # its parts (`labs/year=2026/…`)
        self.files = find_table_files(input_dir, stem)
        if not self.files and required:
            looked = ", ".join(f"{stem}{s}" for s in SUFFIXES)
            near = unread_candidates(input_dir, stem) if input_dir.is_dir() else []
            seen = f" It holds {', '.join(near[:5])}, not read as that table." if near else ""
            other = layout_hint(input_dir) if input_dir.is_dir() else ""
            raise InputError(
                f"Input folder {input_dir} has no {schema.name} table (looked for {looked} "
                f"or a folder {stem}/).{seen}{other} Point --input at the extract folder, or "
                f"name the file in the mapping file under tables.{schema.name}.file."
            )
        self.row_filter = row_filter or RowFilter()
        self.not_relevant: Counter[str] = Counter()
        self.rows_in = 0
        self.file_records: list[dict[str, object]] = []
        self.present: set[str] = set()
        self.batch_frames = BatchFrames(
            schema, mapping, self.table, self.row_filter, self.not_relevant
        )

    def frames(self) -> Iterator[pd.DataFrame]:
        schema = self.schema
        site_for = site_columns(self.table, schema)
        rows_by_file: dict[Path, int] = {}
        first: tuple[Path, set[str]] | None = None  # the first part's columns: every part's
        for path in parts_to_read(self.files, self.file_records, rows_by_file):
            malformed = MalformedRows(max_row_bytes=self.max_row_bytes)
            identity = identity_to_read(path)
            is_csv = not parquet(path)
            header, delimiter = header_of(path, self.mapping)
            refuse_lost_partition_columns(path, self.folder, header, site_for, schema.name)
            columns = file_columns(path, header, self.table, schema, site_for)
            site_for_file, wanted, table = columns.site_for, columns.wanted, columns.table
            include = columns.include
            if first is not None:
                refuse_other_columns(schema.name, first, path, columns.present)
            first = first or (path, columns.present)
            self.present |= columns.present
            file_schema = text_schema(include) if is_csv else pq.read_schema(path)
            if not is_csv:  # a struct or list column is refused before any cast to text
                check_flat_columns(path, file_schema, columns.read_as, schema.name)
            pushdown = WindowPushdown.for_file(
                self.row_filter,
                include,
                file_schema,
                wanted,
                schema,
                table,
                self.mapping,
            )
            coded = self.batch_frames.coded = coded_sites(
                file_schema, site_for_file, self.row_filter, is_csv
            )
            if is_csv:  # text times: parsed to split each batch (no statistics to skip by)
                # read whole or refused; each row's physical line (header = 1) in ROW_COLUMN
                batches: Iterator[tuple[pa.RecordBatch, bool]] = (
                    (batch, False)
                    for batch in whole_csv_batches(
                        path, self.mapping, delimiter, include, malformed, ROW_COLUMN
                    )
                )
            else:
                batches = (
                    pushdown.batches(path, include, site_for_file["loinc"], coded)
                    if pushdown is not None
                    else ((batch, False) for batch in parquet_batches(path, include, coded))
                )
            file_rows = 0
            for batch, outside in batches:
                first_row = file_rows + 1  # Parquet: 1-based; a CSV's batches carry their lines
                file_rows += batch.num_rows
                if self.max_rows is not None and self.rows_in + file_rows > self.max_rows:
                    raise TooLargeForMemory(schema.name, self.rows_in + file_rows, self.max_rows)
                if outside and pushdown is not None:  # a row group wholly outside the window
                    pushdown.count_outside(
                        self.batch_frames.known_loinc(batch, site_for_file, path.name, first_row)
                    )
                    continue
                numbered = (
                    batch
                    if is_csv
                    else batch.append_column(
                        ROW_COLUMN,
                        pa.array(np.arange(first_row, first_row + batch.num_rows, dtype=np.int64)),
                    )
                )
                yield self.batch_frames.frame_of(
                    numbered, path, site_for_file, wanted, pushdown, table
                )
            if pushdown is not None:
                pushdown.settle(self.not_relevant)
            if malformed.rows:
                yield malformed_frame(malformed, path, schema)
                file_rows += len(malformed.rows)
            self.rows_in += file_rows
            check_unchanged(path, identity)
            self.file_records.append(file_record(path, file_rows, size=identity[1]))
            rows_by_file[path] = data_rows(file_rows, malformed.rows)
        if self.files:
            check_control_totals(self.input_dir, self.table.file or schema.name, rows_by_file)

    def ingested(self, frame: pd.DataFrame) -> IngestedTable:
        return IngestedTable(
            self.schema.name,
            frame,
            rows_in=self.rows_in,
            not_relevant={k: v for k, v in self.not_relevant.items() if v},
            files=self.file_records,
            present_columns=tuple(sorted(self.present)),
            unrecognised=dict(self.row_filter.unrecognised),
            loinc_shapes=shapes.counts() if (shapes := self.row_filter.loinc_shapes) else None,
            excel_forms=self.batch_frames.excel_forms.counts(),
            # the folder of its parts, when read from one (`labs/`, `labs/year=2026/…`)
            parts_folder=self.folder if any(self.folder in p.parents for p in self.files) else None,
        )
