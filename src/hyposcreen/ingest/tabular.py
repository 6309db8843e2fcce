"""CSV / CSV.gz / Parquet extracts with a site column mapping, read in projected batches."""

from __future__ import annotations

import hashlib
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hyposcreen.config import SiteMapping, TableMapping
from hyposcreen.errors import EnvironmentProblem, InputError
from hyposcreen.ingest.batches import (
    DEFAULT_MAX_ROW_BYTES,
    MalformedRows,
    csv_batches,
    header_of,
    parquet_batches,
)
from hyposcreen.ingest.canonical import IngestedTable, TableSchema
from hyposcreen.ingest.delivery import check_control_totals, check_not_cut_off
from hyposcreen.ingest.linescan import scanned
from hyposcreen.ingest.oversized import parse_copy
from hyposcreen.ingest.timeparse import parse_times

# A selector receives one canonical batch and returns (rows kept, not-relevant counts by reason).
Selector = Callable[[pd.DataFrame], tuple[pd.DataFrame, Counter[str]]]

SUFFIXES = (".parquet", ".csv", ".csv.gz")
_ROW = "__hyposcreen_row"


def find_table_files(input_dir: Path, stem: str) -> list[Path]:
    """The files holding one table: `<stem>.<suffix>` or every such file under `<stem>/`."""
    direct = [input_dir / f"{stem}{suffix}" for suffix in SUFFIXES]
    found = [p for p in direct if p.is_file()]
    folder = input_dir / stem
    if folder.is_dir():
        found += sorted(p for p in folder.rglob("*") if p.is_file() and p.name.endswith(SUFFIXES))
    if len({p.suffix for p in found if p.parent == input_dir}) > 1:
        names = ", ".join(p.name for p in found)
        raise InputError(
            f"Input folder {input_dir} holds the {stem} table twice ({names}); keep one of them."
        )
    return found


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_record(path: Path, rows: int, sha256: str | None = None) -> dict[str, object]:
    """The manifest's entry for one input file (sha256 computed here unless given)."""
    return {
        "path": str(path),
        "sha256": sha256 or sha256_of(path),
        "rows": rows,
        "bytes": path.stat().st_size,
    }


def _to_canonical(
    batch: pa.RecordBatch, wanted: dict[str, str], schema: TableSchema, table: TableMapping
) -> pd.DataFrame:
    """Rename site columns, add absent canonical columns as nulls, normalise dtypes."""
    frame = batch.to_pandas(types_mapper=None)
    frame = frame.rename(columns=wanted)
    for column, value in table.constants.items():
        frame[column] = value
    return canonical_columns(frame, schema)


def _as_text(values: pd.Series) -> pd.Series:
    if values.dtype == "str":
        return values
    if pd.api.types.is_float_dtype(values.dtype):
        # Parquet written with numeric ids: 12345.0 -> "12345"
        as_int = values.dropna()
        if len(as_int) and (as_int == as_int.round()).all():
            return values.astype("Int64").astype("str").where(values.notna())
    return values.astype("str").where(values.notna())


@dataclass(frozen=True)
class RowFilter:
    """What a reader may drop early (counted as not relevant, never silently).

    `loinc_keep`: rows whose LOINC is present and not in this set are dropped in Arrow, before
    any pandas conversion (reason unknown_loinc). `select`: a pandas selector on the canonical
    batch (before time parsing). `window`: (time column, start, end) — rows whose time parsed
    and lies outside [start, end) are dropped (reason outside_window).
    """

    loinc_keep: frozenset[str] | None = None
    select: Selector | None = None
    window: tuple[str, pd.Timestamp, pd.Timestamp] | None = None
    # (column, value) -> rows dropped as unrecognised (the coverage report), filled while reading
    unrecognised: Counter[tuple[str, str]] = field(default_factory=Counter)


def _prefilter_loinc(
    batch: pa.RecordBatch,
    site_loinc: str,
    keep: frozenset[str],
    unrecognised: Counter[tuple[str, str]] | None = None,
) -> tuple[pa.RecordBatch, int]:
    if site_loinc not in batch.schema.names:
        return batch, 0
    loinc = pc.utf8_trim_whitespace(pc.cast(batch.column(site_loinc), pa.string()))
    blank = pc.or_kleene(pc.is_null(loinc), pc.equal(pc.utf8_length(loinc), 0))
    mask = pc.fill_null(pc.or_kleene(blank, pc.is_in(loinc, pa.array(sorted(keep)))), True)
    kept = batch.filter(mask)
    if unrecognised is not None and kept.num_rows < batch.num_rows:
        counted = pc.value_counts(pc.filter(loinc, pc.invert(mask))).to_pylist()
        unrecognised.update({("loinc", str(c["values"])): int(c["counts"]) for c in counted})
    return kept, batch.num_rows - kept.num_rows


def _apply_window(
    frame: pd.DataFrame, window: tuple[str, pd.Timestamp, pd.Timestamp]
) -> tuple[pd.DataFrame, int]:
    column, start, end = window
    time = frame[column]
    outside = time.notna() & ((time < start) | (time >= end))
    return frame.loc[~outside], int(outside.sum())


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
    frame = pd.concat(kept, ignore_index=True) if kept else _empty_frame(schema)
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
        self.files = find_table_files(input_dir, stem)
        if not self.files and required:
            looked = ", ".join(f"{stem}{s}" for s in SUFFIXES)
            raise InputError(
                f"Input folder {input_dir} has no {schema.name} table (looked for {looked} "
                f"or a folder {stem}/). Point --input at the extract folder, or name the file "
                f"in the mapping file under tables.{schema.name}.file."
            )
        self.row_filter = row_filter or RowFilter()
        self.not_relevant: Counter[str] = Counter()
        self.rows_in = 0
        self.file_records: list[dict[str, object]] = []
        self.present: set[str] = set()

    def frames(self) -> Iterator[pd.DataFrame]:
        schema, mapping, table, row_filter = self.schema, self.mapping, self.table, self.row_filter
        # canonical -> site column; identity for unmapped canonical names
        site_for = {canon: table.columns.get(canon, canon) for canon in schema.columns}
        wanted = {site: canon for canon, site in site_for.items()}
        rows_by_file: dict[Path, int] = {}
        for path in self.files:
            malformed = MalformedRows(max_row_bytes=self.max_row_bytes)
            is_csv = not path.name.endswith(".parquet")
            header, delimiter = header_of(path, mapping)
            self.present |= _check_columns(path, header, wanted, schema, table)
            include = [c for c in header if c in wanted]  # required columns are among them
            scratch = tempfile.TemporaryDirectory(prefix="hyposcreen-rows-") if is_csv else None
            batches = (
                csv_batches(
                    path,
                    mapping.encoding,
                    delimiter,
                    include,
                    malformed,
                    parse_copy(path, self.max_row_bytes, Path(scratch.name)) if scratch else None,
                )
                if is_csv
                else parquet_batches(path, include)
            )
            file_rows = 0
            for batch in batches:
                first_row = file_rows + (2 if is_csv else 1)  # CSV: spreadsheet rows (header = 1)
                numbered = batch.append_column(
                    _ROW,
                    pa.array(np.arange(first_row, first_row + batch.num_rows, dtype=np.int64)),
                )
                file_rows += batch.num_rows
                if self.max_rows is not None and self.rows_in + file_rows > self.max_rows:
                    raise TooLargeForMemory(schema.name, self.rows_in + file_rows, self.max_rows)
                if row_filter.loinc_keep is not None:
                    numbered, dropped_count = _prefilter_loinc(
                        numbered, site_for["loinc"], row_filter.loinc_keep, row_filter.unrecognised
                    )
                    self.not_relevant["unknown_loinc"] += dropped_count
                frame = _to_canonical(numbered, wanted, schema, table)
                frame["source_file"] = path.name
                row_numbers = frame.pop(_ROW)
                if frame["source_row"].isna().all():
                    frame["source_row"] = row_numbers.astype("str")
                yield finish_batch(frame, schema, mapping, row_filter, self.not_relevant)
            if scratch is not None:
                scratch.cleanup()
                check_not_cut_off(path, malformed.last_text, malformed.encoding, self._tail(path))
            if malformed.rows:
                yield malformed_frame(malformed, path, schema)
                file_rows += len(malformed.rows)
            self.rows_in += file_rows
            self.file_records.append(file_record(path, file_rows))
            rows_by_file[path] = file_rows
        if self.files:
            check_control_totals(self.input_dir, self.table.file or schema.name, rows_by_file)

    def _tail(self, path: Path) -> bytes | None:
        """A `.gz`'s last bytes, from the scan that counted it (None for a plain CSV)."""
        return scanned(path, self.max_row_bytes).tail if path.name.endswith(".gz") else None

    def ingested(self, frame: pd.DataFrame) -> IngestedTable:
        return IngestedTable(
            self.schema.name,
            frame,
            rows_in=self.rows_in,
            not_relevant={k: v for k, v in self.not_relevant.items() if v},
            files=self.file_records,
            present_columns=tuple(sorted(self.present)),
            unrecognised=dict(self.row_filter.unrecognised),
        )


def finish_batch(
    frame: pd.DataFrame,
    schema: TableSchema,
    mapping: SiteMapping,
    row_filter: RowFilter,
    not_relevant: Counter[str],
) -> pd.DataFrame:
    """The shared tail of every reader (tabular files and source adapters alike).

    `frame` holds the canonical columns as text (times as text or typed timestamps) plus
    `source_file`/`source_row`; the selector and the window drop rows (counted in
    `not_relevant`), times are parsed to naive site-local time with the text kept in `<col>_raw`.
    """
    if row_filter.select is not None:
        frame, dropped = row_filter.select(frame)
        not_relevant.update(dropped)
    frame = _parse_time_columns(frame, schema, mapping, mapping.table(schema.name))
    if row_filter.window is not None:
        frame, outside = _apply_window(frame, row_filter.window)
        not_relevant["outside_window"] += outside
    return frame


def canonical_columns(frame: pd.DataFrame, schema: TableSchema) -> pd.DataFrame:
    """Add absent canonical columns as nulls and give present ones the canonical dtypes."""
    for column in schema.columns:
        if column not in frame.columns:
            dtype = "float64" if column in schema.float_columns else "str"
            frame[column] = pd.Series(None, index=frame.index, dtype=dtype)
        elif column in schema.float_columns:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
        elif column not in schema.time_columns:
            frame[column] = _as_text(frame[column])
    return frame


def empty_frame(schema: TableSchema, rows: int = 0) -> pd.DataFrame:
    """A canonical frame with no rows (or `rows` all-null rows), as the readers produce."""
    return _empty_frame(schema, rows)


def _check_columns(
    path: Path, header: list[str], wanted: dict[str, str], schema: TableSchema, table: TableMapping
) -> set[str]:
    repeated = sorted({h for h in header if h in wanted and header.count(h) > 1})
    if repeated:
        raise InputError(
            f"{path} ({schema.name}) has the column(s) {', '.join(repeated)} more than once in "
            "its header; keep one of each so it is clear which values to read.",
            file=str(path),
            column=repeated[0],
        )
    available = {wanted[h] for h in header if h in wanted} | set(table.constants)
    missing = [c for c in schema.required if c not in available]
    if schema.one_of and not available.intersection(schema.one_of):
        missing.append(" or ".join(schema.one_of))
    if missing:
        expected = [table.columns.get(c, c) for c in schema.required]
        raise InputError(
            f"{path} ({schema.name}) lacks required column(s) {', '.join(missing)}. "
            f"Columns found: {', '.join(header[:30]) or 'none'}. Expected (after the site "
            f"mapping): {', '.join(expected)}. Map differently named columns in the mapping file "
            f"under tables.{schema.name}.columns.",
            file=str(path),
            column=missing[0],
        )
    return available


def _parse_time_columns(
    frame: pd.DataFrame, schema: TableSchema, mapping: SiteMapping, table: TableMapping
) -> pd.DataFrame:
    formats = table.datetime_formats + mapping.datetime_formats
    for column in schema.time_columns:
        raw = frame[column]
        typed = pd.api.types.is_datetime64_any_dtype(raw.dtype)
        # typed timestamps keep no text copy: quarantine renders them from the parsed value
        frame[f"{column}_raw"] = pd.Series(None, index=frame.index, dtype="str") if typed else raw
        frame[column] = parse_times(raw, mapping.timezone, formats)
    return frame


def malformed_frame(malformed: MalformedRows, path: Path, schema: TableSchema) -> pd.DataFrame:
    """Rows the CSV parser could not split, as canonical rows (quarantined malformed_row)."""
    frame = _empty_frame(schema, len(malformed.rows))
    frame["source_file"] = path.name
    frame["source_row"] = [r["line"] for r in malformed.rows]
    frame["malformed_text"] = [r["text"] for r in malformed.rows]
    frame["malformed_reason"] = [r.get("reason", "malformed_row") for r in malformed.rows]
    return frame


def _empty_frame(schema: TableSchema, rows: int = 0) -> pd.DataFrame:
    data: dict[str, pd.Series] = {}
    index = pd.RangeIndex(rows)
    for column in schema.columns:
        if column in schema.time_columns:
            data[column] = pd.Series(pd.NaT, index=index, dtype="datetime64[us]")
            data[f"{column}_raw"] = pd.Series(None, index=index, dtype="str")
        elif column in schema.float_columns:
            data[column] = pd.Series(float("nan"), index=index, dtype="float64")
        else:
            data[column] = pd.Series(None, index=index, dtype="str")
    data["source_file"] = pd.Series(None, index=index, dtype="str")
    return pd.DataFrame(data)
