"""A CSV file as `TableStream` (ingest.tabular) reads it: the text it parses (the encoding, a
UTF-8 copy of a UTF-16/32 file, the copy without the rows over the size limit), the Arrow types
of its projected columns, and the checks once it is read that the file was whole (not cut off,
no quoted value left open, no rows swallowed by a stray quote). Parquet files need none of it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

from hyposcreen.config import SiteMapping
from hyposcreen.ingest.batches import csv_batches
from hyposcreen.ingest.csv_parser import MalformedRows
from hyposcreen.ingest.delivery import (
    check_no_swallowed_rows,
    check_not_cut_off,
    check_quotes_closed,
)
from hyposcreen.ingest.linescan import scanned
from hyposcreen.ingest.oversized import parse_copy
from hyposcreen.ingest.suffixes import gzipped
from hyposcreen.ingest.text_probes import declared_latin1_is_utf8
from hyposcreen.ingest.wide_text import utf8_copy, wide_encoding
from hyposcreen.legacy_text import parse_encoding
from hyposcreen.scratch import HeldScratch


def text_source(
    path: Path, mapping: SiteMapping, max_row_bytes: int, scratch: Path
) -> tuple[str, Path | None]:
    """The encoding to parse a CSV with and the copy to parse instead of it, if any: a UTF-8
    copy of a UTF-16/32 file (ingest.wide_text), without its rows over the size limit
    (ingest.oversized). A file the mapping calls latin-1 that is UTF-8 text is read as UTF-8
    (ingest.text_probes)."""
    wide = wide_encoding(path, mapping.encoding)
    if wide is None:
        declared = mapping.encoding
        encoding = "utf-8" if declared_latin1_is_utf8(path, declared) else parse_encoding(declared)
        return encoding, parse_copy(path, max_row_bytes, scratch)
    text = utf8_copy(path, wide, scratch)
    return "utf-8", parse_copy(text, max_row_bytes, scratch) or text


def text_schema(names: list[str]) -> pa.Schema:
    """The Arrow types of a CSV's projected columns (`csv_batches` reads every one as text)."""
    return pa.schema([(name, pa.string()) for name in names])


def check_read_whole(path: Path, malformed: MalformedRows, max_row_bytes: int) -> None:
    """Raise (InputError) when the CSV just read was cut off mid-row, left a quoted value open
    to its end, or had rows swallowed by a quoted field running on (ingest.delivery)."""
    check_not_cut_off(path, malformed.last_text, malformed.encoding, _tail(path, max_row_bytes))
    check_quotes_closed(path, malformed.open_quote_line)
    check_no_swallowed_rows(
        path,
        malformed.first_spanning,
        malformed.encoding,
        malformed.first_spanning_line(),
    )


def whole_csv_batches(
    path: Path,
    mapping: SiteMapping,
    delimiter: str,
    include: list[str],
    malformed: MalformedRows,
    line_column: str,
) -> Iterator[pa.RecordBatch]:
    """A CSV of a source layout (OMOP, MIMIC) read as a canonical table's is: a UTF-16/32 file
    through its UTF-8 copy, rows over the size limit set aside, and, once read, the checks
    that the file was whole (`check_read_whole`: not cut off mid-row, no quoted value left
    open, no rows swallowed by a stray quote), so a cut-off `labevents.csv` stops the night as
    a cut-off `labs.csv` does instead of screening the rows before the cut."""
    scratch = HeldScratch("")  # the copy made to parse it holds patient rows (0700)
    try:
        encoding, read_from = text_source(
            path, mapping, malformed.max_row_bytes, Path(scratch.name)
        )
        yield from csv_batches(
            path, encoding, delimiter, include, malformed, read_from, line_column=line_column
        )
    finally:
        scratch.cleanup()
    check_read_whole(path, malformed, malformed.max_row_bytes)


def _tail(path: Path, max_row_bytes: int) -> bytes | None:
    """A `.gz`'s last bytes, from the scan that counted it (None for a plain CSV)."""
    return scanned(path, max_row_bytes).tail if gzipped(path) else None
