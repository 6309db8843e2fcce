"""FHIR Specimen resources -> the specimen type of the lab rows that reference them (exported
in Specimen files or contained in an Observation / DiagnosticReport).

An exported Specimen is indexed with its identifiers (`identifier[]`, `accessionIdentifier`):
an Observation may name its specimen by one (`{"identifier": {"value": "ACC1"}}`, as a
laboratory system that knows the tube by its accession number writes it), which is then the
Specimen holding it, of any system, when one alone does (`identifier_targets`).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from hyposcreen.adapters.fhir_types import (
    concept_label,
    concept_texts,
    objects,
    period,
    text,
    time_text,
)

# SNOMED CT specimen types, for a Specimen coded without a display or text
SPECIMEN_CODES = {
    "119297000": "Blood",
    "119364003": "Serum",
    "119361006": "Plasma",
    "122555007": "Venous blood",
    "122552005": "Arterial blood",
    "122575003": "Urine",
    "278020009": "Spot urine",
    "276833005": "24 hour urine",
    "258450006": "Cerebrospinal fluid",
    "418564007": "Pleural fluid",
    "168139001": "Peritoneal fluid",
}


def specimen_type(resource: dict[str, Any]) -> str | None:
    """The label of a Specimen resource's type (or of its collection body site); a bare
    SNOMED CT code is named."""
    concept = resource.get("type")
    label = concept_label(concept)
    if not concept_texts(concept) and label in SPECIMEN_CODES:
        label = SPECIMEN_CODES[label]
    if label is None:
        collection = resource.get("collection")
        if isinstance(collection, dict):
            label = concept_label(collection.get("bodySite"))
    return label


class SpecimenEntry(NamedTuple):
    """What the lab rows need of an exported Specimen: its type's label, its identifiers, when
    it was taken."""

    label: str | None
    identifiers: tuple[str, ...]
    collected: str | None = None


def specimen_entry(resource: dict[str, Any]) -> SpecimenEntry:
    """The index entry of a Specimen resource (fhir_index)."""
    held = [*objects(resource.get("identifier")), *objects(resource.get("accessionIdentifier"))]
    values = (text(item.get("value")) for item in held)
    found = tuple(dict.fromkeys(v for v in values if v))
    return SpecimenEntry(specimen_type(resource), found, collected_time(resource))


def collected_time(resource: dict[str, Any]) -> str | None:
    """When a Specimen was taken: `collection.collectedDateTime`, else `collectedPeriod.start`
    (the time of an Observation that gives none of its own, before its `issued`)."""
    collection = resource.get("collection")
    if not isinstance(collection, dict):
        return None
    return (
        time_text(collection.get("collectedDateTime"))
        or period(collection.get("collectedPeriod"))[0]
    )


def identifier_targets(specimens: dict[str, SpecimenEntry]) -> dict[str, str | None]:
    """Identifier value -> the id of the one Specimen holding it (None: several do)."""
    targets: dict[str, str | None] = {}
    for specimen_id, entry in sorted(specimens.items()):
        for value in entry.identifiers:
            targets[value] = specimen_id if targets.get(value, specimen_id) == specimen_id else None
    return targets
