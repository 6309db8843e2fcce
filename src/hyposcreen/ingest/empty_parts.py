"""Empty parts of a table delivered as a folder of files: an export tool that writes one file
per month may write a month with no rows as a file of zero bytes (no header line either), e.g.
`labs/2026-09.csv` beside `labs/2026-10.csv` and `labs/2026-11.csv`, or as a byte-order mark
and a line end alone.

Such a part is read as a part with no rows (listed in the manifest's files with 0 rows, so a
control total that counts it still reconciles), and the run warns (exit 4), naming the file: a
zero-byte file cannot be told from an export that stopped before writing anything, and a lab
extract without a month of rows may lack patients. A table whose every file is empty still
stops the run (the reader's InputError: no header line). The warning is made at publish
(`empty_file_warnings`), from the manifest's records of the files."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path

from hyposcreen.ingest.files import file_record
from hyposcreen.ingest.suffixes import gzipped, parquet


def parts_to_read(
    files: Sequence[Path], records: list[dict[str, object]], rows_by_file: dict[Path, int]
) -> Iterator[Path]:
    """A table's `files`, as they come to be read; an empty part among them is not read but
    listed with no rows in `records` (the manifest's files) and `rows_by_file` (the rows the
    control totals compare), in its place."""
    empty = empty_parts(files)
    for path in files:
        if path not in empty:
            yield path
            continue
        records.append({**file_record(path, 0), "empty_part": True})
        rows_by_file[path] = 0


def empty_parts(files: Sequence[Path]) -> list[Path]:
    """The CSV files among a table's `files` that hold nothing (`_holds_nothing`), when some
    other file of the table holds something; else none (the reader stops at the first)."""
    empty = [path for path in files if _holds_nothing(path)]
    return empty if len(empty) < len(files) else []


def _holds_nothing(path: Path) -> bool:
    """Zero bytes, or nothing but a byte-order mark and line ends (as Excel's "CSV UTF-8"
    writes an empty sheet), also inside a `.csv.gz`."""
    if parquet(path):
        return False  # a Parquet writer always writes its footer: an empty one is damaged
    try:
        if not gzipped(path):
            if path.stat().st_size > _SMALL:
                return False
            head = path.read_bytes()
        else:
            with gzip.open(path, "rb") as handle:
                head = handle.read(_SMALL + 1)
    except (OSError, EOFError, zlib.error):
        return False  # a damaged file: the reader names it
    return len(head) <= _SMALL and _blank(head)


_SMALL = 64  # bytes: a file longer than this holds something
_MARKS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")  # UTF-8, UTF-16 byte-order marks


def _blank(data: bytes) -> bool:
    for mark in _MARKS:
        data = data.removeprefix(mark)
    return data.replace(b"\x00", b"").strip() == b""
