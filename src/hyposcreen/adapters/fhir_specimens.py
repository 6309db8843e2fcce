"""FHIR Specimen resources -> the specimen type of the lab rows that reference them (exported
in Specimen files or contained in an Observation / DiagnosticReport)."""

from __future__ import annotations

from typing import Any

from hyposcreen.adapters.fhir_types import concept_label, concept_texts

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
