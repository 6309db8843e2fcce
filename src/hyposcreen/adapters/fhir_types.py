"""Readers of FHIR R4 datatypes (Reference, CodeableConcept, Coding, Period, Quantity).

Every function takes whatever the parsed JSON holds and returns None (or an empty list) for a
missing or oddly typed field instead of raising: exports from real servers omit, misspell and
mistype fields, and one bad resource must never stop a night's run.
"""

from __future__ import annotations

import re
from typing import Any

from hyposcreen.rules.loinc_text import DASHES

LOINC_SYSTEMS = frozenset(
    {
        "http://loinc.org",
        "https://loinc.org",
        "http://www.loinc.org",
        "https://www.loinc.org",
        "urn:oid:2.16.840.1.113883.6.1",
        "2.16.840.1.113883.6.1",  # the OID without its urn:oid: (HL7 v2 converters)
        "loinc",
        "ln",
    }
)
RXNORM_SYSTEMS = frozenset(
    {
        "http://www.nlm.nih.gov/research/umls/rxnorm",
        "https://www.nlm.nih.gov/research/umls/rxnorm",
        "urn:oid:2.16.840.1.113883.6.88",
        "rxnorm",
        "rxn",
    }
)
ATC_SYSTEMS = frozenset(
    {
        "http://www.whocc.no/atc",
        "https://www.whocc.no/atc",
        "http://www.whocc.no/atc_ddd_index",
        "urn:oid:2.16.840.1.113883.6.73",
        "atc",
    }
)
# Diagnosis code systems written as OIDs or URL variants that rules.yaml does not list.
EXTRA_DIAGNOSIS_SYSTEMS = {
    "urn:oid:2.16.840.1.113883.6.90": "ICD-10-CM",
    "urn:oid:2.16.840.1.113883.6.3": "ICD-10-CM",
    "http://hl7.org/fhir/sid/icd-10-us": "ICD-10-CM",
    "http://www.cms.gov/medicare/coding/icd10": "ICD-10-CM",
    "urn:oid:2.16.840.1.113883.6.103": "ICD-9-CM",
    "urn:oid:2.16.840.1.113883.6.2": "ICD-9-CM",
    "http://hl7.org/fhir/sid/icd-9-cm/diagnosis": "ICD-9-CM",
    "http://hl7.org/fhir/sid/icd-9": "ICD-9-CM",
    "urn:oid:2.16.840.1.113883.6.96": "SNOMED",
}
_LOINC_SHAPE = re.compile(r"^\d{1,7}[-" + DASHES + r"]\d$")  # any dash: rules.loinc_text


def text(value: object) -> str | None:
    """A non-empty string (stripped), numbers as text; anything else None."""
    if isinstance(value, str):
        stripped = value.strip()
        return stripped or None
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return str(value)
    return None


def system_key(system: object) -> str:
    """A code-system URI compared without case, surrounding spaces or a trailing slash."""
    return system.strip().rstrip("/").lower() if isinstance(system, str) else ""


def codings(concept: object) -> list[dict[str, Any]]:
    """The Coding objects of a CodeableConcept (or of a bare Coding)."""
    if not isinstance(concept, dict):
        return []
    found = concept.get("coding")
    if isinstance(found, list):
        return [c for c in found if isinstance(c, dict)]
    if "code" in concept or "system" in concept:  # a Coding given where a concept belongs
        return [concept]
    return []


def concept_texts(concept: object) -> list[str]:
    """Every human-readable label of a concept: its text, then each coding's display."""
    if not isinstance(concept, dict):
        return [t] if (t := text(concept)) else []
    labels = []
    if label := text(concept.get("text")):
        labels.append(label)
    for coding in codings(concept):
        if (display := text(coding.get("display"))) and display not in labels:
            labels.append(display)
    return labels


def concept_label(concept: object) -> str | None:
    """Text, else the first display, else the first code of a concept."""
    labels = concept_texts(concept)
    if labels:
        return labels[0]
    for coding in codings(concept):
        if code := text(coding.get("code")):
            return code
    return None


def is_loinc(coding: dict[str, Any]) -> bool:
    """A LOINC coding: a LOINC system, or no system and a code shaped like a LOINC code."""
    key = system_key(coding.get("system"))
    if key in LOINC_SYSTEMS:
        return True
    code = coding.get("code")
    return not key and isinstance(code, str) and bool(_LOINC_SHAPE.match(code.strip()))


def reference_id(reference: object) -> str | None:
    """The id a Reference points at: `Patient/x`, `urn:uuid:x`, a full URL with or without
    `_history`, a contained `#x`, a conditional `Patient?identifier=sys|x`, or an identifier."""
    if isinstance(reference, str):
        reference = {"reference": reference}
    if not isinstance(reference, dict):
        return None
    target = text(reference.get("reference"))
    if target:
        if "?" in target:  # conditional reference: keep the identifier value
            return target.rsplit("|", 1)[-1].rsplit("=", 1)[-1] or None
        target = target.split("/_history/", 1)[0]
        for prefix in ("urn:uuid:", "urn:oid:"):
            if target.lower().startswith(prefix):
                return target[len(prefix) :] or None
        return target.rsplit("/", 1)[-1].lstrip("#") or None
    identifier = reference.get("identifier")
    if isinstance(identifier, dict):
        return text(identifier.get("value"))
    return None


def subject_of(resource: dict[str, Any]) -> str | None:
    """The patient a resource is about: `subject` (R4), else `patient` (STU3, DSTU2); None when
    the subject is another kind of resource (`names_other_type`)."""
    reference = resource.get("subject") or resource.get("patient")
    return None if names_other_type(reference) else reference_id(reference)


_RESOURCE_TYPE = re.compile(r"^[A-Z][A-Za-z]+$")


def names_other_type(reference: object) -> bool:
    """Whether a Reference names a resource that is no Patient: by the type in its path
    (`Device/x`, a full URL's `.../Group/x`, `Location?identifier=...`), else by its `type` (a
    name or a StructureDefinition URL). The path is the resource itself: a `type` of Patient
    written beside `Device/x` (a template's default) does not make the device a patient. An
    analyser's QC result has a Device as its subject: read as `x` it would be a patient's. A
    bare id, a `urn:uuid:` or a contained `#x` names no type in its path. A reference written
    as a bare string, `"Device/7"`, is read as reference_id reads it: as its `reference`."""
    if isinstance(reference, str):
        reference = {"reference": reference}
    if not isinstance(reference, dict):
        return False
    target = text(reference.get("reference"))
    if target and not target.startswith("#") and not target.lower().startswith("urn:"):
        if "?" in target:
            kind = target.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
        else:
            parts = target.split("/_history/", 1)[0].rstrip("/").rsplit("/", 2)
            kind = parts[-2] if len(parts) > 1 else ""
        if _RESOURCE_TYPE.match(kind):
            return kind != "Patient"
    written = text(reference.get("type"))
    return bool(written) and str(written).rstrip("/").rsplit("/", 1)[-1] != "Patient"


def encounter_of(resource: dict[str, Any]) -> str | None:
    """The encounter a resource belongs to: `encounter` (R4), else `context` (STU3)."""
    return reference_id(resource.get("encounter") or resource.get("context"))


def contained_id(reference: object) -> str | None:
    """`x` when the Reference is to a contained resource (`#x`)."""
    if isinstance(reference, dict):
        target = text(reference.get("reference"))
        if target and target.startswith("#"):
            return target[1:]
    return None


def contained_target(reference: object, contained: object) -> dict[str, Any] | None:
    """The contained resource a Reference points at: `#x`, or a bare `x` (FHIR wants the `#`,
    some generators leave it out) when a contained resource has the id `x`; None otherwise."""
    if not isinstance(reference, dict):
        return None
    target = text(reference.get("reference"))
    if not target:
        return None
    wanted = target[1:] if target.startswith("#") else target
    items = contained if isinstance(contained, list) else ()
    return next((c for c in items if isinstance(c, dict) and c.get("id") == wanted), None)


def time_text(value: object) -> str | None:
    """A date or dateTime: a non-empty string (stripped); anything else None. FHIR writes
    times as strings, so a number there (`2180`, `1700000000`) is no time, as an object is
    none: it is missing, never read as a year or an epoch (meta.lastUpdated is read alike)."""
    if isinstance(value, str):
        return value.strip() or None
    return None


def period(value: object) -> tuple[str | None, str | None]:
    """A Period's start and end (`time_text`)."""
    if not isinstance(value, dict):
        return None, None
    return time_text(value.get("start")), time_text(value.get("end"))


def first_time(resource: dict[str, Any], *keys: str) -> str | None:
    """The first of the resource's `keys` holding a time (`time_text`)."""
    for key in keys:
        if found := time_text(resource.get(key)):
            return found
    return None


def status_code(value: object) -> str | None:
    """A status given as a code string or as a CodeableConcept (Condition.clinicalStatus)."""
    if isinstance(value, dict):
        for coding in codings(value):
            if code := text(coding.get("code")):
                return code
        return text(value.get("text"))
    return text(value)


def objects(value: object) -> list[dict[str, Any]]:
    """The objects of a list (or the object itself where a list was expected); [] otherwise."""
    if isinstance(value, list):
        return [v for v in value if isinstance(v, dict)]
    return [value] if isinstance(value, dict) else []


def first_item(value: object) -> dict[str, Any] | None:
    """The first object of a list (or the object itself where a list was expected)."""
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, dict)), None)
    return value if isinstance(value, dict) else None
