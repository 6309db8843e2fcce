"""The files of a FHIR Bulk Data export: which resource type each holds, and streaming them.

A file is `<Type>[anything].ndjson` (or `.ndjson.gz`, `.jsonl`, `.jsonl.gz`), anywhere under the
input folder. Its resource type comes from its name (`Observation.000.ndjson`,
`MedicationRequest_2.ndjson.gz`, `medication_request-1.ndjson`), else from the name of a folder
it sits in (`Observation/part-0.ndjson`), else from the `resourceType` of its lines (a file
named by a download's id, `7c0e1f2a-....ndjson`): when its first lines are of one type, all
its lines are looked at, so one that goes on with another type is read for every table.
Files are read in blocks of whole lines; nothing loads a file at once. A `.json` / `.json.gz`
file is a JSON document (a Bundle or one resource, see `fhir_documents`, `DOCUMENTS`), unless
its first line is a whole resource: then it is NDJSON under another name.
"""

from __future__ import annotations

import gzip
import io
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hyposcreen.adapters._source_files import UNREAD_PACKINGS
from hyposcreen.adapters.fhir_documents import (
    DOCUMENT_SUFFIXES,
    NDJSON,
    NDJSON_SUFFIXES,
    is_document_name,
    pretty_printed,
    shown_path,
    sniff,
)
from hyposcreen.adapters.fhir_lines import parse_resource
from hyposcreen.adapters.fhir_resource_types import RESOURCE_TYPES
from hyposcreen.errors import InputError
from hyposcreen.ingest.files import is_bookkeeping
from hyposcreen.ingest.listing import listed_files
from hyposcreen.ingest.suffixes import gzipped

SUFFIXES = NDJSON_SUFFIXES + DOCUMENT_SUFFIXES
_BY_LETTERS = sorted(
    ((t.lower(), t) for t in RESOURCE_TYPES), key=lambda pair: len(pair[0]), reverse=True
)
MIXED = "mixed"  # files of Bundles or of several resource types: read for every table
DOCUMENTS = "documents"  # JSON documents (a Bundle or a resource each): read whole, every table
_BLOCK = 16 << 20
_PEEK_LINES = 5
# a line that starts with its resourceType (`{"resourceType":"Observation",...`)
_LEADING_TYPE = re.compile(rb'^[ \t]*\{[ \t]*"resourceType"[ \t]*:[ \t]*"([A-Za-z]+)"', re.M)


def is_export_file(path: Path) -> bool:
    return path.is_file() and path.name.lower().endswith(SUFFIXES)


def is_document(path: Path) -> bool:
    """A JSON document read whole (not NDJSON under a .json name; or pretty-printed under an
    NDJSON name)."""
    if is_document_name(path.name):
        return sniff(path) not in (NDJSON, None)
    return pretty_printed(path)


def _stem(name: str) -> str:
    lower = name.lower()
    for suffix in sorted(SUFFIXES, key=len, reverse=True):
        if lower.endswith(suffix):
            return name[: -len(suffix)]
    return name


def type_from_name(name: str) -> str | None:
    """The resource type a file or folder name starts with (letters only, any case)."""
    letters = re.sub(r"[^a-z]", "", name.lower())
    for lowered, resource_type in _BY_LETTERS:
        if letters.startswith(lowered):
            return resource_type
    return None


def unread_packed(input_dir: Path) -> list[Path]:
    """Files packed in a way the reader does not open whose name says they hold export files
    (`Observation.000.ndjson.bz2`, `Condition.zip`): read as nothing, their resources would be
    missing without a word."""
    found = []
    for path in sorted(input_dir.rglob("*")):
        packing = next((s for s in UNREAD_PACKINGS if path.name.lower().endswith(s)), None)
        if packing is None or not path.is_file() or is_bookkeeping(path, input_dir):
            continue
        inner = path.name[: -len(packing)]
        if inner.lower().endswith(SUFFIXES) or type_from_name(_stem(inner)) is not None:
            found.append(path)
    return found


def peek_types(path: Path) -> list[str]:
    """The resourceTypes of the file's first lines that are FHIR resources."""
    found = []
    try:
        for _, line in iter_lines(path, limit=_PEEK_LINES):
            if (parsed := parse_resource(line)) is not None:
                found.append(str(parsed["resourceType"]))
    except InputError:
        return []
    return found


def line_types(path: Path) -> set[str]:
    """The resourceTypes of all the file's lines that are FHIR resources: a line starting with
    its resourceType, as exporters write them, read by a regex over whole blocks; any other
    line parsed. Empty when the file cannot be read."""
    found: set[str] = set()
    try:
        for buffer, end in iter_blocks(path):
            leading = _LEADING_TYPE.findall(buffer, 0, end)
            found.update(kind.decode() for kind in leading)
            if len(leading) == count_lines(buffer, end)[0]:
                continue
            for line in bytes(buffer[:end]).split(b"\n"):
                if line.strip() and not _LEADING_TYPE.match(line):
                    found.update([str(p["resourceType"])] if (p := parse_resource(line)) else [])
    except InputError:
        return set()
    return found


def classify(input_dir: Path) -> tuple[dict[str, list[Path]], list[Path]]:
    """Export files by resource type (`MIXED`: Bundles, or several types in one file;
    `DOCUMENTS`: JSON documents), and the files that hold no FHIR resources."""
    by_type: dict[str, list[Path]] = {}
    unknown: list[Path] = []
    files = [p for p in listed_files(input_dir) if p.name.lower().endswith(SUFFIXES)]
    for path in files:
        if is_document_name(path.name) and (kind := sniff(path)) != NDJSON:
            if kind is None:
                unknown.append(path)
            else:
                by_type.setdefault(DOCUMENTS, []).append(path)
            continue
        if pretty_printed(path):  # a Bundle saved pretty-printed under an NDJSON name
            by_type.setdefault(DOCUMENTS, []).append(path)
            continue
        found = type_from_name(_stem(path.name))
        if found is None:
            folders = path.relative_to(input_dir).parts[:-1]
            found = next((t for f in reversed(folders) if (t := type_from_name(f))), None)
        if found is None:  # by its lines: all of them when the first are of one type
            peeked = set(peek_types(path))
            peeked = (line_types(path) or peeked) if len(peeked) == 1 else peeked
            found = peeked.pop() if len(peeked) == 1 else (MIXED if peeked else None)
        if found is None:
            unknown.append(path)
        else:
            by_type.setdefault(MIXED if found == "Bundle" else found, []).append(path)
    return by_type, unknown


class _Hashing(io.RawIOBase):
    """A raw file that feeds every byte read into a digest (the manifest's sha256 without a
    second pass over the file)."""

    def __init__(self, raw: io.RawIOBase, digest: Any) -> None:
        self.raw, self.digest = raw, digest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = self.raw.readinto(buffer) or 0
        if count:
            self.digest.update(memoryview(buffer)[:count])
        return count

    def close(self) -> None:
        self.raw.close()
        super().close()


def _open(path: Path, digest: Any) -> io.BufferedIOBase | io.RawIOBase:
    raw: io.RawIOBase = io.FileIO(path, "rb")
    if digest is not None:
        raw = _Hashing(raw, digest)
    if gzipped(path):
        return gzip.GzipFile(fileobj=io.BufferedReader(raw, 1 << 20), mode="rb")
    return raw


def iter_blocks(path: Path, digest: Any = None) -> Iterator[tuple[bytearray, int]]:
    """(buffer, end): `buffer[:end]` holds whole lines (at the end of the file the last one may
    lack its newline); a UTF-8 BOM at the start of the file is dropped. `digest` (a hashlib
    object), when given, receives the file's bytes as they are read.

    One buffer is reused for the whole file (refilled with readinto): no large allocation per
    block. The caller copies what it keeps.
    """
    buffer = bytearray(_BLOCK)
    filled = 0
    first = True
    try:
        with _open(path, digest) as handle:
            while True:
                if filled == len(buffer):  # one line longer than the buffer: grow it
                    buffer.extend(bytes(len(buffer)))
                with memoryview(buffer) as view:
                    count = handle.readinto(view[filled:])
                if not count:
                    if filled:
                        yield buffer, filled
                    return
                end = filled + count
                if first:
                    first = False
                    if buffer.startswith(b"\xef\xbb\xbf"):
                        buffer[0 : end - 3] = buffer[3:end]
                        end -= 3
                cut = buffer.rfind(b"\n", 0, end) + 1
                if cut == 0:
                    filled = end
                    continue
                yield buffer, cut
                buffer[0 : end - cut] = buffer[cut:end]
                filled = end - cut
    except (OSError, EOFError, zlib.error) as exc:
        shown = shown_path(path)  # a document's name may be its patient's
        raise InputError(f"{shown} cannot be read: {exc}.", file=shown) from exc


def iter_lines(
    path: Path, limit: int | None = None, digest: Any = None
) -> Iterator[tuple[int, bytearray]]:
    """(line number, line) of every non-blank line; numbers count blank lines too (1-based)."""
    number = 0
    seen = 0
    for buffer, end in iter_blocks(path, digest):
        position = 0
        while position < end:
            newline = buffer.find(b"\n", position, end)
            stop = end if newline < 0 else newline
            line = buffer[position:stop]
            position = stop + 1
            number += 1
            if not line.strip():
                continue
            yield number, line
            seen += 1
            if limit is not None and seen >= limit:
                return


def count_lines(buffer: bytearray, end: int) -> tuple[int, int]:
    """(non-blank lines, newlines) of `buffer[:end]`, whole lines: at C speed when every line
    starts with `{` (as NDJSON lines do), else by splitting."""
    newlines = buffer.count(b"\n", 0, end)
    ends_with_newline = end > 0 and buffer[end - 1] == 0x0A
    lines = newlines + (0 if ends_with_newline or end == 0 else 1)
    if buffer.count(b"\n{", 0, end) + (buffer[:1] == b"{") == lines:
        return lines, newlines
    blank = sum(1 for line in bytes(buffer[:end]).split(b"\n") if not line.strip())
    return lines - blank + (1 if ends_with_newline else 0), newlines
