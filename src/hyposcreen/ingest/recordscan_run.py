"""Running the record scan (ingest/recordscan.py) over a CSV's bytes: all at once, or in a
thread beside the CSV parser, which asks for the lines of each batch of rows it read."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import BinaryIO

import numpy as np

from hyposcreen.ingest.recordscan import CHUNK_BYTES, RecordLines, RecordScan


def record_lines(stream: BinaryIO, delimiter: str, columns: int | None) -> RecordLines:
    """Scan a CSV's bytes (`stream`: plain or decompressed text in an ASCII-compatible
    encoding) whose header has `columns` names. With `columns` None the field counts are not
    taken (a cheaper scan, right while the parser sets no record aside): every record counts
    as a row the parser keeps."""
    scan = RecordScan(ord(delimiter), columns)
    while chunk := stream.read(CHUNK_BYTES):
        while chunk.endswith(b"\r") and (more := stream.read(1)):  # keep CR LF in one chunk
            chunk += more
        scan.chunk(chunk)
    return scan.finish()


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
                while not self._stop and (chunk := stream.read(CHUNK_BYTES)):
                    while chunk.endswith(b"\r") and (more := stream.read(1)):
                        chunk += more
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
