"""FHIR Observation (and Specimen) resources -> rows of the canonical labs table.

`ObservationMapper.relevant_line` is the byte-level pre-filter: one compiled regex looks for a
`"code"`, `"display"` or `"text"` whose string value is a LOINC code of the rules or a name /
local code of the lab dictionary (names case-insensitive). Lines without such a value are never
parsed; the reader counts them as not relevant (`unknown_loinc`).
"""

from __future__ import annotations

import re
from typing import Any

from hyposcreen.adapters.fhir_types import (
    codings,
    concept_label,
    concept_texts,
    contained_id,
    first_item,
    first_text,
    is_loinc,
    period,
    reference_id,
    text,
)
from hyposcreen.rules.loader import RuleSet, normalize_label, normalize_unit

LAB_COLUMNS = (
    "patient_id",
    "specimen_time",
    "result_time",
    "value_raw",
    "unit",
    "loinc",
    "lab_name",
    "encounter_id",
    "specimen_id",
    "ref_low",
    "ref_high",
    "status",
    "specimen_type",
)
LabRow = tuple[object, ...]


def _value_alternatives(rules: RuleSet) -> bytes:
    codes = set(rules.loinc_to_analyte)
    names = set(rules.lab_dictionary)
    parts = []
    for word in sorted(codes | names, key=len, reverse=True):
        escaped = re.escape(word.encode("utf-8"))
        parts.append(escaped.replace(rb"\ ", rb"\s+"))  # names compare with collapsed spaces
    return b"|".join(parts)


class ObservationMapper:
    """Maps one parsed Observation to canonical lab rows (one per relevant value)."""

    def __init__(self, rules: RuleSet, specimens: dict[str, str]) -> None:
        self.loinc = rules.loinc_to_analyte
        self.dictionary = rules.lab_dictionary
        self.specimens = specimens  # Specimen id -> type label
        self.units = {unit for _, unit in rules.unit_factors}
        words = (*rules.urine_words, *rules.other_fluid_words)
        self.fluid = re.compile(
            r"(?<![a-z])(" + "|".join(re.escape(w) for w in words) + r")(?![a-z])", re.I
        )
        self.needle = re.compile(
            rb'"(?:code|display|text)"\s*:\s*"\s*(?i:' + _value_alternatives(rules) + rb')\s*"'
        )

    # ------------------------------------------------------------------ identification

    def _identify(self, concept: object) -> tuple[str | None, str | None, bool]:
        """(loinc, lab_name, relevant) of a code: a LOINC of the rules wins; without a LOINC
        the first label or local code found in the lab dictionary."""
        found = codings(concept)
        loincs = [code for c in found if is_loinc(c) and (code := text(c.get("code")))]
        loinc = next((c for c in loincs if c in self.loinc), loincs[0] if loincs else None)
        labels = concept_texts(concept)
        labels += [code for c in found if not is_loinc(c) and (code := text(c.get("code")))]
        name = next((n for n in labels if normalize_label(n) in self.dictionary), None)
        relevant = loinc in self.loinc if loinc else name is not None
        return loinc, name or (labels[0] if labels else None), relevant

    # ------------------------------------------------------------------ values

    def _unit(self, quantity: dict[str, Any]) -> str | None:
        unit, code = text(quantity.get("unit")), text(quantity.get("code"))
        if unit and normalize_unit(unit) in self.units:
            return unit
        if code and normalize_unit(code) in self.units:
            return code
        return unit or code

    def _value(self, holder: dict[str, Any]) -> tuple[str | None, str | None]:
        """(value_raw, unit) from value[x]; dataAbsentReason gives its code as the value text
        (non-numeric, so the cleaner quarantines it as non_numeric)."""
        quantity = holder.get("valueQuantity")
        if isinstance(quantity, dict):
            number = text(quantity.get("value"))
            comparator = text(quantity.get("comparator")) or ""
            return (comparator + number if number else None), self._unit(quantity)
        for key in ("valueString", "valueInteger", "valueDecimal"):
            if (found := text(holder.get(key))) is not None:
                return found, None
        if "valueCodeableConcept" in holder:
            return concept_label(holder["valueCodeableConcept"]), None
        if "dataAbsentReason" in holder:
            return concept_label(holder["dataAbsentReason"]) or "data-absent", None
        return None, None

    def _reference_range(self, resource: dict[str, Any]) -> tuple[object, object]:
        first = first_item(resource.get("referenceRange"))
        if first is None:
            return None, None
        low, high = first.get("low"), first.get("high")
        return (
            low.get("value") if isinstance(low, dict) else None,
            high.get("value") if isinstance(high, dict) else None,
        )

    # ------------------------------------------------------------------ specimen

    def _specimen(self, resource: dict[str, Any]) -> tuple[str | None, str | None]:
        """(specimen_id, specimen_type): a referenced Specimen's type (exported or contained),
        else the reference's display."""
        reference = resource.get("specimen")
        if not isinstance(reference, dict):
            return None, None
        specimen_id = reference_id(reference)
        label = None
        local = contained_id(reference)
        if local is not None:
            for item in resource.get("contained") or ():
                if isinstance(item, dict) and item.get("id") == local:
                    label = concept_label(item.get("type"))
        elif specimen_id is not None:
            label = self.specimens.get(specimen_id)
        return specimen_id, label or text(reference.get("display"))

    def _fluid_from_code(self, concept: object) -> str | None:
        """A code label that names a non-blood fluid (`Sodium, urine`) stands in for a
        missing specimen type."""
        return next((t for t in concept_texts(concept) if self.fluid.search(t)), None)

    # ------------------------------------------------------------------ rows

    def rows(self, resource: dict[str, Any]) -> list[LabRow]:
        """Canonical rows of one Observation: the top-level value, and each component whose
        code is relevant (panels); at least one row, so every line is accounted for."""
        patient = reference_id(resource.get("subject") or resource.get("patient"))
        effective = period(resource.get("effectivePeriod"))
        issued = text(resource.get("issued"))
        specimen_time = (
            first_text(resource, "effectiveDateTime", "effectiveInstant")
            or effective[0]
            or effective[1]
            or issued
        )
        encounter = reference_id(resource.get("encounter") or resource.get("context"))
        specimen_id, specimen_type = self._specimen(resource)
        status = text(resource.get("status"))
        ref_low, ref_high = self._reference_range(resource)

        def row(holder: dict[str, Any], ref: tuple[object, object]) -> LabRow:
            loinc, name, _ = self._identify(holder.get("code"))
            value_raw, unit = self._value(holder)
            fluid = specimen_type or self._fluid_from_code(holder.get("code"))
            return (
                patient,
                specimen_time,
                issued,
                value_raw,
                unit,
                loinc,
                name,
                encounter,
                specimen_id,
                ref[0],
                ref[1],
                status,
                fluid,
            )

        out: list[LabRow] = []
        components = resource.get("component")
        if isinstance(components, list):
            for part in components:
                if isinstance(part, dict) and self._identify(part.get("code"))[2]:
                    out.append(row(part, self._reference_range(part)))
        if not out or self._identify(resource.get("code"))[2]:
            out.insert(0, row(resource, (ref_low, ref_high)))
        return out


def specimen_type(resource: dict[str, Any]) -> str | None:
    """The label of a Specimen resource's type (or of its collection body site)."""
    label = concept_label(resource.get("type"))
    if label is None:
        collection = resource.get("collection")
        if isinstance(collection, dict):
            label = concept_label(collection.get("bodySite"))
    return label
