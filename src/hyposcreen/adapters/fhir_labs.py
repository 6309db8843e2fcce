"""FHIR Observation (and Specimen) resources -> rows of the canonical labs table.

`ObservationMapper.needle` is the byte-level pre-filter: one compiled regex looks for a
`"code"`, `"display"` or `"text"` whose string value is a LOINC code of the rules (its hyphen
also written as another dash: rules.loinc_text) or a name / local code of the lab dictionary
(names case-insensitive) or an item id of the shipped MIMIC lab items (fhir_lab_items), as JSON
may write it (`\\u00e9`, `\\/`). Lines without such a value are never parsed; the reader counts
them as not relevant (`unknown_loinc`). The types of Specimen resources are read by
fhir_specimens. specimen_time is the chosen time's text as written: a date alone (`2026-11-20`)
or a year and month reads as midnight, and date_only_times counts such rows from that text.
"""

from __future__ import annotations

import re
from typing import Any

from hyposcreen.adapters.fhir_lab_items import LabItems
from hyposcreen.adapters.fhir_needle import value_alternatives
from hyposcreen.adapters.fhir_specimens import SpecimenEntry, collected_time, identifier_targets
from hyposcreen.adapters.fhir_types import (
    codings,
    concept_label,
    contained_id,
    contained_target,
    first_item,
    first_time,
    is_loinc,
    objects,
    period,
    reference_id,
    subject_of,
    text,
    time_text,
)
from hyposcreen.rules.lab_identity import word_pattern
from hyposcreen.rules.loader import RuleSet, normalize_label, normalize_unit
from hyposcreen.rules.loinc_text import loinc_key

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
Identity = tuple[str | None, str | None, bool, tuple[str, ...]]


class ObservationMapper:
    """Maps one parsed Observation to canonical lab rows (one per relevant value)."""

    def __init__(self, rules: RuleSet, specimens: dict[str, SpecimenEntry]) -> None:
        self.loinc = rules.loinc_to_analyte
        self.dictionary = rules.lab_dictionary
        self.specimens = specimens  # Specimen id -> its type label and identifiers
        self._identifiers: dict[str, str | None] | None = None  # identifier -> Specimen id
        self._identified_from = 0  # the Specimens indexed when `_identifiers` was made
        self._fluid_cache: dict[tuple[str, ...], str | None] = {}
        self._unit_cache: dict[tuple[str | None, str | None], str | None] = {}
        self.units = {unit for _, unit in rules.unit_factors}
        self.fluid = word_pattern((*rules.urine_words, *rules.other_fluid_words))
        self.items = LabItems()
        alternatives = value_alternatives(rules, self.items.codes())
        self.needle = re.compile(
            rb'"(?:code|display|text)"\s*:\s*"\s*(?i:' + alternatives + rb')\s*"'
        )

    # ------------------------------------------------------------------ identification

    def _identify(self, concept: object) -> tuple[str | None, str | None, bool, tuple[str, ...]]:
        """(loinc, lab_name, relevant, labels) of a code. A LOINC of the rules wins (else the
        first LOINC); without a LOINC, the first label or local code found in the lab
        dictionary is the name, else the label of a MIMIC lab item code (fhir_lab_items) the
        dictionary names. `labels` are the code's text and displays."""
        if not isinstance(concept, dict):
            label = text(concept)
            labels: tuple[str, ...] = (label,) if label else ()
            return None, label, label is not None and self._in_dictionary(label), labels
        found: list[str] = []
        if label := text(concept.get("text")):
            found.append(label)
        loinc: str | None = None
        local: list[str] = []
        items: list[str] = []  # labels of MIMIC lab item codes (fhir_lab_items)
        for coding in codings(concept):
            code = text(coding.get("code"))
            display = text(coding.get("display"))
            if code and is_loinc(coding):
                if loinc is None or (not self._known(loinc) and self._known(code)):
                    loinc = code
            elif code:
                local.append(code)
                if item := self.items.label(coding, code, display):
                    items.append(item)
            if display and display not in found:
                found.append(display)
        labels = tuple(found)
        if loinc is not None:
            return loinc, labels[0] if labels else None, self._known(loinc), labels
        candidates = (*labels, *local)
        name = next((n for n in candidates if self._in_dictionary(n)), None)
        item = next((n for n in items if self._in_dictionary(n)), None)
        if name is None and item is not None:  # read as the item's display would be
            return None, item, True, labels if item in labels else (*labels, item)
        return None, name or (candidates[0] if candidates else None), name is not None, labels

    def _known(self, loinc: str) -> bool:
        """A LOINC of the rules, its dash read as `-` (the row keeps the code as written)."""
        return loinc_key(loinc) in self.loinc

    def _in_dictionary(self, label: str) -> bool:
        return label.lower() in self.dictionary or normalize_label(label) in self.dictionary

    # ------------------------------------------------------------------ values

    def _unit(self, quantity: dict[str, Any]) -> str | None:
        """`unit`, or the UCUM `code` when only the code is a unit the rules accept."""
        key = (text(quantity.get("unit")), text(quantity.get("code")))
        if key in self._unit_cache:
            return self._unit_cache[key]
        unit, code = key
        chosen = unit or code
        if unit and normalize_unit(unit) in self.units:
            chosen = unit
        elif code and normalize_unit(code) in self.units:
            chosen = code
        if len(self._unit_cache) < 10_000:
            self._unit_cache[key] = chosen
        return chosen

    def _value(self, holder: dict[str, Any]) -> tuple[str | None, str | None]:
        """(value_raw, unit) from value[x]; dataAbsentReason gives its code as the value text
        (non-numeric, so the cleaner quarantines it as non_numeric)."""
        quantity = holder.get("valueQuantity")
        if isinstance(quantity, dict):
            number = text(quantity.get("value"))
            comparator = text(quantity.get("comparator")) or ""
            return (comparator + number if number else None), self._unit(quantity)
        if isinstance(raw := holder.get("valueString"), str):
            return raw, None  # as received: the cleaner reads " 131 " and "<100" itself
        for key in ("valueInteger", "valueDecimal"):
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

    def _range_unit(self, holder: dict[str, Any]) -> str | None:
        """A value without a unit (valueString "131") takes the unit of its reference range."""
        first = first_item(holder.get("referenceRange"))
        for bound in (first.get("low"), first.get("high")) if first else ():
            if isinstance(bound, dict) and (unit := self._unit(bound)):
                return unit
        return None

    # ------------------------------------------------------------------ specimen

    def _specimen(self, resource: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
        """(specimen_id, specimen_type, collected): a referenced Specimen's type (exported, also
        named by an identifier it holds; or contained), else the reference's display, and when
        it was taken (fhir_specimens.collected_time). A contained
        Specimen's id is local to its Observation (generators write `#specimen` into each one),
        so it names no specimen: none pairs the results of two Observations as one specimen
        (spec §4)."""
        reference = resource.get("specimen")
        if not isinstance(reference, dict):
            return None, None, None
        specimen_id = reference_id(reference)
        label = collected = None
        contained = contained_target(reference, resource.get("contained"))
        if contained is not None:
            specimen_id, label = None, concept_label(contained.get("type"))
            collected = collected_time(contained)
        elif contained_id(reference) is not None:
            specimen_id = None
        elif specimen_id is not None:
            literal = text(reference.get("reference"))
            if literal is None or "?" in literal:  # named by an identifier: its Specimen's id
                specimen_id = self._identified(specimen_id) or specimen_id
            if (entry := self.specimens.get(specimen_id)) is not None:
                label, collected = entry.label, entry.collected
        return specimen_id, label or text(reference.get("display")), collected

    def _identified(self, value: str) -> str | None:
        """The id of the one exported Specimen holding identifier `value` (fhir_specimens); the
        look-up is made again when Specimens were indexed since."""
        if self._identifiers is None or self._identified_from != len(self.specimens):
            self._identifiers = identifier_targets(self.specimens)
            self._identified_from = len(self.specimens)
        return self._identifiers.get(value)

    def _fluid_from_code(self, labels: tuple[str, ...]) -> str | None:
        """A code label that names a non-blood fluid (`Sodium, urine`) stands in for a
        missing specimen type (cached: exports repeat the same few labels)."""
        if labels not in self._fluid_cache:
            found = next((t for t in labels if self.fluid.search(t)), None)
            self._fluid_cache[labels] = found
        return self._fluid_cache[labels]

    # ------------------------------------------------------------------ rows

    def rows(self, resource: dict[str, Any]) -> list[LabRow]:
        """Canonical rows of one Observation: the top-level value, and each component whose
        code is relevant (panels); at least one row, so every line is accounted for."""
        patient = subject_of(resource)
        effective = period(resource.get("effectivePeriod"))
        issued = time_text(resource.get("issued"))
        specimen_id, specimen_type, collected = self._specimen(resource)
        specimen_time = (
            first_time(resource, "effectiveDateTime", "effectiveInstant")
            or effective[0]
            or effective[1]
            or collected
            or issued
        )
        encounter = reference_id(resource.get("encounter") or resource.get("context"))
        status = text(resource.get("status"))
        ref_low, ref_high = self._reference_range(resource)

        def row(holder: dict[str, Any], ident: Identity, ref: tuple[object, object]) -> LabRow:
            loinc, name, _, labels = ident
            value_raw, unit = self._value(holder)
            unit = unit or self._range_unit(holder)
            fluid = specimen_type or self._fluid_from_code(labels)
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
                if isinstance(part, dict) and (ident := self._identify(part.get("code")))[2]:
                    out.append(row(part, ident, self._reference_range(part)))
        top = self._identify(resource.get("code"))
        if not out or top[2]:
            out.insert(0, row(resource, top, (ref_low, ref_high)))
        return out

    def relevant(self, resource: dict[str, Any]) -> bool:
        """Whether the Observation's own code, or a component's, is a result the screen reads."""
        parts = [p.get("code") for p in objects(resource.get("component"))]
        return any(self._identify(code)[2] for code in (resource.get("code"), *parts))
