"""Cheap looks at a CSV's first bytes that decide how it is read: whether it is one line alone
(its header, which the parser cannot skip without a line end), and whether its first byte
above ASCII starts valid UTF-8 (else it is a legacy latin-1 export)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from hyposcreen.ingest.linescan import open_bytes

_BLOCK = 16 << 20


def header_alone(source: Path) -> bool:
    """Whether the file is one line without a line end (its header: the parser cannot skip it)."""
    with open_bytes(source) as stream:
        head = stream.read(_BLOCK)
    return b"\n" not in head and b"\r" not in head and len(head) < _BLOCK


def first_non_ascii_is_utf8(source: Path) -> bool:
    """Whether the file's first byte above ASCII starts a valid UTF-8 character (a gzip file
    is read decompressed). Asked only once a block failed to decode as UTF-8, so reading
    ASCII text costs nothing on the way."""
    with pa.input_stream(str(source), compression="detect") as stream:
        while chunk := stream.read(_BLOCK):
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
