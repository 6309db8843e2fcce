"""Look-up of FHIR resources that other resources refer to (Specimen, Medication, Encounter),
by id.

An Observation names its specimen, a MedicationRequest its Medication and a Condition its
Encounter by reference; this module reads every resource of one type in the export (NDJSON
lines, Bundles on a line, JSON documents, parsed once per run: `fhir_parsed`) into a dict
id -> what the mapper needs from it (a Medication's entry: `medication_index_entry`; an
Encounter's: `encounter_start`). A resource met in several versions (a `_history` Bundle, two
incremental exports side by side) is indexed by its latest, as fhir_versions orders a table's
rows: the highest numeric `meta.versionId`, else the latest `meta.lastUpdated` (in UTC),
wherever each version stands in the files; versions that cannot be ordered, or tie, leave the
one met last. A Bundle entry recording a deletion (`fhir_versions.deletion_of`) known to be
newer than every version met, before or after it, takes the resource out of the index (a
deleted Medication names no drug); one that cannot be ordered against them, or ties, removes
nothing: once two versions met cannot be ordered (one without a version, one of another kind,
or versionIds and lastUpdated ordering them opposite ways), no deletion of that resource, met
before or after, removes it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from hyposcreen.adapters.fhir_files import is_document, iter_lines
from hyposcreen.adapters.fhir_parsed import document_places
from hyposcreen.adapters.fhir_scan import Resource, bundle_places, parse_resource
from hyposcreen.adapters.fhir_types import objects, period, system_key, text
from hyposcreen.adapters.fhir_versions import TOMBSTONE, deletion_of, version_of
from hyposcreen.rules.loader import load_source_map

# id -> (versionId, lastUpdated) indexed, or of the deletion that took it out of the index
Version = tuple[str | None, str | None]
Versions = dict[str, Version]
# held for an id whose versions met cannot all be ordered (keep_latest)
UNORDERED: tuple[None, None] = (None, None)

# code systems whose codes (and, on a Medication, identifier values) are the drug's name as
# written (MIMIC-IV on FHIR's medication-name: the prescriptions drug, the emar medication)
DRUG_NAME_SYSTEMS = frozenset(
    system_key(row["system"]) for row in load_source_map("drug_name_systems.csv")
)


def index_resources(
    files: list[Path],
    resource_type: str,
    entry: Callable[[Resource], Any],
    versions: Versions | None = None,
    deletions: bool = True,
    tombstones: dict[str, list[Version]] | None = None,
) -> dict[str, Any]:
    """id -> entry for every resource of one type in the files (also inside Bundles and JSON
    documents), of its latest version; `versions`: where the versions indexed are noted, for
    `keep_latest` to go on with; `deletions` False: deletions are passed over (the latest
    version a deleted resource had); `tombstones`: where every deletion met is noted, by id
    (its version)."""
    found: dict[str, Any] = {}
    versions = {} if versions is None else versions
    noted = {} if tombstones is None else tombstones

    def kept(resource: Resource) -> bool:
        if not resource.get(TOMBSTONE):
            return True
        if resource["resourceType"] == resource_type:
            noted.setdefault(resource["id"], []).append(version_of(resource)[1:])
        return deletions

    for path in files:
        if is_document(path):
            places = document_places(path, (resource_type,), holding=resource_type)[0]
            candidates = [deletion_of(resource) or resource for _, resource in places]
            candidates = [resource for resource in candidates if kept(resource)]
            _index(candidates, resource_type, entry, found, versions)
            continue
        for _, line in iter_lines(path):
            parsed = parse_resource(line)
            if parsed is None:
                continue
            if parsed["resourceType"] == "Bundle":
                resources = [deletion_of(r) or r for _, r in bundle_places(parsed)]
                resources = [resource for resource in resources if kept(resource)]
                _index(resources, resource_type, entry, found, versions)
            else:
                _index([parsed], resource_type, entry, found, versions)
    return found


def _index(
    candidates: list[Resource],
    resource_type: str,
    entry: Callable[[Resource], Any],
    found: dict[str, Any],
    versions: Versions,
) -> None:
    for resource in candidates:
        if resource["resourceType"] == resource_type and isinstance(resource.get("id"), str):
            keep_latest(found, versions, resource["id"], resource, entry)


def keep_latest(
    found: dict[str, Any],
    versions: Versions,
    rid: str,
    resource: Resource,
    entry: Callable[[Resource], Any],
) -> None:
    """Index `resource` under `rid` unless the version held there (indexed, or deleted) is known
    to be newer; a deletion (`TOMBSTONE`) known to be newer than the version held, or met
    first, takes `rid` out of the index (module text). Once two versions of `rid` met cannot be
    ordered (one has no version, or one of another kind), `rid` is held `UNORDERED`: no
    deletion is known to be newer than every version, whatever is met later."""
    version = version_of(resource)[1:]
    held = versions.get(rid)
    if held is not None and known_newer(held, version):
        return
    if resource.get(TOMBSTONE):
        newer = rid not in found or (held is not None and known_newer(version, held))
        if version != (None, None) and newer:
            found.pop(rid, None)
            versions[rid] = version
        return
    met_before = rid in found or held is not None
    found[rid] = entry(resource)
    if held == UNORDERED or (met_before and not _ordered(held, version)):
        versions[rid] = UNORDERED
    elif version == (None, None):
        versions.pop(rid, None)
    else:
        versions[rid] = version


def _ordered(held: Version | None, met: Version) -> bool:
    """Whether two versions can be ordered: both numeric versionIds, or both lastUpdated
    instants, and the two not ordering them opposite ways (`known_newer`)."""
    if held is None or _contradict(held, met):
        return False
    ids, instants = _compared(held, met)
    return ids is not None or instants is not None


def known_newer(held: Version | None, met: Version) -> bool:
    """Whether the version held is newer than one met after it: by numeric versionIds, else
    by lastUpdated instants (UTC); never when the versionIds and the instants order the two
    opposite ways (a versionId from another server, or one started again)."""
    if held is None or _contradict(held, met):
        return False
    ids, instants = _compared(held, met)
    return bool(ids > 0) if ids is not None else instants is not None and instants > 0


def _contradict(held: Version, met: Version) -> bool:
    ids, instants = _compared(held, met)
    return ids is not None and instants is not None and ids * instants < 0


def _compared(held: Version, met: Version) -> tuple[int | None, int | None]:
    """(sign of held - met by numeric versionId, by lastUpdated): None where either lacks it."""
    ids = _sign(*(pd.to_numeric(v[0], errors="coerce") for v in (held, met)))
    instants = _sign(
        *(pd.to_datetime(v[1], utc=True, errors="coerce", format="ISO8601") for v in (held, met))
    )
    return ids, instants


def _sign(held: Any, met: Any) -> int | None:
    if pd.isna(held) or pd.isna(met):
        return None
    return int(bool(held > met)) - int(bool(held < met))


def medication_index_entry(resource: dict[str, Any]) -> dict[str, Any]:
    """What a Medication resource contributes when referenced: its code, ingredients and the
    names its identifiers of a drug-name system give."""
    names = [
        {"text": value}
        for item in objects(resource.get("identifier"))
        if system_key(item.get("system")) in DRUG_NAME_SYSTEMS
        and (value := text(item.get("value")))
    ]
    return {"code": resource.get("code"), "ingredient": resource.get("ingredient"), "names": names}


def encounter_start(resource: dict[str, Any]) -> str | None:
    """When an Encounter began (its period's start): the date of a Condition dated by nothing
    but its encounter."""
    return period(resource.get("period"))[0]
