"""A deleted Patient's id that records of the export also hold as an identifier's value no
Patient holds: not known to be the deleted Patient's, in any table.

A record naming its patient by an identifier no Patient of the export holds (fhir_subjects)
keeps the identifier's value as its patient id. When that value is also the id of a Patient
the export records deleted (a numeric MRN beside a server's numeric ids), the rows under that
id cannot be told apart: some may be a living patient's. Such an id is set aside in no table
and the patients table keeps the Patient (fhir_deleted_patients): the tables agree, whichever
of them holds the identifier's records, and the night warns (`unordered_patient_deletions`).

Only an export holding a deleted Patient looks: the records' files (those of the labs,
medications and diagnoses, files of Bundles, JSON documents) are searched for the deleted ids'
bytes as the tables may read them (`fhir_types.text`: a JSON string, stripped, or a number):
`"1203"`, `|1203"`, `" 1203 "`, `"value": 1203`, or spelt with a JSON escape (`"\\u0031203"`,
`"\\t1203"`), once per file state and process (a literal search, the bytes around it checked:
~0.1 s of CPU per 400 MB); the lines holding one are parsed, and their records' subjects named
by identifier resolved as the tables resolve them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from hyposcreen.adapters.fhir_documents import bundle_places
from hyposcreen.adapters.fhir_files import DOCUMENTS, MIXED, is_document, iter_blocks, iter_lines
from hyposcreen.adapters.fhir_lines import parse_resource
from hyposcreen.adapters.fhir_parsed import TABLE_TYPES, document_places
from hyposcreen.adapters.fhir_scan import Resource
from hyposcreen.adapters.fhir_subjects import SubjectResolver
from hyposcreen.adapters.fhir_types import subject_of
from hyposcreen.errors import InputError

RECORD_TYPES = tuple(t for name in ("labs", "medications", "diagnoses") for t in TABLE_TYPES[name])


def lookalike_ids(by_type: dict[str, list[Path]], deleted: frozenset[str]) -> frozenset[str]:
    """Of the `deleted` Patients' ids, those records of the export (`by_type`: its files by
    type) hold as the value of an identifier no Patient holds (module text)."""
    if not deleted:
        return frozenset()
    mixed = by_type.get(MIXED, []) + by_type.get(DOCUMENTS, [])
    records = [p for kind in RECORD_TYPES for p in by_type.get(kind, [])] + mixed
    patients = by_type.get("Patient", []) + mixed
    states = tuple((p, p.stat().st_size, p.stat().st_mtime_ns) for p in records + patients)
    return _lookalikes(tuple(records), tuple(patients), deleted, states)


@lru_cache(maxsize=4)
def _lookalikes(
    records: tuple[Path, ...],
    patients: tuple[Path, ...],
    deleted: frozenset[str],
    states: tuple[tuple[Path, int, int], ...],
) -> frozenset[str]:
    """`lookalike_ids` of one state of the files (`states`: the cache's key)."""
    needle = _needle(deleted)
    unresolved: set[str] = set()
    resolver = SubjectResolver(list(patients), unresolved)
    for path in records:
        for resource in _resources(path, needle):
            for item in [resource, *_contained(resource)]:
                # the rows' patient id as the mappers read it; resolve notes it when it is
                # an identifier's value no Patient holds (a literal reference is left alone)
                if (patient := subject_of(item)) is not None and patient in deleted:
                    resolver.resolve(item, [(patient,)])
    return frozenset(unresolved) & deleted


def _resources(path: Path, needle: _Needle) -> Iterator[Resource]:
    """The resources of the lines of `path` holding `needle` (a document: all of them)."""
    if is_document(path):
        yield from (r for _, r in document_places(path, RECORD_TYPES)[0])
        return
    if not _holds(path, needle):
        return
    for _, line in iter_lines(path):
        if _found(needle, line, len(line)) and (parsed := parse_resource(line)) is not None:
            if parsed["resourceType"] == "Bundle":
                yield from (r for _, r in bundle_places(parsed))
            else:
                yield parsed


def _holds(path: Path, needle: _Needle) -> bool:
    """Whether the file holds `needle`, as far as it reads (the table reading it tells a
    damaged file)."""
    try:
        return any(_found(needle, buffer, end) for buffer, end in iter_blocks(path))
    except InputError:
        return False


_Needle = tuple[re.Pattern[bytes], re.Pattern[bytes]]  # the ids' bytes; escapes of their chars


def _needle(deleted: frozenset[str]) -> _Needle:
    """The ids as literal bytes, and the JSON escapes of their characters (`\\u0031` for `1`,
    either letter case; a character beyond the BMP by its first surrogate)."""
    ids = b"|".join(re.escape(rid.encode()) for rid in sorted(deleted))
    chars = sorted(set("".join(deleted)))
    escaped = [f"u{_first_unit(c):04x}".encode() for c in chars]
    escaped += [re.escape(c.encode()) for c in chars if c in '"\\/']
    literal = re.compile(rb"(?:" + ids + rb")(?![0-9A-Za-z])")  # the search keeps its prefix
    return literal, re.compile(rb"\\(?:" + b"|".join(escaped) + b")", re.I)


def _first_unit(char: str) -> int:
    """The UTF-16 unit a JSON escape of `char` starts with (its first surrogate past the BMP)."""
    code = ord(char)
    return code if code <= 0xFFFF else 0xD800 + ((code - 0x10000) >> 10)


def _found(needle: _Needle, buffer: bytes | bytearray, end: int) -> bool:
    """Whether `buffer[:end]` holds an id of `needle` as the tables may read it: its bytes not
    inside a longer word (no letter or digit beside them, unless a JSON escape ends right before
    them: `"\\t1203"`), or one of its characters escaped (module text). The ids are searched
    as literals, the bytes around them checked (a class beside them slows the search ~10x)."""
    literal, escapes = needle
    at = 0
    while (found := literal.search(buffer, at, end)) is not None:
        start = found.start()
        before = buffer[start - 1] if start > 0 else 0x0A
        if not _word(before) or 0x5C in buffer[max(0, start - 12) : start]:
            return True
        at = start + 1
    return escapes.search(buffer, 0, end) is not None


def _word(byte: int) -> bool:
    return (0x30 <= byte <= 0x39) or (0x41 <= byte <= 0x5A) or (0x61 <= byte <= 0x7A)


def _contained(resource: Resource) -> list[Resource]:
    found = resource.get("contained")
    return [r for r in found if isinstance(r, dict)] if isinstance(found, list) else []
