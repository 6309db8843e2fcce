"""Patients referred to by identifier, resolved to the id of the Patient resource holding it.

A resource may name its patient by a logical Reference (`{"identifier": {"system": …,
"value": …}}`) or by a conditional one (`Patient?identifier=system|value`, as transaction
Bundles write it) instead of `Patient/<id>`. Read as the identifier's value, such a row would
never meet the patient's labs, named by the Patient's id. The export's Patient resources are
indexed by their identifiers the first time a table meets such a reference (an export without
one never reads them for it); a value without its system matches any system's, and a value
with its system a Patient's identifier written without one. An identifier
no Patient holds, or that several hold, leaves the row's patient as the value written. The
identifiers of a Patient whose newest version is a deletion (its last version's) name it too
when no Patient the export still holds has them: its rows then carry its id, and are set aside
`deleted_patient` (fhir_deleted_patients) rather than screened under the identifier's value.
The values left as the rows' patient are noted (`unresolved`): such a value that is also a
deleted Patient's id (a numeric MRN beside a server's numeric ids) is not known to be that
Patient, so no row of it is set aside, in any table (fhir_lookalike_ids looks for such values
in every table's records, so the tables agree).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

from hyposcreen.adapters.fhir_index import Versions, index_resources
from hyposcreen.adapters.fhir_scan import Resource
from hyposcreen.adapters.fhir_types import names_other_type, objects, system_key, text

# (system as system_key compares it; None: any system; "": a Patient's written without one)
IdentifierKey = tuple[str | None, str]
Row = tuple[object, ...]


def identifier_reference(reference: object) -> IdentifierKey | None:
    """The identifier a Reference names its target by; None for a literal reference."""
    if not isinstance(reference, dict) or names_other_type(reference):
        return None
    target = reference.get("reference")
    if isinstance(target, str) and target.strip():
        if "?" not in target:
            return None
        for part in target.split("?", 1)[1].split("&"):
            name, _, wanted = part.partition("=")
            if name.strip() == "identifier" and (wanted := unquote(wanted).strip()):
                system, bar, value = wanted.rpartition("|")
                return ((system_key(system) if bar and system else None), value) if value else None
        return None
    identifier = reference.get("identifier")
    if isinstance(identifier, dict) and (written := text(identifier.get("value"))):
        return (system_key(identifier.get("system")) or None), written
    return None


def _patient_keys(resource: Resource) -> list[IdentifierKey]:
    keys: list[IdentifierKey] = []
    for item in objects(resource.get("identifier")):
        if value := text(item.get("value")):
            keys += [(None, value), (system_key(item.get("system")), value)]
    return keys


class SubjectResolver:
    """Gives the rows of a resource naming its patient by identifier that Patient's id."""

    def __init__(self, patient_files: list[Path], unresolved: set[str] | None = None) -> None:
        self.patient_files = patient_files
        self._index: dict[IdentifierKey, str | None] | None = None
        # the values of identifiers no Patient (or several) holds, kept as the rows' patient
        self.unresolved = set() if unresolved is None else unresolved

    def resolve(self, resource: Resource, rows: list[Row]) -> list[Row]:
        """`rows` (patient id first) of `resource`, with the Patient's id when it names its
        patient by an identifier one Patient holds."""
        wanted = identifier_reference(resource.get("subject") or resource.get("patient"))
        if wanted is None or not rows:
            return rows
        if self._index is None:
            self._index = self._build()
        patient = self._index.get(wanted) or (
            self._index.get(("", wanted[1])) if wanted[0] else None
        )
        if not patient:
            self.unresolved.update(str(row[0]) for row in rows if row[0] is not None)
            return rows
        return [(patient, *row[1:]) for row in rows]

    def _build(self) -> dict[IdentifierKey, str | None]:
        versions: Versions = {}
        found = index_resources(self.patient_files, "Patient", _patient_keys, versions)
        index = _by_identifier(found)
        if deleted := set(versions) - set(found):
            held = index_resources(self.patient_files, "Patient", _patient_keys, deletions=False)
            gone = _by_identifier({rid: keys for rid, keys in held.items() if rid in deleted})
            index = gone | index  # a Patient the export holds keeps its identifiers
        return index


def _by_identifier(found: dict[str, list[IdentifierKey]]) -> dict[IdentifierKey, str | None]:
    """Identifier -> the id of the one Patient holding it (None: several do)."""
    index: dict[IdentifierKey, str | None] = {}
    for patient, keys in sorted(found.items()):
        for key in keys:
            index[key] = patient if index.get(key, patient) == patient else None
    return index
