"""The Arrow CSV parser's batches of one extract file: the header's names given to the parser
(ingest.csv_header), every column read as text with the null words as nulls, a legacy extract
read as Windows-1252/latin-1 when it is not UTF-8 (from its first row, or from the first row not
yet read when a later block is not), and the records the parser cannot split set aside in
`MalformedRows` (rows over the size limit, a SQL client's footer line, malformed rows).
ingest.batches gives each batch its rows' lines and sets aside the rows that are no data rows."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from hyposcreen.errors import InputError
from hyposcreen.ingest.csv_header import header_lines, parsed_names
from hyposcreen.ingest.footer_lines import footer_row
from hyposcreen.ingest.linescan import arrow_stream
from hyposcreen.ingest.oversized import oversized_size
from hyposcreen.ingest.parquet_batches import null_words
from hyposcreen.ingest.text_probes import first_non_ascii_is_utf8, header_alone
from hyposcreen.legacy_text import LEGACY_ENCODING

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

    def first_spanning_line(self) -> int | None:
        """The line of the first malformed record spanning lines, when the record scan gave
        it."""
        at = self.first_spanning_at
        line = self.rows[at]["line"] if 0 <= at < len(self.rows) else ""
        return int(line) if line.isdigit() else None


def parsed_batches(
    path: Path,
    encoding: str,
    delimiter: str,
    include: list[str],
    malformed: MalformedRows,
    read_from: Path | None,
) -> Iterator[pa.RecordBatch]:
    """The parser's batches of a CSV file (`read_from`: the copy to parse, or None)."""

    def on_invalid(row: pacsv.InvalidRow) -> str:
        _set_aside(row, malformed)
        return "skip"

    def open_reader(enc: str, skip: int = 0) -> pacsv.CSVStreamingReader:
        return pacsv.open_csv(
            arrow_stream(read_from or path),
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
        if "could not skip initial" in str(exc).lower() and header_alone(read_from or path):
            return  # the header line without a line end: a table of no rows
        if "utf8" not in str(exc).lower():
            raise InputError(f"{path} is not a readable CSV file: {exc}.", file=str(path)) from exc
        if first_non_ascii_is_utf8(read_from or path):  # UTF-8 text, then bytes that are not
            raise _mixed_encodings(path) from exc
        # Legacy extracts are often Windows-1252/latin-1: read them rather than fail the night.
        malformed.rows.clear()
        malformed.last_text, malformed.encoding = None, LEGACY_ENCODING
        malformed.first_spanning, malformed.first_spanning_at = None, -1
        reader = open_reader(LEGACY_ENCODING)
        first = reader.read_next_batch() if include else None
    except UnicodeDecodeError as exc:
        raise _undecodable(path, encoding) from exc
    except StopIteration:
        return
    if first is None:
        return
    yield first
    yield from _later_batches(path, read_from or path, reader, open_reader, malformed, first)


def _set_aside(row: pacsv.InvalidRow, malformed: MalformedRows) -> None:
    """Keep a record the parser could not split (too few or too many fields) in `malformed`:
    a row over the size limit, a SQL client's footer line (ingest.footer_lines) or a
    malformed row; a DOS end-of-file mark is no record."""
    if (row.text or "").rstrip("\r\n") == "\x1a":  # a DOS end-of-file mark: no row
        return
    size = oversized_size(row.text)
    footer = footer_row(str(row.number or ""), row.text) if size is None else None
    if footer is not None:  # `(171 rows affected)`: no row, nor one cut off
        malformed.rows.append(footer)
        return
    if size is not None:
        text, reason = f"(a row of {size} bytes, over the size limit)", "oversized_row"
    else:
        text, reason = (row.text or "")[:500], "malformed_row"
        malformed.last_text = row.text
        if malformed.first_spanning is None and "\n" in (row.text or ""):
            malformed.first_spanning = row.text
            malformed.first_spanning_at = len(malformed.rows)
    malformed.rows.append({"line": str(row.number or ""), "text": text, "reason": reason})


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
    rows). A file whose first non-ASCII text is UTF-8 mixes encodings: an InputError (so is
    one whose first block already holds both). `source`
    is the file parsed (`path`, or its copy)."""
    rows_read = first.num_rows
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            return
        except UnicodeDecodeError as exc:
            raise _undecodable(path, malformed.encoding) from exc
        except pa.ArrowInvalid as exc:
            if "utf8" not in str(exc).lower() or malformed.encoding == LEGACY_ENCODING:
                raise InputError(
                    f"{path} is not a readable CSV file: {exc}.", file=str(path)
                ) from exc
            if first_non_ascii_is_utf8(source):
                raise _mixed_encodings(path) from exc
            malformed.last_text, malformed.encoding = None, LEGACY_ENCODING
            reader = open_reader(LEGACY_ENCODING, rows_read + len(malformed.rows))
            continue
        rows_read += batch.num_rows
        yield batch


def _mixed_encodings(path: Path) -> InputError:
    """A CSV whose first text above ASCII is UTF-8 and which holds bytes UTF-8 does not read
    later on (rows appended by another tool): read as latin-1, its UTF-8 text would turn into
    other words (`Furosémide` as `FurosÃ©mide`, a drug no longer recognised), read as UTF-8
    its other rows would not read. Named, never with its text."""
    return InputError(
        f"{path} mixes encodings: its first rows hold UTF-8 text, later ones are not UTF-8. "
        "Export the file in one encoding (UTF-8 or latin-1).",
        file=str(path),
    )


def _undecodable(path: Path, encoding: str) -> InputError:
    """A CSV holding bytes its declared encoding (the site mapping's csv.encoding) has no
    character for: named with the encoding, never with its text."""
    return InputError(
        f"{path} is not {encoding} text: it holds bytes that encoding does not define. Set the "
        "file's real encoding in the site mapping (csv: {encoding: ...}, e.g. utf-8 or "
        "cp1252), or ask the sender for a UTF-8 export.",
        file=str(path),
    )
