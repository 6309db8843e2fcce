"""Streaming NDJSON lines of FHIR resources into canonical batches, with the row accounting.

Each non-blank line accounts for at least one row: the rows its resource maps to (an
Observation panel or a Bundle line may give several), else one not-relevant row
(`other_resource_type`), or one quarantined row (`malformed_row`) when the line is not a JSON
object with a `resourceType`. A JSON document (`fhir_documents`) is read like one line whose
rows are numbered by their place in it (`entry[3]`).
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pandas as pd

from hyposcreen.adapters.fhir_documents import (
    EMPTY_ENTRY,
    MALFORMED_ENTRY,
    PSEUDO_TYPES,
    bundle_places,
)
from hyposcreen.adapters.fhir_files import count_lines, iter_blocks, iter_lines
from hyposcreen.adapters.fhir_lines import all_resources, line_at, not_objects, parse_resource
from hyposcreen.adapters.fhir_parsed import document_places
from hyposcreen.adapters.fhir_table import (
    DELETED_MEDICATION,
    MALFORMED_TEXT,
    UNRESOLVED,
    DeletedReference,
    Row,
    TableBuilder,
    UnresolvedReference,
)
from hyposcreen.adapters.fhir_types import subject_of
from hyposcreen.adapters.fhir_versions import deletion_of, version_of
from hyposcreen.ingest.tabular import RowFilter

log = logging.getLogger(__name__)
Resource = dict[str, Any]
_EFFECTIVE = re.compile(rb'"effectiveDateTime"\s*:\s*"(\d{4}-\d{2}-\d{2})')


@dataclass
class LineReader:
    """How one table reads a resource line: the resource types it maps, how, and where
    reference resources met inside Bundles (Specimen, Medication) are kept."""

    builder: TableBuilder
    wanted: frozenset[str]
    to_rows: Callable[[Resource], list[Row]]
    references: Mapping[str, Callable[[Resource], None]]

    def take(self, line: bytes | bytearray, rel: str, line_no: int, tally: Counter[str]) -> int:
        """Map one line; returns the number of rows it accounts for."""
        parsed = parse_resource(line)
        if parsed is None:
            tally["unmapped_malformed_row"] += 1
            self.builder.add_malformed(rel, str(line_no), line)
            return 1
        if parsed["resourceType"] != "Bundle":
            return self.take_resources([(str(line_no), parsed)], rel, tally, numbered=True)
        places = [
            (f"{line_no}.{place}" if r["resourceType"] in PSEUDO_TYPES else str(line_no), r)
            for place, r in bundle_places(parsed)
        ]
        return self.take_resources(places, rel, tally, numbered=True)

    def take_resources(
        self,
        places: list[tuple[str, Resource]],
        rel: str,
        tally: Counter[str],
        numbered: bool = False,
    ) -> int:
        """Map the resources of one line or document ((place, resource) pairs; reference
        resources among them are kept first); returns the number of rows they account for.
        `numbered`: the places are one line's number, and its rows are `12`, `12.1`, ... in
        turn; else each resource's rows are `place`, `place.1`, ... An entry holding no
        resource is one row at its place (`entry[3]`; `12.entry[3]` on a Bundle line): not
        relevant (`entry_without_resource`), or quarantined (`malformed_row`) when its resource
        has no resourceType; one recording a deletion is a version too (`fhir_versions`)."""
        for _, resource in places:
            resource = deletion_of(resource) or resource
            if (keep := self.references.get(resource["resourceType"])) is not None:
                keep(resource)
        count = 0
        empty = 0  # rows of entries without a resource (numbered: not in the row numbers)
        for place, resource in places:
            if resource["resourceType"] in PSEUDO_TYPES:
                empty += self._take_pseudo(place, resource, rel, tally)
                continue
            if resource["resourceType"] not in self.wanted:
                continue
            first = count if numbered else 0
            if resource["resourceType"] == "OperationOutcome":
                if export_error(resource):
                    tally["unmapped_export_error"] += 1
                    raw = orjson.dumps(resource)
                    self.builder.add_malformed(rel, _where(place, first), raw, "export_error")
                    count += 1
                continue
            rows = self._rows(resource, rel, _where(place, first), tally)
            if rows is None:  # quarantined as read
                count += 1
                continue
            version = version_of(resource)
            for extra, row in enumerate(rows):
                self.builder.add(row, rel, _where(place, first + extra), version)
            count += len(rows)
        if count == 0 and empty == len(places) > 0:
            return empty  # nothing but entries holding no resource
        if count == 0:
            tally["unmapped_other_resource_type"] += 1
            self.builder.not_relevant["other_resource_type"] += 1
            return 1 + empty
        tally["mapped"] += 1
        tally["extra_rows"] += count - 1
        return count + empty

    def _rows(
        self, resource: Resource, rel: str, where: str, tally: Counter[str]
    ) -> list[Row] | None:
        """The rows of one resource, or None when it is quarantined as read: an oddly shaped
        resource (`malformed_row`, never fatal), one naming its drug only by a reference the
        export cannot resolve (`unresolved_reference`) or records deleted (`deleted_medication`)."""
        try:
            return self.to_rows(resource)
        except DeletedReference:
            reason: str | None = DELETED_MEDICATION
        except UnresolvedReference:
            reason = UNRESOLVED
        except Exception:
            reason = None
        tally[f"unmapped_{reason or 'malformed_row'}"] += 1
        subject = subject_of(resource) if reason else None
        self.builder.add_malformed(rel, where, orjson.dumps(resource), reason, subject)
        return None

    def _take_pseudo(self, place: str, pseudo: Resource, rel: str, tally: Counter[str]) -> int:
        """One row for an entry holding no FHIR resource (`fhir_documents.PSEUDO_TYPES`)."""
        if pseudo["resourceType"] == EMPTY_ENTRY:
            deleted = deletion_of(pseudo)
            if deleted is not None and deleted["resourceType"] in self.wanted:
                self.builder.deletions.append(version_of(deleted))
            tally["unmapped_entry_without_resource"] += 1
            self.builder.not_relevant["entry_without_resource"] += 1
            return 1
        assert pseudo["resourceType"] == MALFORMED_ENTRY
        tally["unmapped_malformed_row"] += 1
        self.builder.add_malformed(rel, place, orjson.dumps(pseudo["entry"]))
        return 1


def export_error(outcome: Resource) -> bool:
    """An OperationOutcome reporting an error (severity error or fatal): in a Bulk Data
    export's error files, or a search page's `outcome` entry, it says data are missing."""
    reported = outcome.get("issue")  # FHIR's name for the outcome's list of problems
    return any(
        isinstance(problem, dict) and problem.get("severity") in ("error", "fatal")
        for problem in (reported if isinstance(reported, list) else ())
    )


def _where(place: str, row: int) -> str:
    return place if row == 0 else f"{place}.{row}"


def scan_document(path: Path, rel: str, reader: LineReader, tally: Counter[str]) -> tuple[int, str]:
    """Read a JSON document whole (`fhir_documents`); one that is not JSON or holds no FHIR
    resource is one quarantined row (`broken_document`, with the reason and its first bytes:
    a whole record may be lost, so the night warns, quarantine_warnings.py). Nothing is logged:
    a per-patient document's name may carry the patient's name (Synthea's `Given_Family_<id>`);
    quarantine.csv names it. Returns the rows the file accounts for and its sha256 (the
    document is parsed once per run, `fhir_parsed`)."""
    tally["read"] += 1
    places, problem, sha256 = document_places(path, {*reader.wanted, *reader.references})
    if problem:
        tally["unmapped_broken_document"] += 1
        with path.open("rb") as handle:  # gz: the stored bytes say little, but say it is gz
            head = handle.read(MALFORMED_TEXT)
        reader.builder.add_malformed(rel, "1", head, "broken_document")
        return 1, sha256
    return reader.take_resources(places, rel, tally), sha256


def date_bounds(row_filter: RowFilter) -> tuple[bytes, bytes] | None:
    """ISO dates (as bytes) outside which an `effectiveDateTime` is surely outside the read
    window, whatever its UTC offset (two days of margin)."""
    if row_filter.window is None:
        return None
    _, start, end = row_filter.window
    margin = pd.Timedelta(days=2)
    low, high = (start - margin).strftime("%Y-%m-%d"), (end + margin).strftime("%Y-%m-%d")
    return low.encode(), high.encode()


def _outside(line: bytearray, bounds: tuple[bytes, bytes]) -> bool:
    """True when the line's only `effectiveDateTime` is dated outside the bounds (checked on
    the bytes, before parsing: a full export spans years, a nightly window days)."""
    found = _EFFECTIVE.search(line)
    if found is None or line.count(b'"effectiveDateTime"') != 1 or b'"Bundle"' in line:
        return False  # no date, several (a Bundle line may mix dates): parse it
    day = found.group(1)
    return day < bounds[0] or day > bounds[1]


def scan_prefiltered(
    path: Path,
    rel: str,
    needle: Any,
    reader: LineReader,
    tally: Counter[str],
    bounds: tuple[bytes, bytes] | None = None,
    digest: Any = None,
) -> int:
    """Stream a file parsing only the lines `needle` (a compiled bytes regex) finds; the others
    are counted not relevant (`unknown_loinc`), and so are found lines whose
    `effectiveDateTime` is days outside `bounds` (`outside_window`). A line the needle does not
    find that is no FHIR resource (a line cut off before its code, two lines run together: a
    damaged line whatever codes it holds, `fhir_lines`) is read all the same, so it is
    quarantined `malformed_row`. Returns the rows the file accounts for."""
    base = 0  # newlines before the current block
    rows = 0
    search = needle.search
    for block, end in iter_blocks(path, digest):
        lines, newlines = count_lines(block, end)
        tally["read"] += lines
        damaged = not all_resources(block, end, lines)
        seen = 0
        position = 0
        counted_to, newlines_before = 0, 0
        while (match := search(block, position, end)) is not None:
            start = block.rfind(b"\n", 0, match.start()) + 1
            stop = block.find(b"\n", match.end(), end)
            stop = end if stop < 0 else stop
            for at in not_objects(block, position, start, damaged):
                line_no = base + newlines_before + block.count(b"\n", counted_to, at) + 1
                rows += reader.take(line_at(block, at, end), rel, line_no, tally)
                seen += 1
            newlines_before += block.count(b"\n", counted_to, start)
            counted_to, position = start, stop + 1
            seen += 1
            line = block[start:stop]
            if (
                bounds is not None
                and _outside(line, bounds)
                and not (damaged and parse_resource(line) is None)
            ):
                tally["unmapped_outside_window"] += 1
                reader.builder.not_relevant["outside_window"] += 1
                rows += 1
                continue
            rows += reader.take(line, rel, base + newlines_before + 1, tally)
        for at in not_objects(block, position, end, damaged):
            line_no = base + newlines_before + block.count(b"\n", counted_to, at) + 1
            rows += reader.take(line_at(block, at, end), rel, line_no, tally)
            seen += 1
        skipped = lines - seen
        tally["unmapped_prefilter_no_relevant_code"] += skipped
        reader.builder.not_relevant["unknown_loinc"] += skipped
        rows += skipped
        base += newlines
    return rows


def scan_all(
    path: Path, rel: str, reader: LineReader, tally: Counter[str], digest: Any = None
) -> int:
    """Stream a file parsing every line. Returns the rows the file accounts for."""
    rows = 0
    for line_no, line in iter_lines(path, digest=digest):
        tally["read"] += 1
        rows += reader.take(line, rel, line_no, tally)
    return rows
