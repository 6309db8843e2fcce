"""Cheap looks at a CSV's first bytes that decide how it is read: whether it is one line alone
(its header, which the parser cannot skip without a line end), whether its first byte
above ASCII starts valid UTF-8 (else it is a legacy latin-1 export), and whether a file the
mapping calls latin-1 is UTF-8 text."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hyposcreen.ingest.linescan import arrow_stream, open_bytes

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
    with arrow_stream(source) as stream:
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


_LATIN1_NAMES = frozenset(
    {"latin-1", "latin1", "latin_1", "iso-8859-1", "iso8859-1", "l1", "cp1252", "windows-1252"}
)


def declared_latin1_is_utf8(source: Path, encoding: str) -> bool:
    """Whether a file the mapping says is latin-1 (or Windows-1252) is UTF-8 text: its first
    block holds bytes above ASCII and decodes as UTF-8 whole. Latin-1 text almost never does
    (an accented letter is followed by plain letters, not by continuation bytes), while UTF-8
    read as latin-1 turns `Furosémide` into `FurosÃ©mide`, which no name list matches."""
    if encoding.strip().lower() not in _LATIN1_NAMES:
        return False
    with open_bytes(source) as stream:
        head = stream.read(_BLOCK)
    if len(head) == _BLOCK:  # whole lines only: a character may run over the block's end
        head = head[: head.rfind(b"\n") + 1]
    if not np.any(np.frombuffer(head, dtype=np.uint8) >= 0x80):
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
