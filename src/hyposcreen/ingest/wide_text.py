"""CSVs written in UTF-16 or UTF-32 (Windows tools: PowerShell's `>` and `Out-File`, "Unicode"
exports of SQL clients and spreadsheets) are read from a UTF-8 copy.

Such a file was refused as "binary bytes" (each character has a zero byte). Its encoding is
known from its byte-order mark, or from the mapping's `encoding`; the copy is decoded in 16 MB
steps (never whole in memory) into the run's scratch folder and keeps every line where it was,
so rows are numbered by the lines of the delivered file.
"""

from __future__ import annotations

import codecs
import os
import tempfile
from pathlib import Path

from hyposcreen.errors import InputError
from hyposcreen.ingest.linescan import open_bytes

WIDE_ENCODINGS = ("utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be")
_CHUNK = 16 << 20


def wide_encoding(path: Path, encoding: str) -> str | None:
    """The UTF-16/UTF-32 encoding of a CSV (its byte-order mark, else the mapping's
    `encoding`), or None for a file in an ASCII-compatible encoding."""
    try:
        with open_bytes(path) as stream:
            head = stream.read(4)
    except (OSError, EOFError):  # unreadable or no gzip: the reader's checks say so
        head = b""
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        return None
    return name if name in WIDE_ENCODINGS else None


def utf8_copy(path: Path, encoding: str, folder: Path) -> Path:
    """A UTF-8 copy of `path` (decompressed) read as `encoding`, in `folder`."""
    handle, name = tempfile.mkstemp(prefix="utf8-", suffix=".csv", dir=folder)
    os.close(handle)
    copy = Path(name)
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with open_bytes(path) as source, copy.open("wb") as target:
            while chunk := source.read(_CHUNK):
                target.write(decoder.decode(chunk).encode("utf-8"))
            target.write(decoder.decode(b"", final=True).encode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path} is not readable as {encoding} (byte {exc.start} of a block: {exc.reason}). "
            "Export it again in one encoding (UTF-8 is best); nothing was screened.",
            file=str(path),
        ) from exc
    return copy
