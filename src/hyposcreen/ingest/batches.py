"""Arrow record batches of one extract file: CSV (the parser's batches, ingest.csv_parser, with
each row's physical line, repeated header lines and rows with a value after their last column
set aside) or Parquet (ingest.parquet_batches, whose names stay importable from here).

A CSV's column names are read once (ingest.csv_header) and given to the parser, so the names
the header check saw are the names the batches carry."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa

from hyposcreen.ingest.csv_header import TRAILING, header_of, parsed_names
from hyposcreen.ingest.csv_parser import MalformedRows, parsed_batches
from hyposcreen.ingest.footer_lines import settle_trailing
from hyposcreen.ingest.header_rows import REASON as REPEATED_HEADER
from hyposcreen.ingest.header_rows import repeated_headers
from hyposcreen.ingest.parquet_batches import (
    BATCH_ROWS,
    damage_checked,
    may_hold_null_words,
    null_words,
    parquet_batches,
    parquet_file,
)
from hyposcreen.ingest.recordscan import RecordLines
from hyposcreen.ingest.recordscan_run import ScanInBackground, rows_only_scan, scan_lines

__all__ = [
    "BATCH_ROWS",
    "TRAILING",
    "csv_batches",
    "damage_checked",
    "header_of",
    "may_hold_null_words",
    "null_words",
    "parquet_batches",
    "parquet_file",
]


def csv_batches(
    path: Path,
    encoding: str,
    delimiter: str,
    include: list[str],
    malformed: MalformedRows,
    read_from: Path | None = None,
    line_column: str | None = None,
) -> Iterator[pa.RecordBatch]:
    """Batches of a CSV file; `read_from` is a copy to parse instead (ingest.oversized). With
    `line_column`, each batch carries the physical line each of its rows starts on (int64,
    header = line 1; ingest.recordscan), and each malformed row is given its line."""
    source = read_from or path
    rows_only = rows_only_scan(source, encoding, delimiter)  # beside the parser
    scan: RecordLines | ScanInBackground | None = rows_only
    full = False
    names = parsed_names(source, encoding, delimiter, path)
    trailing = [TRAILING] if TRAILING in names else []  # read to find a value there
    set_aside: list[dict[str, str]] = []  # rows the parser kept that are no data rows
    rows_read = 0
    try:
        for batch in parsed_batches(
            path, encoding, delimiter, include + trailing, malformed, read_from
        ):
            if malformed.rows and not full:  # records set aside: find them by field count
                scan, full = scan_lines(source, encoding, delimiter, path), True
            lines = (
                scan.lines_of(rows_read, batch.num_rows)
                if scan is not None
                else np.arange(rows_read + 2, rows_read + 2 + batch.num_rows, dtype=np.int64)
            )
            rows_read += batch.num_rows
            batch, lines = _not_data(batch, lines, include, names, path, set_aside)
            if line_column is not None:
                batch = batch.append_column(line_column, pa.array(lines))
            yield batch
        whole = scan if isinstance(scan, RecordLines) else rows_only and rows_only.finished()
        malformed.open_quote_line = whole.open_quote_line if whole else 0
    finally:
        if rows_only is not None:
            rows_only.close()
    if malformed.rows and not full:
        scan = scan_lines(source, encoding, delimiter, path)
    if isinstance(scan, RecordLines) and len(scan.set_aside) == len(malformed.rows):
        for row, line in zip(malformed.rows, scan.set_aside.tolist(), strict=True):
            row["line"] = str(line)
    malformed.rows += set_aside
    settle_trailing(malformed.rows, scan if isinstance(scan, RecordLines) else None)


def _not_data(
    batch: pa.RecordBatch,
    lines: np.ndarray,
    include: list[str],
    names: list[str],
    path: Path,
    set_aside: list[dict[str, str]],
) -> tuple[pa.RecordBatch, np.ndarray]:
    """`batch` (and its rows' `lines`) without the rows that are no data rows, which are added
    to `set_aside`: header lines repeated inside the file (ingest.header_rows) and, in a file
    whose data lines end with the delimiter, a row with a value after its last column (a
    field too many: a value with an unquoted delimiter shifted it, as `malformed_row`)."""
    drop = np.zeros(batch.num_rows, bool)
    again = repeated_headers(batch, include, names, lines, path)
    if again is not None:
        text = "(the header line, repeated)"
        set_aside += [
            {"line": str(line), "text": text, "reason": REPEATED_HEADER}
            for line in lines[again].tolist()
        ]
        drop |= again
    if TRAILING in batch.schema.names:
        extra = batch.column(TRAILING).is_valid().to_numpy(zero_copy_only=False) & ~drop
        text = "(a row with a value after its last column)"
        set_aside += [
            {"line": str(line), "text": text, "reason": "malformed_row"}
            for line in lines[extra].tolist()
        ]
        drop |= extra
        batch = batch.drop_columns([TRAILING])
    if drop.any():
        return batch.filter(pa.array(~drop)), lines[~drop]
    return batch, lines
