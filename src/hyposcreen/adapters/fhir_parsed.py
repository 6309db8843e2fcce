"""FHIR JSON documents parsed once per run: every table (and the Specimen / Medication look-ups)
reads a document's resources from here instead of parsing the whole document again.

A run reads the export once per canonical table, and the labs and medications tables look up
Specimens and Medications first: without this, a Synthea Bundle per patient (~1 MB, mostly
claims and vital signs) was parsed up to six times. The first read of a document parses it
(`fhir_documents.read_document`) and keeps, in memory only, its sha256, its error text and one
item per resource in its order: place, resourceType and, for the types a table reads
(`KEPT_TYPES`, and entries holding no resource), the resource as compact JSON. Later reads
parse only the resources of the types they ask for; a resource of another type comes back as
a bare `{"resourceType": ...}` stub (its place still counts). The JSON round trip gives the
same values (orjson writes floats as the shortest text that reads back as the same float).

The kept JSON (~1/3 of the documents' size for Synthea, and about as much resident memory)
is bounded by `CACHE_BYTES` and 1/8 of the memory the process may use: once full,
further documents are parsed on every read, as before (the Specimen / Medication look-up then
skips a document whose text does not name the type, unparsed). A document is known by its
path, modification time and size: a file changed during a run is read again. Nothing is
written to disk (no pickles of patient data).
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Collection
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import orjson

from hyposcreen.adapters.fhir_documents import PSEUDO_TYPES, Resource, read_document

# Resource types each table maps, and those it looks up by reference.
TABLE_TYPES = {
    "labs": ("Observation", "DiagnosticReport", "OperationOutcome"),
    "medications": (
        "MedicationRequest",
        "MedicationStatement",
        "MedicationAdministration",
        "MedicationDispense",  # a pharmacy's hand-over, for its days' supply
        "MedicationOrder",  # DSTU2's name for MedicationRequest, left in older exports
    ),
    "diagnoses": ("Condition",),
    "patients": ("Patient",),
}
SUPPORT_TYPES = {
    "labs": ("Specimen",),
    "medications": ("Medication",),
    "diagnoses": ("Encounter",),
}
KEPT_TYPES = (
    frozenset(t for types in (*TABLE_TYPES.values(), *SUPPORT_TYPES.values()) for t in types)
    | PSEUDO_TYPES
)
CACHE_BYTES = 1 << 30  # compact JSON kept across a run's documents, at most; and at most
_MEMORY_SHARE = 8  # 1/8 of the memory the process may use (RAM, or the container's limit)
_CGROUP_LIMIT = Path("/sys/fs/cgroup/memory.max")

Place = tuple[str, Resource]


@dataclass(frozen=True)
class _Parsed:
    """A kept document as a few large objects (many small ones would pin the memory of the
    freed parse in place): places and types joined by newlines, and the kept resources' JSON
    joined by newlines (JSON text holds none), an empty line for a resource not kept."""

    places: str
    kinds: str
    payload: bytes
    problem: str
    sha256: str


_cache: dict[tuple[str, int, int], _Parsed] = {}
_used = [0]
_lock = threading.Lock()


def document_places(
    path: Path, types: Collection[str], holding: str | None = None
) -> tuple[list[Place], str, str]:
    """(places, problem, sha256) of a document, as `read_document` gives them; a resource whose
    type is not in `types` (and is no `PSEUDO_TYPES` entry) may be a bare stub. `holding`: a
    look-up of one type, which may skip parsing a document that does not name it (`places`
    then empty; only when the document cannot be kept)."""
    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    with _lock:
        parsed = _cache.get(key)
    if parsed is None:
        digest = hashlib.sha256()
        room = _used[0] < _budget()
        places, problem = read_document(path, digest, None if room else holding)
        if room:
            _keep(key, places, problem, digest.hexdigest())
        return places, problem, digest.hexdigest()
    if not parsed.places:
        return [], parsed.problem, parsed.sha256
    stubs: dict[str, Resource] = {}
    found: list[Place] = []
    items = zip(
        parsed.places.split("\n"),
        parsed.kinds.split("\n"),
        parsed.payload.split(b"\n"),
        strict=True,
    )
    for place, kind, payload in items:
        if kind in types or kind in PSEUDO_TYPES:
            found.append((place, orjson.loads(payload)))
        else:
            found.append((place, stubs.setdefault(kind, {"resourceType": kind})))
    return found, parsed.problem, parsed.sha256


def _keep(key: tuple[str, int, int], places: list[Place], problem: str, sha256: str) -> None:
    kinds = [resource["resourceType"] for _, resource in places]
    payload = b"\n".join(
        orjson.dumps(resource) if kind in KEPT_TYPES else b""
        for kind, (_, resource) in zip(kinds, places, strict=True)
    )
    parsed = _Parsed(
        "\n".join(place for place, _ in places), "\n".join(kinds), payload, problem, sha256
    )
    with _lock:
        if _used[0] + len(payload) <= _budget() and key not in _cache:
            _cache[key] = parsed
            _used[0] += len(payload)


def _budget() -> int:
    return min(CACHE_BYTES, _memory() // _MEMORY_SHARE)


@lru_cache(maxsize=1)
def _memory() -> int:
    """Bytes of memory the process may use: physical RAM, or a cgroup v2 limit below it."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    try:
        limit = _CGROUP_LIMIT.read_text().strip()
    except OSError:
        return int(total)
    return min(int(total), int(limit)) if limit.isdigit() else int(total)


def keep_only(paths: Collection[Path]) -> None:
    """Drop the kept documents that are not among `paths` as they are now (a long-lived
    process: last night's export, or another input folder, is not held)."""
    current = set()
    for path in paths:
        stat = path.stat()
        current.add((str(path), stat.st_mtime_ns, stat.st_size))
    with _lock:
        for key in [k for k in _cache if k not in current]:
            _used[0] -= len(_cache.pop(key).payload)


def documents_as_one(input_dir: Path, records: list[dict[str, object]]) -> list[dict[str, object]]:
    """The manifest's entry for the JSON documents of an export: one entry for all of them
    (their count, rows, bytes, and a digest of their digests in name order), since an export
    of one document per patient names each file for its patient (Synthea's
    `Given_Family_<id>.json`) and the manifest holds no identifiers. quarantine.csv (0600)
    still names a document's rows by file and place."""
    if not records:
        return []
    ordered = sorted(records, key=lambda record: str(record["path"]))
    digest = hashlib.sha256("\n".join(str(r["sha256"]) for r in ordered).encode()).hexdigest()
    return [
        {
            "path": f"{input_dir}/ (JSON documents, not named here)",
            "sha256": digest,
            "rows": sum(int(str(r["rows"])) for r in ordered),
            "bytes": sum(int(str(r["bytes"])) for r in ordered),
            "documents": len(ordered),
        }
    ]
