"""Look-up of FHIR resources that other resources refer to (Specimen, Medication), by id.

An Observation names its specimen and a MedicationRequest its Medication by reference; this
module reads every resource of one type in the export (NDJSON lines, Bundles on a line, JSON
documents, parsed once per run: `fhir_parsed`) into a dict id -> what the mapper needs from it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from hyposcreen.adapters.fhir_files import is_document, iter_lines
from hyposcreen.adapters.fhir_parsed import document_places
from hyposcreen.adapters.fhir_scan import Resource, bundle_entries, parse_resource


def index_resources(
    files: list[Path], resource_type: str, entry: Callable[[Resource], Any]
) -> dict[str, Any]:
    """id -> entry for every resource of one type in the files (also inside Bundles and JSON
    documents)."""
    found: dict[str, Any] = {}
    for path in files:
        if is_document(path):
            places = document_places(path, (resource_type,), holding=resource_type)[0]
            candidates = [resource for _, resource in places]
            _index(candidates, resource_type, entry, found)
            continue
        for _, line in iter_lines(path):
            parsed = parse_resource(line)
            if parsed is None:
                continue
            if parsed["resourceType"] == "Bundle":
                _index(bundle_entries(parsed), resource_type, entry, found)
            else:
                _index([parsed], resource_type, entry, found)
    return found


def _index(
    candidates: list[Resource],
    resource_type: str,
    entry: Callable[[Resource], Any],
    found: dict[str, Any],
) -> None:
    for resource in candidates:
        if resource["resourceType"] == resource_type and isinstance(resource.get("id"), str):
            found[resource["id"]] = entry(resource)
