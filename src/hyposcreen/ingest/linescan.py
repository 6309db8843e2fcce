"""One pass over a CSV's bytes (plain or gzip, decompressed in chunks, never whole in memory):
lines longer than the row size limit, line ends and bytes counted, and the last bytes kept.

A `.csv.gz` is scanned before it is parsed: the scan finds its oversized rows (ingest.oversized),
its decompressed size and line count (the in-memory estimate of the partitioned runner uses
them instead of the gzip trailer), its tail (is the CSV cut off inside a quoted field?), and a
gzip stream cut short (InputError: "compressed file ends early"). The result is kept per file
(offsets and counts only, never values), so the estimate and the read share one pass.
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa

from hyposcreen.errors import InputError
from hyposcreen.ingest.suffixes import gzipped

CHUNK_BYTES = 16 << 20  # decompressed bytes per step: bounds the scan's memory
TAIL_BYTES = 64 << 10  # last bytes kept for the cut-off check


@dataclass(frozen=True)
class LineScan:
    """What one pass over a file's (decompressed) bytes found."""

    long_lines: tuple[tuple[int, int], ...]  # (start offset, length) of lines over `limit`
    limit: int  # the size limit the scan used
    line_ends: int  # b"\n" seen (data rows + header, + newlines inside quoted fields)
    size: int  # decompressed bytes
    tail: bytes  # the last TAIL_BYTES of them


def open_bytes(path: Path) -> BinaryIO:
    """The file's bytes as a stream: decompressed for `.gz`."""
    if gzipped(path):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


def arrow_stream(path: Path) -> pa.NativeFile:
    """The file's bytes as an Arrow stream for the CSV parser: decompressed for `.gz` in any
    letter case (`MEASUREMENT.CSV.GZ`; Arrow's own detection knows the lower-case suffix only).
    A `.gz` is decompressed by Python's gzip, as `open_bytes` and the scan read it: Arrow's
    decompressor stops on zero bytes padding the file after its stream, which gzip ignores."""
    if gzipped(path):
        return pa.PythonFile(open_bytes(path), mode="r")
    return pa.input_stream(str(path))


def scan_stream(stream: BinaryIO, limit: int) -> LineScan:
    """Scan `stream` chunk by chunk with numpy (no loop over rows)."""
    found: list[tuple[int, int]] = []
    line_start = offset = line_ends = 0
    tail = b""
    while chunk := stream.read(CHUNK_BYTES):
        ends = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == 10) + offset
        line_ends += len(ends)
        if len(ends):
            starts = np.concatenate(([line_start], ends[:-1] + 1))
            lengths = ends - starts
            over = lengths > limit
            found += zip(starts[over].tolist(), lengths[over].tolist(), strict=True)
            line_start = int(ends[-1]) + 1
        offset += len(chunk)
        tail = (tail + chunk[-TAIL_BYTES:])[-TAIL_BYTES:]
        del chunk, ends
    if offset - line_start > limit:  # a last line without line end
        found.append((line_start, offset - line_start))
    return LineScan(tuple(found), limit, line_ends, offset, tail)


def scan_file(path: Path, limit: int) -> LineScan:
    """Scan a file; a damaged gzip stream is an InputError naming the file."""
    try:
        with open_bytes(path) as stream:
            return scan_stream(stream, limit)
    except EOFError as exc:
        shown = _shown(path)
        raise InputError(
            f"{shown}: the compressed file ends early (the gzip stream was cut off: {exc}). "
            "The delivery is incomplete; ask the sender for the whole file. Nothing was screened.",
            file=shown,
        ) from exc
    except (gzip.BadGzipFile, zlib.error) as exc:
        shown = _shown(path)
        raise InputError(
            f"{shown} is not a readable gzip file ({exc}): the delivery is damaged. Ask the "
            "sender for the file again; nothing was screened.",
            file=shown,
        ) from exc


def _shown(path: Path) -> str:
    """The file as the stop names it (a FHIR JSON document's name may be its patient's)."""
    from hyposcreen.adapters.fhir_documents import shown_path  # the package imports this one

    return shown_path(path)


_KEPT_SCANS = 64  # files whose scan is kept (a run reads a handful)
_scans: dict[tuple[str, int, int], LineScan] = {}


def scanned(path: Path, limit: int) -> LineScan:
    """`scan_file`, once per file version: a scan with a limit at most `limit` is reused."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    known = _scans.get(key)
    if known is None or known.limit > limit:
        if len(_scans) >= _KEPT_SCANS:
            _scans.clear()
        known = _scans[key] = scan_file(path, limit)
    if known.limit == limit:
        return known
    longer = tuple(line for line in known.long_lines if line[1] > limit)
    return replace(known, long_lines=longer, limit=limit)


def decompressed_size(path: Path, limit: int) -> int:
    """Bytes of a CSV as text, counted by streaming it (the read reuses the same pass)."""
    return scanned(path, limit).size if gzipped(path) else path.stat().st_size


def line_numbers(path: Path, texts: list[str], encoding: str) -> list[str]:
    """The line (header = 1) of each of `texts`, rows a parser skipped without saying where (an
    Arrow parser reading a named header does not number them), found by reading the file's
    lines in order until the last is found: only a file with such rows is read again. A text
    is compared on its first 500 characters, as the skipped rows keep them."""
    found: list[str] = []
    with open_bytes(path) as stream:
        for number, line in enumerate(stream, start=1):
            if len(found) == len(texts):
                break
            text = line.rstrip(b"\r\n").decode(encoding, errors="replace")
            if number > 1 and text[:500] == texts[len(found)][:500]:
                found.append(str(number))
    return found + [""] * (len(texts) - len(found))
