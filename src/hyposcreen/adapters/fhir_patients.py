"""FHIR Patient resources -> rows of the canonical patients table: id, MRN (the identifier
typed MR or named a medical record number), the official (else first) human name, birth date
and sex."""

from __future__ import annotations

from typing import Any

from hyposcreen.adapters.fhir_types import codings, concept_label, text, time_text

PATIENT_COLUMNS = ("patient_id", "mrn", "name", "birth_date", "sex")
Row = tuple[object, ...]


def _human_name(names: object) -> str | None:
    entries = [n for n in names if isinstance(n, dict)] if isinstance(names, list) else []
    best = next((n for n in entries if n.get("use") == "official"), entries[0] if entries else None)
    if best is None:
        return None
    if full := text(best.get("text")):
        return full
    given = best.get("given")
    given = list(given) if isinstance(given, list) else []
    parts = [p for p in [*given, best.get("family")] if isinstance(p, str) and p.strip()]
    return " ".join(parts) or None


def _mrn(identifiers: object) -> str | None:
    for identifier in identifiers if isinstance(identifiers, list) else ():
        if not isinstance(identifier, dict):
            continue
        kind = identifier.get("type")
        codes = {text(c.get("code")) for c in codings(kind)}
        label = (concept_label(kind) or "").lower()
        if "MR" in codes or "medical record" in label or label == "mrn":
            return text(identifier.get("value"))
    return None


def patient_row(resource: dict[str, Any]) -> Row:
    return (
        text(resource.get("id")),
        _mrn(resource.get("identifier")),
        _human_name(resource.get("name")),
        time_text(resource.get("birthDate")),
        text(resource.get("gender")),
    )
