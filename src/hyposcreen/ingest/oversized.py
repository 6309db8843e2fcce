"""Rows over the size limit (rules.yaml contracts.max_row_bytes) are quarantined, not the night.

The CSV parser cannot hold a row longer than its block, and a 100 MB field is no lab result. A
plain CSV larger than the limit is scanned for line ends with numpy (no loop over rows); when
a line is over the limit, the file is read from a copy in which that line is replaced by a
one-field marker, which the parser reports as an invalid row: the reader quarantines it as
`oversized_row` (with its size, never its text). A `.csv.gz` is always scanned, decompressed
in chunks (ingest.linescan: the same pass counts it); its copy is the decompressed text.
"""

from __future__ import annotations

import mmap
import os
import tempfile
from pathlib import Path
from typing import BinaryIO

from hyposcreen.errors import naming_the_file
from hyposcreen.ingest.linescan import open_bytes, scanned
from hyposcreen.ingest.suffixes import gzipped

MARKER = "__hyposcreen_oversized_row__"
_CHUNK = 16 << 20


def may_have_long_lines(path: Path, limit: int) -> bool:
    """False when every stretch of limit/2 bytes holds a line end (then no line is longer than
    `limit`): one find per stretch on a memory map, so a clean file costs next to nothing."""
    half = max(1, limit // 2)
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        size = len(data)
        for start in range(0, max(0, size - half) + 1, half):
            if data.find(b"\n", start, start + half) < 0:
                return True
    return False


def without_long_lines(path: Path, lines: list[tuple[int, int]], folder: Path) -> Path:
    """A copy of `path` (decompressed) with each long line replaced by the marker and its size;
    `lines` in file order (a gzip stream is only sought forward)."""
    handle, name = tempfile.mkstemp(prefix="oversized-", suffix=".csv", dir=folder)
    os.close(handle)
    copy = Path(name)
    with open_bytes(path) as source, copy.open("wb") as target:
        position = 0
        for start, length in lines:
            _copy_range(source, target, position, start)
            with naming_the_file(copy):
                target.write(f"{MARKER} {length}".encode())
            position = start + length
        _copy_range(source, target, position, None)
        with naming_the_file(copy):
            target.flush()  # what the close would write, named too
    return copy


def _copy_range(source: BinaryIO, target: BinaryIO, start: int, end: int | None) -> None:
    source.seek(start)
    remaining = None if end is None else end - start
    while remaining is None or remaining > 0:
        block = source.read(_CHUNK if remaining is None else min(_CHUNK, remaining))
        if not block:
            return
        with naming_the_file(Path(target.name)):  # a write the machine stops names the copy
            target.write(block)
        if remaining is not None:
            remaining -= len(block)


def parse_copy(path: Path, limit: int, folder: Path) -> Path | None:
    """A copy without the rows over `limit` bytes, when the CSV has any (else None)."""
    if not gzipped(path):
        if path.stat().st_size <= limit or not may_have_long_lines(path, limit):
            return None
    lines = list(scanned(path, limit).long_lines)
    return without_long_lines(path, lines, folder) if lines else None


def oversized_size(text: str | None) -> int | None:
    """The size a marker row stands for, or None when the invalid row is no marker."""
    if not text or not text.startswith(MARKER):
        return None
    return int(text[len(MARKER) :].strip() or 0)
