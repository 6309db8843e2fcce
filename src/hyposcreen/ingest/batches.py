"""Arrow record batches of one extract file: CSV (legacy encodings, rows the parser cannot split
collected as malformed, each row's physical line, repeated header lines set aside) or Parquet
(ingest.parquet_batches, whose names stay importable from here).

A CSV's column names are read once (ingest.csv_header) and given to the parser, so the names
the header check saw are the names the batches carry."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from hyposcreen.errors import InputError
from hyposcreen.ingest.csv_header import (
    TRAILING,
    header_lines,
    header_of,
    parsed_names,
)
from hyposcreen.ingest.header_rows import REASON as REPEATED_HEADER
from hyposcreen.ingest.header_rows import repeated_headers
from hyposcreen.ingest.linescan import open_bytes
from hyposcreen.ingest.oversized import oversized_size
from hyposcreen.ingest.parquet_batches import (
    BATCH_ROWS,
    damage_checked,
    may_hold_null_words,
    null_words,
    parquet_batches,
    parquet_file,
)
from hyposcreen.ingest.recordscan import RecordLines
from hyposcreen.ingest.recordscan_run import ScanInBackground, record_lines
from hyposcreen.ingest.wide_text import wide_encoding

__all__ = [
    "BATCH_ROWS",
    "DEFAULT_MAX_ROW_BYTES",
    "TRAILING",
    "MalformedRows",
    "csv_batches",
    "damage_checked",
    "header_of",
    "may_hold_null_words",
    "null_words",
    "parquet_batches",
    "parquet_file",
]

_CSV_BLOCK = 16 << 20
DEFAULT_MAX_ROW_BYTES = 16 << 20  # rules.yaml contracts.max_row_bytes overrides it


@dataclass
class MalformedRows:
    """Rows the CSV parser could not split into the header's columns (quarantined later)."""

    rows: list[dict[str, str]] = field(default_factory=list)
    last_text: str | None = None  # the latest one's whole text (is the file cut off there?)
    encoding: str = "utf-8"  # the encoding the file was read with
    max_row_bytes: int = DEFAULT_MAX_ROW_BYTES  # longer rows are quarantined oversized_row
    # the first malformed record that spans lines (a quoted field ran on: a stray quote?),
    # kept in memory only to find its line; never logged
    first_spanning: str | None = None
    first_spanning_at: int = -1  # its place in `rows` (whose "line" the scan gives)
    # the line where a quoted value opens that is never closed (it ran on to the end of the
    # file over the rows after it; ingest.recordscan), 0: none or not known
    open_quote_line: int = 0


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
    rows_only = _rows_only(source, encoding, delimiter)  # beside the parser
    scan: RecordLines | ScanInBackground | None = rows_only
    full = False
    names = parsed_names(source, encoding, delimiter, path)
    trailing = [TRAILING] if TRAILING in names else []  # read to find a value there
    set_aside: list[dict[str, str]] = []  # rows the parser kept that are no data rows
    rows_read = 0
    try:
        for batch in _parsed_batches(
            path, encoding, delimiter, include + trailing, malformed, read_from
        ):
            if malformed.rows and not full:  # records set aside: find them by field count
                scan, full = _scan_lines(source, encoding, delimiter, path), True
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
        scan = _scan_lines(source, encoding, delimiter, path)
    if isinstance(scan, RecordLines) and len(scan.set_aside) == len(malformed.rows):
        for row, line in zip(malformed.rows, scan.set_aside.tolist(), strict=True):
            row["line"] = str(line)
    malformed.rows += set_aside


def _scannable(source: Path, encoding: str, delimiter: str) -> bool:
    """Whether the encoding writes the delimiter, quotes and line ends as single ASCII bytes
    (not UTF-16 or UTF-32: then the rows are counted instead of scanned)."""
    return (
        wide_encoding(source, encoding) is None and len(delimiter.encode("latin-1", "replace")) == 1
    )


def _rows_only(source: Path, encoding: str, delimiter: str) -> ScanInBackground | None:
    """The scan without field counts, started in a thread (ingest.recordscan)."""
    if not _scannable(source, encoding, delimiter):
        return None
    return ScanInBackground(lambda: open_bytes(source), delimiter)


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


def _scan_lines(source: Path, encoding: str, delimiter: str, path: Path) -> RecordLines | None:
    """Where the records of `source` start and which have another field count than the header
    of `path` (ingest.recordscan), when the file can be scanned."""
    if not _scannable(source, encoding, delimiter):
        return None
    columns = len(parsed_names(source, encoding, delimiter, path))
    with open_bytes(source) as stream:
        return record_lines(stream, delimiter, columns)


def _parsed_batches(
    path: Path,
    encoding: str,
    delimiter: str,
    include: list[str],
    malformed: MalformedRows,
    read_from: Path | None,
) -> Iterator[pa.RecordBatch]:
    """The parser's batches of a CSV file (`read_from`: the copy to parse, or None)."""

    def on_invalid(row: pacsv.InvalidRow) -> str:
        if (row.text or "").rstrip("\r\n") == "\x1a":  # a DOS end-of-file mark: no row
            return "skip"
        size = oversized_size(row.text)
        if size is not None:
            text, reason = f"(a row of {size} bytes, over the size limit)", "oversized_row"
        else:
            text, reason = (row.text or "")[:500], "malformed_row"
            malformed.last_text = row.text
            if malformed.first_spanning is None and "\n" in (row.text or ""):
                malformed.first_spanning = row.text
                malformed.first_spanning_at = len(malformed.rows)
        malformed.rows.append({"line": str(row.number or ""), "text": text, "reason": reason})
        return "skip"

    def open_reader(enc: str, skip: int = 0) -> pacsv.CSVStreamingReader:
        return pacsv.open_csv(
            read_from or path,
            read_options=pacsv.ReadOptions(
                encoding=enc,
                block_size=block_size,
                column_names=names,  # the header's names, trimmed; its line is skipped
                skip_rows=header_skip,
                skip_rows_after_names=skip,
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter, newlines_in_values=True, invalid_row_handler=on_invalid
            ),
            convert_options=pacsv.ConvertOptions(
                include_columns=include,
                column_types={c: pa.string() for c in include},
                strings_can_be_null=True,
                null_values=["", *null_words()],
                quoted_strings_can_be_null=True,
            ),
        )

    names = parsed_names(read_from or path, encoding, delimiter, path)
    header_skip = header_lines(read_from or path, encoding)
    malformed.encoding = encoding
    block_size = max(_CSV_BLOCK, malformed.max_row_bytes + (1 << 20))
    try:
        reader = open_reader(encoding)
        first = reader.read_next_batch() if include else None
    except pa.ArrowInvalid as exc:
        if "could not skip initial" in str(exc).lower() and _header_alone(read_from or path):
            return  # the header line without a line end: a table of no rows
        if "utf8" not in str(exc).lower():
            raise InputError(f"{path} is not a readable CSV file: {exc}.", file=str(path)) from exc
        # Legacy extracts are often Windows-1252/latin-1: read them rather than fail the night.
        malformed.rows.clear()
        malformed.last_text, malformed.encoding = None, "latin-1"
        malformed.first_spanning, malformed.first_spanning_at = None, -1
        reader = open_reader("latin-1")
        first = reader.read_next_batch() if include else None
    except StopIteration:
        return
    if first is None:
        return
    yield first
    yield from _later_batches(path, read_from or path, reader, open_reader, malformed, first)


def _later_batches(
    path: Path,
    source: Path,
    reader: pacsv.CSVStreamingReader,
    open_reader: Callable[[str, int], pacsv.CSVStreamingReader],
    malformed: MalformedRows,
    first: pa.RecordBatch,
) -> Iterator[pa.RecordBatch]:
    """The batches after the first. A legacy extract whose first non-ASCII byte comes after
    the first block and is not UTF-8: the rows read so far are ASCII, alike in latin-1, so the
    rest is read as latin-1 from the first row not yet read (rows the parser set aside count as
    rows). A file whose first non-ASCII text is UTF-8 mixes encodings: an InputError. `source`
    is the file parsed (`path`, or its copy)."""
    rows_read = first.num_rows
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            return
        except pa.ArrowInvalid as exc:
            if "utf8" not in str(exc).lower() or malformed.encoding == "latin-1":
                raise InputError(
                    f"{path} is not a readable CSV file: {exc}.", file=str(path)
                ) from exc
            if _first_non_ascii_is_utf8(source):
                raise InputError(
                    f"{path} mixes encodings: its first rows hold UTF-8 text, a later block "
                    "is not UTF-8. Export the file in one encoding (UTF-8 or latin-1).",
                    file=str(path),
                ) from exc
            malformed.last_text, malformed.encoding = None, "latin-1"
            reader = open_reader("latin-1", rows_read + len(malformed.rows))
            continue
        rows_read += batch.num_rows
        yield batch


def _header_alone(source: Path) -> bool:
    """Whether the file is one line without a line end (its header: the parser cannot skip it)."""
    with open_bytes(source) as stream:
        head = stream.read(_CSV_BLOCK)
    return b"\n" not in head and b"\r" not in head and len(head) < _CSV_BLOCK


def _first_non_ascii_is_utf8(source: Path) -> bool:
    """Whether the file's first byte above ASCII starts a valid UTF-8 character (a gzip file
    is read decompressed). Asked only once a block failed to decode as UTF-8, so reading
    ASCII text costs nothing on the way."""
    with pa.input_stream(str(source), compression="detect") as stream:
        while chunk := stream.read(_CSV_BLOCK):
            above = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) >= 0x80)
            if len(above):
                start = int(above[0])
                sequence = chunk[start : start + 4] + stream.read(4)  # it may run on
                length = _utf8_length(sequence[0])
                try:
                    return length > 0 and bool(sequence[:length].decode("utf-8"))
                except UnicodeDecodeError:
                    return False
    return False


def _utf8_length(lead: int) -> int:
    """The length of the UTF-8 character a lead byte starts (0: not a lead byte)."""
    if 0xC2 <= lead <= 0xDF:
        return 2
    if 0xE0 <= lead <= 0xEF:
        return 3
    if 0xF0 <= lead <= 0xF4:
        return 4
    return 0
