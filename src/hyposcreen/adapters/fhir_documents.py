"""FHIR JSON documents: a `.json` (or `.json.gz`) file holding one Bundle or one resource,
usually pretty-printed over many lines, read whole.

Synthea writes one transaction Bundle per patient (`Ana_Kub_<uuid>.json`, beside
`hospitalInformation*.json` and `practitionerInformation*.json`); a FHIR server's search
page saved to disk is a searchset Bundle; HL7's examples are single resources. A `.json` file
whose first line is already a whole FHIR resource is NDJSON under another name and is read
line by line like the export's other files. A `.json` file that names no `resourceType` in its
first 64 kB is not FHIR (Synthea's run `metadata/*.json`, a Bulk Data status manifest) and is
ignored with a warning. A document's rows are numbered by their place in it, as FHIRPath
writes them: `entry[3]` is the Bundle's fourth entry (0-based), `entry[3].1` the second row
of that entry (an Observation panel), `1` a document that is a single resource.
"""

from __future__ import annotations

import gzip
import re
import zlib
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson

from hyposcreen.errors import InputError
from hyposcreen.ingest.suffixes import gzipped

NDJSON_SUFFIXES = (".ndjson", ".ndjson.gz", ".jsonl", ".jsonl.gz")
DOCUMENT_SUFFIXES = (".json", ".json.gz")
NDJSON = "ndjson"  # `sniff`: a .json file of one resource per line
_HEAD = 64 << 10
_MAX_DEPTH = 8  # Bundles inside Bundles read this deep
_TOP_TYPE = re.compile(rb'\A\s*\{\s*"resourceType"\s*:\s*"([A-Za-z]+)"')
# Pseudo resource types for entries that hold no FHIR resource, kept so the reader accounts
# for them (`fhir_scan`): `{"resourceType": MALFORMED_ENTRY, "entry": <the entry as found>}`.
MALFORMED_ENTRY = "#malformed"  # a `resource` without a resourceType, or not an object
EMPTY_ENTRY = "#no-resource"  # no `resource` at all (a transaction's DELETE, a history's delete)
PSEUDO_TYPES = frozenset((MALFORMED_ENTRY, EMPTY_ENTRY))

Resource = dict[str, Any]
# how a message names a JSON document (its name may carry the patient's: Synthea's
# Given_Family_<uuid>.json); named are the Bulk Data manifest a client writes beside the files
# and a name of digits and date signs alone (Synthea's run metadata/2026_11_21T00_00_00Z.json)
WITHHELD_NAME = "(a JSON document)"
_CLIENT_FILES = frozenset({"manifest.json", "manifest.json.gz"})
_NAMELESS = re.compile(r"[\d_\-.:TZ]+\.json(?:\.gz)?", re.I)


def is_document_name(name: str) -> bool:
    lower = name.lower()
    return lower.endswith(DOCUMENT_SUFFIXES) and not lower.endswith(NDJSON_SUFFIXES)


def message_name(source: str) -> str:
    """A row's source file as a `file:row` reference names it: its name, but WITHHELD_NAME for
    any JSON document (the quarantine's and the contracts' example rows)."""
    return WITHHELD_NAME if is_document_name(source) else source


def shown_name(relative: Path) -> str:
    """A file of the export (its path inside the export folder) as a message names it: its
    path, but WITHHELD_NAME for a JSON document whose name may be its patient's."""
    name = relative.name
    if is_document_name(name) and not (name.lower() in _CLIENT_FILES or _NAMELESS.fullmatch(name)):
        return WITHHELD_NAME
    return relative.as_posix()


def shown_path(path: Path) -> str:
    """A file as a stop on it names it: its path, but for a JSON document (shown_name) the
    folder it is in and how to find it."""
    if shown_name(Path(path.name)) != WITHHELD_NAME:
        return str(path)
    return (
        f"a JSON document in {path.parent} (not named: its name may be the patient's; "
        "`gzip -t` finds a damaged one)"
    )


def _head(path: Path) -> bytes | None:
    """The first 64 kB of the file's content (decompressed), without a UTF-8 BOM; None when
    it cannot be read (a damaged .gz: the reader stops on it, naming the file)."""
    try:
        if gzipped(path):
            with gzip.open(path, "rb") as handle:
                head = handle.read(_HEAD)
        else:
            with path.open("rb") as handle:
                head = handle.read(_HEAD)
    except (OSError, EOFError, zlib.error):
        return None
    return head[3:] if head.startswith(b"\xef\xbb\xbf") else head


def _is_resource(text: bytes) -> bool:
    try:
        parsed = orjson.loads(text)
    except orjson.JSONDecodeError:
        return False
    return isinstance(parsed, dict) and isinstance(parsed.get("resourceType"), str)


def sniff(path: Path) -> str | None:
    """`NDJSON` when the file's first non-blank line is a whole FHIR resource; else the
    resourceType of the document (`Bundle`, `Observation`; `Bundle` too when its JSON must be
    read whole to tell, or is broken: the reader then quarantines it, or cannot be read: the
    reader stops on it); None when the file does not look like FHIR. Cached per file
    version."""
    stat = path.stat()
    return _sniff(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=1 << 16)  # one small answer per file: a Synthea run has many
def _sniff(path_text: str, _mtime_ns: int, _size: int) -> str | None:
    head = _head(Path(path_text))
    if head is None:
        return "Bundle"
    stripped = head.lstrip()
    newline = stripped.find(b"\n")
    if newline > 0 and _is_resource(stripped[:newline]):
        return NDJSON
    if (top := _TOP_TYPE.match(head)) is not None:
        return top.group(1).decode()
    if b'"resourceType"' in head:
        return "Bundle"
    return None


def pretty_printed(path: Path) -> bool:
    """Whether an NDJSON-named file is a pretty-printed JSON document instead (it names a
    resourceType, and its first line is a lone `{`, or opens an object and breaks after a key
    or bracket while no whole line of the first 64 kB is a resource): read whole, not as
    broken lines."""
    stat = path.stat()
    return _pretty(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=1 << 16)  # one small answer per file: a Synthea run has many
def _pretty(path_text: str, _mtime_ns: int, _size: int) -> bool:
    head = _head(Path(path_text))
    if head is None:
        return False
    lines = head.lstrip().split(b"\n")
    first = lines[0].strip()
    if b'"resourceType"' not in head or not first.startswith(b"{"):
        return False
    if first == b"{":
        return True
    whole = lines[:-1]  # the last may be cut by the head's end
    broken_after_a_key = first.endswith((b",", b"{", b"["))  # where a pretty printer breaks
    return broken_after_a_key and len(whole) > 1 and not any(map(_is_resource, whole))


def read_document(
    path: Path, digest: Any = None, holding: str | None = None
) -> tuple[list[tuple[str, Resource]], str]:
    """(place, resource) of every FHIR resource of a document: a Bundle's entries (ids filled
    from `urn:uuid:` full URLs; an entry without a resource, as a DELETE of a transaction, or
    whose resource has no resourceType, is a pseudo resource, see `bundle_places`), a JSON
    array's resources (an item that is not one: `MALFORMED_ENTRY`), or the document itself.
    The second item is the error text when the file is not JSON or holds no resource (the
    caller quarantines it).

    `digest` (a hashlib object) receives the file's bytes as stored. `holding`: a resource
    type; a document whose text never names it is not parsed (no resources)."""
    try:
        stored = path.read_bytes()
        if digest is not None:
            digest.update(stored)
        payload = gzip.decompress(stored) if gzipped(path) else stored
    except (OSError, EOFError, zlib.error) as exc:
        shown = shown_path(path)
        raise InputError(f"{shown} cannot be read: {exc}.", file=shown) from exc
    if payload.startswith(b"\xef\xbb\xbf"):
        payload = payload[3:]
    if holding is not None and b'"%s"' % holding.encode() not in payload:
        return [], ""
    try:
        parsed = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:  # position only: orjson quotes no content
        lines = _resource_lines(payload)
        return _expanded(lines), "" if lines else f"not valid JSON ({exc})"
    if isinstance(parsed, list):
        if not any(_typed(r) for r in parsed):
            return [], "a JSON array without FHIR resources"
        found = [(f"[{i}]", r if _typed(r) else _pseudo(r)) for i, r in enumerate(parsed)]
        return _expanded(found), ""
    if not _typed(parsed):
        return [], 'not a FHIR resource (no "resourceType")'
    return _expanded([("", parsed)]), ""


def _expanded(items: list[tuple[str, Resource]]) -> list[tuple[str, Resource]]:
    """Bundles replaced by their entries (`entry[2]`, `[1].entry[2]`); a lone resource that
    is the whole document is place `1`."""
    found: list[tuple[str, Resource]] = []
    for place, resource in items:
        if resource["resourceType"] == "Bundle":
            found += [(f"{place}.{p}" if place else p, r) for p, r in bundle_places(resource)]
        else:
            found.append((place or "1", resource))
    return found


def _resource_lines(payload: bytes) -> list[tuple[str, Resource]]:
    """(line number, resource) when every non-blank line is a FHIR resource (NDJSON whose
    first line is longer than the sniffed head); [] otherwise."""
    found = []
    for number, line in enumerate(payload.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            parsed = orjson.loads(line)
        except orjson.JSONDecodeError:
            return []
        if not _typed(parsed):
            return []
        found.append((str(number), parsed))
    return found


def _typed(value: object) -> bool:
    return isinstance(value, dict) and isinstance(value.get("resourceType"), str)


def _pseudo(entry: object, empty: bool = False) -> Resource:
    return {"resourceType": EMPTY_ENTRY if empty else MALFORMED_ENTRY, "entry": entry}


def _response_outcome(entry: Resource) -> Resource | None:
    """The OperationOutcome of an entry's `response` (a batch-response or transaction-response
    entry that failed holds no resource, only the server's report why). An HTTP status of 400
    or more says the entry failed whether or not an outcome of severity error comes with it
    (it is optional): an error issue naming the status is added."""
    response = entry.get("response")
    if not isinstance(response, dict):
        return None
    outcome = response.get("outcome")
    if not (isinstance(outcome, dict) and outcome.get("resourceType") == "OperationOutcome"):
        outcome = None
    status = str(response.get("status") or "").strip()
    if not (status[:3].isdecimal() and int(status[:3]) >= 400):  # not isdigit(): ¹ fails int()
        return outcome
    reported = outcome.get("issue") if outcome is not None else None
    failed = {"severity": "error", "code": "exception", "diagnostics": f"entry status {status}"}
    reported = [*(reported if isinstance(reported, list) else ()), failed]
    return {**(outcome or {"resourceType": "OperationOutcome"}), "issue": reported}


def bundle_places(bundle: Resource, depth: int = 0) -> list[tuple[str, Resource]]:
    """(`entry[i]`, resource) of every entry of a Bundle, a Bundle inside one replaced by its
    own entries (`entry[2].entry[0]`: a message or searchset of documents); a resource without
    an `id` takes the last part of its `fullUrl` (`urn:uuid:x`, `https://host/Patient/x`), and
    one whose id is not that part is referred to by `Type/id` (`_local_references`). An
    entry without a `resource` is its `response.outcome` (a failed batch entry: an error there
    says data are missing, `fhir_scan.export_error`), else an `EMPTY_ENTRY`; one whose
    resource is not an object with a resourceType (invalid FHIR) a `MALFORMED_ENTRY`: never
    dropped unsaid."""
    found: list[tuple[str, Resource]] = []
    aliases: dict[str, str] = {}  # a fullUrl that is not the resource's id -> `Type/id`
    entries = bundle.get("entry")
    for position, entry in enumerate(entries if isinstance(entries, list) else ()):
        place = f"entry[{position}]"
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if resource is None and isinstance(entry, dict):
            outcome = _response_outcome(entry)
            found.append((place, outcome if outcome else _pseudo(entry, empty=True)))
            continue
        if not isinstance(resource, dict) or not _typed(resource):
            found.append((place, _pseudo(entry)))
            continue
        if resource["resourceType"] == "Bundle" and depth < _MAX_DEPTH:
            found += [(f"{place}.{p}", r) for p, r in bundle_places(resource, depth + 1)]
            continue
        full_url = entry.get("fullUrl")
        tail = full_url.rsplit(":", 1)[-1].rsplit("/", 1)[-1] if isinstance(full_url, str) else None
        if "id" not in resource and tail is not None:
            resource = {**resource, "id": tail}
        elif tail is not None and isinstance(rid := resource.get("id"), str) and rid != tail:
            aliases[str(full_url)] = f"{resource['resourceType']}/{rid}"
        found.append((place, resource))
    if not aliases:
        return found
    return [(place, _local_references(resource, aliases)) for place, resource in found]


def _local_references(value: Any, aliases: dict[str, str]) -> Any:
    """`value` with every `reference` that is an entry's fullUrl (`urn:uuid:9a1f...`) written as
    that entry's `Type/id`, when its id is not the fullUrl's last part: a Bundle's references
    name their targets by fullUrl, the tables by id."""
    if isinstance(value, list):
        return [_local_references(item, aliases) for item in value]
    if not isinstance(value, dict):
        return value
    found = {key: _local_references(item, aliases) for key, item in value.items()}
    if isinstance(target := value.get("reference"), str) and target in aliases:
        found["reference"] = aliases[target]
    return found
