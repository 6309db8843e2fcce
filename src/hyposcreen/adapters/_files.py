"""The tables of a source layout (OMOP, MIMIC): read a table's files, project its columns,
number its rows (which files hold a table: adapters/_source_files.py).

Source dumps differ from site extracts in small ways this module absorbs: column names in upper
or lower case, tab-delimited text without quoting (Athena vocabulary files). Every batch comes
out as text columns with lower-case names plus `source_file`/`source_row` (CSV: the spreadsheet
row, header = 1; Parquet: 1-based). The names the adapters import from here (`__all__`) stay
importable from here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from hyposcreen.adapters._columns import (
    batch_column,
    first_present,
    id_text,
    normalize_ids,
    outside_read_window,
    text_column,
    timestamp,
)
from hyposcreen.adapters._source_files import (
    SUFFIXES,
    find_source_files,
    listing,
    packed_tables,
    parts_folder,
    split_tables,
)
from hyposcreen.config import SiteMapping
from hyposcreen.errors import InputError
from hyposcreen.ingest.canonical import IngestedTable, TableSchema
from hyposcreen.ingest.csv_source import whole_csv_batches
from hyposcreen.ingest.delivery import check_not_cut_off, check_unchanged, identity_to_read
from hyposcreen.ingest.excel_forms import ExcelFormCounter
from hyposcreen.ingest.frames import refuse_repeated, shown_header
from hyposcreen.ingest.header_rows import REASON as REPEATED_HEADER
from hyposcreen.ingest.linescan import arrow_stream, line_numbers
from hyposcreen.ingest.parquet_batches import check_flat_columns
from hyposcreen.ingest.suffixes import parquet
from hyposcreen.ingest.tabular import (
    MalformedRows,
    RowFilter,
    canonical_columns,
    empty_frame,
    file_record,
    finish_batch,
    header_of,
    malformed_frame,
    parquet_batches,
)
from hyposcreen.legacy_text import parse_encoding

_ROW = "__source_row"

__all__ = [
    "Prefilter", "SourceTable", "batch_column", "counts_entry", "find_source_files", "finish",
    "first_present", "id_text", "listing", "normalize_ids", "outside_read_window",
    "packed_tables", "parts_folder", "split_tables", "timestamp",
]  # fmt: skip

# An Arrow-level filter: (batch with lower-case text columns) -> (rows kept mask, dropped counts)
Prefilter = Callable[[pa.RecordBatch], tuple[pa.Array, Counter[str]]]


def _as_text_batch(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Every column as trimmed text (the row numbers stay numbers)."""
    arrays = [
        column if name == _ROW else text_column(column)
        for name, column in zip(batch.schema.names, batch.columns, strict=True)
    ]
    return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)


def _unquoted_batches(
    path: Path, encoding: str, header: list[str], include: list[str], malformed: MalformedRows
) -> Iterator[pa.RecordBatch]:
    """A tab-delimited file read without quote handling; the header (quotes stripped) is
    given explicitly."""

    def on_invalid(row: pacsv.InvalidRow) -> str:
        malformed.rows.append({"line": str(row.number or ""), "text": (row.text or "")[:500]})
        malformed.last_text = row.text  # the file's last line, when it was cut off
        return "skip"

    try:
        reader = pacsv.open_csv(
            arrow_stream(path),
            read_options=pacsv.ReadOptions(
                encoding=encoding, block_size=64 << 20, column_names=header, skip_rows=1
            ),
            parse_options=pacsv.ParseOptions(
                delimiter="\t", quote_char=False, invalid_row_handler=on_invalid
            ),
            convert_options=pacsv.ConvertOptions(
                include_columns=include,
                column_types={c: pa.string() for c in include},
                strings_can_be_null=True,
                null_values=[""],
            ),
        )
        yield from reader
        if malformed.rows:  # numbered here: Arrow does not, with the header given
            lines = line_numbers(path, [r["text"] for r in malformed.rows], encoding)
            for row, line in zip(malformed.rows, lines, strict=True):
                row["line"] = row["line"] or line
        check_not_cut_off(path, malformed.last_text, encoding)
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        if "utf8" in str(exc).lower() or isinstance(exc, UnicodeDecodeError):
            raise InputError(
                f"{path} is not {encoding} text (Athena vocabulary files are UTF-8; was it "
                "saved again by a spreadsheet?). Download it again, or set the file's encoding "
                "in the site mapping (csv: {encoding: latin-1}).",
                file=str(path),
            ) from exc
        raise InputError(f"{path} is not a readable text file: {exc}.", file=str(path)) from exc


@dataclass
class SourceTable:
    """One table of a source layout, read file by file in projected, numbered batches."""

    name: str
    files: list[Path]
    mapping: SiteMapping
    # Athena vocabulary files are tab-delimited without quoting: a concept name that starts
    # with a double quote must not swallow the lines after it
    unquoted_tabs: bool = False
    rows_read: int = 0
    malformed: list[tuple[Path, MalformedRows]] = field(default_factory=list)
    records: list[dict[str, object]] = field(default_factory=list)
    absent: Counter[str] = field(default_factory=Counter)  # wanted column -> files without it
    # a CSV's cells written ="..." for a spreadsheet, as read (ingest.excel_forms)
    excel_forms: ExcelFormCounter = field(default_factory=ExcelFormCounter)
    parts_folder: Path | None = None  # the table's folder of parts (_source_files.parts_folder)
    # rows the adapter did not use, by reason: count and first `file:row` places
    notes: dict[str, tuple[int, tuple[str, ...]]] = field(default_factory=dict)

    def batches(
        self,
        wanted: Sequence[str],
        required: Sequence[str] = (),
        prefilter: Prefilter | None = None,
        dropped: Counter[str] | None = None,
        one_of: Sequence[str] = (),
    ) -> Iterator[pd.DataFrame]:
        """Frames of the `wanted` columns (lower-case names; absent ones as nulls).

        Every file must have the `required` columns and at least one of `one_of`.
        """
        for path in self.files:
            identity = identity_to_read(path)  # the manifest's size: a file grown since is not
            header, delimiter = header_of(path, self.mapping)
            names_lower = [h.strip().lower() for h in header]
            refuse_repeated(path, self.name, names_lower, {*wanted, *required, *one_of})
            by_lower = dict(zip(names_lower, header, strict=True))
            missing = [c for c in required if c not in by_lower]
            if one_of and not any(c in by_lower for c in one_of):
                missing.append(" or ".join(one_of))
            if missing:
                raise InputError(
                    f"{path} ({self.name}) lacks required column(s) {', '.join(missing)}. "
                    f"Columns found: {shown_header(header, [*wanted, *required, *one_of])}.",
                    file=str(path),
                    column=missing[0],
                )
            include = [by_lower[c] for c in wanted if c in by_lower]
            self.absent.update(c for c in wanted if c not in by_lower)
            malformed = MalformedRows()
            is_csv = not parquet(path)
            if not is_csv:  # a struct or list column is refused before any cast to text
                check_flat_columns(path, pq.read_schema(path), {c: c for c in include}, self.name)
                source = parquet_batches(path, include)
            elif self.unquoted_tabs and delimiter == "\t":
                encoding = parse_encoding(self.mapping.encoding)
                source = _unquoted_batches(path, encoding, header, include, malformed)
            else:
                source = whole_csv_batches(path, self.mapping, delimiter, include, malformed, _ROW)
            file_rows = 0
            for batch in source:
                first = file_rows + (2 if is_csv else 1)
                file_rows += batch.num_rows
                lower = [n.lower() for n in batch.schema.names]
                if _ROW in batch.schema.names:  # a CSV's physical lines (ingest.recordscan)
                    self.excel_forms.count(batch, path.name, _ROW)  # every row, as read
                    named = batch.rename_columns(lower)
                else:
                    numbers = pa.array(np.arange(first, first + batch.num_rows, dtype=np.int64))
                    named = pa.RecordBatch.from_arrays([*batch.columns, numbers], [*lower, _ROW])
                if prefilter is not None:
                    # on the raw batch: only the columns the filter reads are converted
                    keep, counts = prefilter(named)
                    named = named.filter(keep)
                    if dropped is not None:
                        dropped.update(counts)
                yield self._to_frame(_as_text_batch(named), wanted, path)
            if malformed.rows:
                self.malformed.append((path, malformed))
                file_rows += len(malformed.rows)
            self.rows_read += file_rows
            check_unchanged(path, identity)  # its record's sha256 is of the bytes read
            self.records.append(file_record(path, file_rows, size=identity[1]))

    @staticmethod
    def _to_frame(batch: pa.RecordBatch, wanted: Sequence[str], path: Path) -> pd.DataFrame:
        frame = batch.to_pandas()
        for column in wanted:
            if column not in frame.columns:
                frame[column] = pd.Series(None, index=frame.index, dtype="str")
        frame["source_file"] = path.name
        frame["source_row"] = frame.pop(_ROW).astype("str")
        return frame

    def unsplit_places(self) -> list[str]:
        """`file:line` of each row read that did not split into the header's columns (a header
        line repeated where a concatenated part starts is none: it holds no data)."""
        rows = [(p, r) for p, m in self.malformed for r in m.rows]
        return [f"{p.name}:{r['line']}" for p, r in rows if r.get("reason") != REPEATED_HEADER]

    def read_all(
        self,
        wanted: Sequence[str],
        required: Sequence[str] = (),
        prefilter: Prefilter | None = None,
    ) -> pd.DataFrame:
        """A small table (dictionary, admissions, concept subset) as one frame."""
        parts = list(self.batches(wanted, required, prefilter))
        if not parts:
            return pd.DataFrame({c: pd.Series(dtype="str") for c in wanted})
        return pd.concat(parts, ignore_index=True)

    def ingested(
        self,
        schema: TableSchema,
        frames: list[pd.DataFrame],
        not_relevant: Counter[str],
        unmapped: Counter[str],
        present_columns: tuple[str, ...],
        extra_files: Sequence[dict[str, object]] = (),
        extra_counts: dict[str, dict[str, int]] | None = None,
        noted_absent: Sequence[str] = (),
        extra_tables: Sequence[SourceTable] = (),
    ) -> IngestedTable:
        """The canonical table read from this source table: mapped frames plus the rows the
        CSV parser could not split (quarantined malformed_row), with files and source counts;
        a `noted_absent` column some file lacks is counted (`files`, `files_without_<column>`);
        the cells written ="..." of `extra_tables` (read to map this one) are counted with its."""
        frames = [*frames, *(malformed_frame(m, path, schema) for path, m in self.malformed)]
        unmapped = unmapped.copy()
        unmapped["malformed_row"] += sum(len(m.rows) for _, m in self.malformed)
        entry = counts_entry(self.rows_read, unmapped)
        if any(self.absent[c] for c in noted_absent):
            entry["files"] = len(self.files)
            entry.update({f"files_without_{c}": self.absent[c] for c in noted_absent})
        return IngestedTable(
            schema.name,
            pd.concat(frames, ignore_index=True) if frames else empty_frame(schema),
            rows_in=self.rows_read,
            not_relevant={k: v for k, v in not_relevant.items() if v},
            files=[*self.records, *extra_files],
            present_columns=present_columns,
            parts_folder=self.parts_folder,
            part_suffixes=SUFFIXES,
            excel_forms=self.excel_forms.counts(*(t.excel_forms for t in extra_tables)),
            source_counts={
                self.name: entry,
                **(extra_counts or {}),
            },
        )


def counts_entry(read: int, unmapped: Counter[str] | dict[str, int]) -> dict[str, int]:
    """source_counts of one source table: read / mapped / unmapped and unmapped by reason."""
    total = int(sum(unmapped.values()))
    entry = {"read": int(read), "mapped": int(read) - total, "unmapped": total}
    entry.update({f"unmapped_{reason}": int(n) for reason, n in sorted(unmapped.items()) if n})
    return entry


def finish(
    frame: pd.DataFrame,
    schema: TableSchema,
    mapping: SiteMapping,
    row_filter: RowFilter,
    not_relevant: Counter[str],
) -> pd.DataFrame:
    """Canonical dtypes, then the shared tail of every reader (selector, times, window)."""
    return finish_batch(canonical_columns(frame, schema), schema, mapping, row_filter, not_relevant)
