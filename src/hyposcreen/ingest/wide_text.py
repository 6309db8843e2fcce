"""CSVs written in UTF-16 or UTF-32 (Windows tools: PowerShell's `>` and `Out-File`, "Unicode"
exports of SQL clients and spreadsheets) are read from a UTF-8 copy.

Such a file was refused as "binary bytes" (each character has a zero byte). Its encoding is
known from its byte-order mark, else from the zero bytes of its first characters (SQL Server's
`bcp -w` writes UTF-16 LE without a mark; an ASCII header line has a zero byte beside each
character), else from the mapping's `encoding`; the copy is decoded in 16 MB
steps (never whole in memory) into the run's scratch folder and keeps every line where it was,
so rows are numbered by the lines of the delivered file.
"""

from __future__ import annotations

import codecs
import os
import tempfile
from pathlib import Path

from hyposcreen.errors import InputError, naming_the_file
from hyposcreen.ingest.linescan import open_bytes

WIDE_ENCODINGS = ("utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be")
_CHUNK = 16 << 20


def wide_encoding(path: Path, encoding: str) -> str | None:
    """The UTF-16/UTF-32 encoding of a CSV (its byte-order mark, else the zero bytes of its
    first characters, else the mapping's `encoding`), or None for a file in an
    ASCII-compatible encoding. Without a mark the byte order is always named: Python's
    `utf-16` / `utf-32` decoders refuse a stream that does not start with one."""
    try:
        with open_bytes(path) as stream:
            head = stream.read(_HEAD)
    except (OSError, EOFError):  # unreadable or no gzip: the reader's checks say so
        head = b""
    marked = marked_encoding(head)
    if marked is not None:
        return marked
    unmarked = _unmarked(head)
    if unmarked is not None:
        return unmarked
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        return None
    if name in ("utf-16", "utf-32"):  # no mark and no zero bytes to tell the order: LE
        return f"{name}-le"
    return name if name in WIDE_ENCODINGS else None


_HEAD = 64


def marked_encoding(head: bytes) -> str | None:
    """ "utf-32" or "utf-16" when `head` starts with that encoding's byte-order mark (UTF-32
    LE's mark begins with UTF-16 LE's: it is looked for first), else None."""
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return None


def _unmarked(head: bytes) -> str | None:
    """The UTF-16/32 encoding (with its byte order) of a file without a byte-order mark whose
    first characters are ASCII (a header line): a zero byte beside each, in the same place."""
    size = len(head) // 4 * 4
    if size < 8:
        return None
    words = [head[at : at + 4] for at in range(0, size, 4)]
    for name, zeros in (
        ("utf-32-le", (1, 2, 3)),
        ("utf-32-be", (0, 1, 2)),
        ("utf-16-le", (1, 3)),
        ("utf-16-be", (0, 2)),
    ):
        if all(word[at] == 0 for word in words for at in zeros) and all(
            any(word[at] for at in range(4) if at not in zeros) for word in words
        ):
            return name
    return None


def utf8_copy(path: Path, encoding: str, folder: Path) -> Path:
    """A UTF-8 copy of `path` (decompressed) read as `encoding`, in `folder`."""
    handle, name = tempfile.mkstemp(prefix="utf8-", suffix=".csv", dir=folder)
    os.close(handle)
    copy = Path(name)
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with open_bytes(path) as source, copy.open("wb") as target:
            while chunk := source.read(_CHUNK):
                text = decoder.decode(chunk).encode("utf-8")
                with naming_the_file(copy):  # a write the machine stops names the copy
                    target.write(text)
            text = decoder.decode(b"", final=True).encode("utf-8")
            with naming_the_file(copy):
                target.write(text)
                target.flush()  # what the close would write, named too
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path} is not readable as {encoding} (byte {exc.start} of a block: {exc.reason}). "
            "Export it again in one encoding (UTF-8 is best); nothing was screened.",
            file=str(path),
        ) from exc
    return copy
