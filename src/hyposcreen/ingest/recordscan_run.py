"""Running the record scan (ingest/recordscan.py) over a CSV's bytes: all at once, or in a
thread beside the CSV parser, which asks for the lines of each batch of rows it read."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np

from hyposcreen.ingest.csv_header import parsed_names
from hyposcreen.ingest.linescan import open_bytes
from hyposcreen.ingest.recordscan import CHUNK_BYTES, RecordLines, RecordScan
from hyposcreen.ingest.wide_text import wide_encoding


def record_lines(stream: BinaryIO, delimiter: str, columns: int | None) -> RecordLines:
    """Scan a CSV's bytes (`stream`: plain or decompressed text in an ASCII-compatible
    encoding) whose header has `columns` names. With `columns` None the field counts are not
    taken (a cheaper scan, right while the parser sets no record aside): every record counts
    as a row the parser keeps."""
    scan = RecordScan(ord(delimiter), columns)
    for chunk in _chunks(stream):
        scan.chunk(chunk)
    return scan.finish()


def _chunks(stream: BinaryIO, stopped: Callable[[], bool] = lambda: False) -> Iterator[bytes]:
    """The stream's bytes CHUNK_BYTES at a time (until `stopped()`), a chunk that ends in CR
    taking the LF after it: CR LF is one line end, kept in one chunk."""
    while not stopped() and (chunk := stream.read(CHUNK_BYTES)):
        while chunk.endswith(b"\r") and (more := stream.read(1)):
            chunk += more
        yield chunk


class ScanInBackground:
    """The scan without field counts (`record_lines(stream, delimiter, None)`) in a thread
    beside the parser (numpy leaves the interpreter lock while it works): `lines_of` waits only
    until the scan has passed the rows it asks for. `opener` gives the bytes to scan."""

    def __init__(self, opener: Callable[[], BinaryIO], delimiter: str) -> None:
        self._scan = RecordScan(ord(delimiter), None)
        self._ready = threading.Condition()
        self._done = self._stop = False
        self._error: BaseException | None = None
        self._result: RecordLines | None = None
        self._thread = threading.Thread(
            target=self._run, args=(opener,), name="hyposcreen-record-scan", daemon=True
        )
        self._thread.start()

    def _run(self, opener: Callable[[], BinaryIO]) -> None:
        try:
            with opener() as stream:
                for chunk in _chunks(stream, lambda: self._stop):
                    with self._ready:
                        self._scan.chunk(chunk)
                        self._ready.notify_all()
            with self._ready:
                if not self._stop:
                    self._result = self._scan.finish()
        except BaseException as exc:  # handed to the reader in lines_of
            self._error = exc
        finally:
            with self._ready:
                self._done = True
                self._ready.notify_all()

    def lines_of(self, first: int, count: int) -> np.ndarray:
        """`RecordLines.lines_of` once the scan has passed those rows."""
        with self._ready:
            self._ready.wait_for(lambda: self._done or self._scan.result.kept >= first + count)
            if self._error is not None:
                raise self._error
            known = self._scan.so_far()
        return known.lines_of(first, count)

    def finished(self) -> RecordLines | None:
        """The whole file's scan, once it is done (None when it was stopped)."""
        with self._ready:
            self._ready.wait_for(lambda: self._done)
            if self._error is not None:
                raise self._error
            return self._result

    def close(self) -> None:
        """Stop scanning (the reader stopped): the thread ends after its chunk."""
        self._stop = True


def scannable(source: Path, encoding: str, delimiter: str) -> bool:
    """Whether the encoding writes the delimiter, quotes and line ends as single ASCII bytes
    (not UTF-16 or UTF-32: then the rows are counted instead of scanned)."""
    return (
        wide_encoding(source, encoding) is None and len(delimiter.encode("latin-1", "replace")) == 1
    )


def rows_only_scan(source: Path, encoding: str, delimiter: str) -> ScanInBackground | None:
    """The scan without field counts, started in a thread (ingest.recordscan)."""
    if not scannable(source, encoding, delimiter):
        return None
    return ScanInBackground(lambda: open_bytes(source), delimiter)


def scan_lines(source: Path, encoding: str, delimiter: str, path: Path) -> RecordLines | None:
    """Where the records of `source` start and which have another field count than the header
    of `path` (ingest.recordscan), when the file can be scanned."""
    if not scannable(source, encoding, delimiter):
        return None
    columns = len(parsed_names(source, encoding, delimiter, path))
    with open_bytes(source) as stream:
        return record_lines(stream, delimiter, columns)
