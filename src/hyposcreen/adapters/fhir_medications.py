"""FHIR medication resources -> rows of the canonical medications table.

MedicationRequest (DSTU2's MedicationOrder read as one), MedicationStatement,
MedicationAdministration and MedicationDispense (timed by fhir_dispenses), with the drug from
`medicationCodeableConcept` or from a Medication resource (exported in Medication files or
`contained`, referenced as `#id`, or as a bare `id` that a contained resource has; a mix's
parts by their references). A code system whose codes are the drug's name
(rules/drug_name_systems.csv) names it by its codes and, on a Medication, by its identifiers,
as a display would. Conditions are read by fhir_conditions, Patients by fhir_patients. A record
naming its drug only by a reference to a Medication the export does not hold is quarantined
`unresolved_reference`, to one whose newest version is a deletion (fhir_index)
`deleted_medication` (fhir_scan). The rows made per resource type (`DRUG_ROWS`), and those
whose drug the screen cannot read (`UNIDENTIFIED_DRUG`: no text or display, named by codes
alone that are no ATC code and no RxNorm code of a listed ingredient), are counted for the
manifest's source_counts: too many of them warn (unidentified_events), since no medication risk
factor can come from them.
Rows of an older version of a resource, set aside for its latest (fhir_versions), and those
of a Patient the export records deleted (fhir_deleted_patients) are taken back out of both
counts: the counts are of the rows screened. Each row carries its resource type for it, in a
hidden column (`RESOURCE_TYPE`) the reader drops once counted.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from hyposcreen.adapters.fhir_dispenses import DECLINED, dispense_span
from hyposcreen.adapters.fhir_index import DRUG_NAME_SYSTEMS, Versions, medication_index_entry
from hyposcreen.adapters.fhir_table import DeletedReference, UnresolvedReference
from hyposcreen.adapters.fhir_types import (
    ATC_SYSTEMS,
    RXNORM_SYSTEMS,
    codings,
    concept_label,
    concept_texts,
    contained_id,
    contained_target,
    encounter_of,
    first_item,
    first_time,
    objects,
    period,
    reference_id,
    subject_of,
    system_key,
    text,
)
from hyposcreen.rules.loader import RuleSet

MEDICATION_COLUMNS = (
    "patient_id",
    "drug_name",
    "rxnorm",
    "atc",
    "start_time",
    "end_time",
    "status",
    "route",
    "encounter_id",
)
# hidden: the resource type a row was made from (what `set_aside` counts it under)
RESOURCE_TYPE = "__fhir_medication_type"
ROW_COLUMNS = (*MEDICATION_COLUMNS, RESOURCE_TYPE)  # the columns of `MedicationMapper.rows`
Row = tuple[object, ...]

# MedicationStatement.status "not-taken": the drug was not taken; read like not-done, as is a
# MedicationDispense "declined" (not dispensed) and a MedicationRequest with doNotPerform true:
# an order that the drug be NOT given.
_MEDICATION_STATUS = {"not-taken": "not-done", DECLINED: "not-done"}
_NOT_DONE = "not-done"
# an order: R4's MedicationRequest, or DSTU2's MedicationOrder (`dateWritten`, `dateEnded`)
_ORDERS = ("MedicationRequest", "MedicationOrder")
# the note of a row whose drug the screen cannot read: no text, display or name code, no ATC
# code and no RxNorm code of a listed ingredient (codes alone: an RxNorm product, an NDC)
UNIDENTIFIED_DRUG = "no_drug_identifier"
DRUG_ROWS = "drug_rows"  # source_counts: the rows a resource type gave (their drugs judged)
_ATC_SHAPE = re.compile(r"^[A-Z]\d{2}[A-Z]{2}\d{2}$", re.I)  # a coding without a system


def _not_given(resource: dict[str, Any]) -> bool:
    """A drug recorded as not taken or not given the way STU3 and DSTU2 wrote it (R4 says so
    by the status not-taken / not-done): MedicationStatement `taken: n`, `wasNotTaken: true`;
    MedicationAdministration `notGiven: true`, `wasNotGiven: true`; MedicationDispense
    `notDone: true`."""
    taken = resource.get("taken")
    return (isinstance(taken, str) and taken.strip().lower() == "n") or any(
        resource.get(flag) is True for flag in ("wasNotTaken", "notGiven", "wasNotGiven", "notDone")
    )


def _instant(time: str) -> datetime | None:
    """A time's instant for ordering the steps of one order (a time without an offset as UTC:
    only its place among the order's other times matters); None when it is no ISO time."""
    try:
        found = datetime.fromisoformat(time)
    except ValueError:
        return None
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def _dosage_span(dosages: object) -> tuple[str | None, str | None]:
    """The boundsPeriod span of an order's dosage instructions: an order written as dose steps
    (a taper, a dose change) runs from its earliest step's start to its latest step's end, and a
    step with a start but no end leaves it open. Times that cannot be ordered keep the first."""
    starts: list[str] = []
    ends: list[str] = []
    open_ended = False
    for dosage in objects(dosages):
        timing = dosage.get("timing") if isinstance(dosage, dict) else None
        repeat = timing.get("repeat") if isinstance(timing, dict) else None
        bounds = repeat.get("boundsPeriod") if isinstance(repeat, dict) else None
        start, end = period(bounds)
        starts += [start] if start else []
        ends += [end] if end else []
        open_ended = open_ended or (start is not None and end is None)
    return _earliest(starts, first=True), None if open_ended else _earliest(ends, first=False)


def _earliest(times: list[str], first: bool) -> str | None:
    """The earliest (`first`) or latest of `times`; the first written when any is unordered."""
    ordered = [(instant, t) for t in times if (instant := _instant(t)) is not None]
    if not times or len(ordered) < len(times):
        return times[0] if times else None
    pick = min if first else max
    return pick(ordered, key=lambda pair: pair[0])[1]


class MedicationMapper:
    def __init__(
        self,
        rules: RuleSet,
        medications: dict[str, dict[str, Any]],
        versions: Versions | None = None,
    ) -> None:
        self.medications = medications  # Medication id -> resource
        # the index's versions (fhir_index): an id noted there but not indexed was deleted
        self.versions: Versions = {} if versions is None else versions
        self.known_rxnorm = {i.rxnorm for i in rules.ingredients.values() if i.rxnorm}
        self.known_atc = {i.atc for i in rules.ingredients.values() if i.atc}
        self.atc_prefixes = tuple(rules.atc_combinations)
        self.unmapped: Counter[tuple[str, str]] = Counter()  # (resource type, note)
        self.drug_rows: Counter[str] = Counter()  # resource type -> rows made
        self.unresolved = False  # the last row's drug is only a reference the export lacks
        self.deleted = False  # ... to a Medication the export records deleted

    def rows(self, resource: dict[str, Any]) -> list[Row]:
        """The row of one resource for the reader (`ROW_COLUMNS`); UnresolvedReference when its
        drug is named only by a reference to a Medication the export does not hold
        (DeletedReference: one it records deleted)."""
        self.unresolved = self.deleted = False
        found = self.row(resource)
        kind = str(resource.get("resourceType"))
        if self.unresolved:
            raise DeletedReference(kind) if self.deleted else UnresolvedReference(kind)
        self.drug_rows[kind] += 1
        _, name, rxnorm, atc = found[:4]
        if name is None and atc is None and rxnorm not in self.known_rxnorm:
            self.unmapped[(kind, UNIDENTIFIED_DRUG)] += 1
        return [(*found, kind)]

    def set_aside(self, rows_set_aside: list[pd.DataFrame]) -> None:
        """Take rows set aside after they were counted (of older versions, of a deleted
        Patient) out of the counts: the same judgement as `rows` makes, on their canonical
        columns, under their `RESOURCE_TYPE`."""
        for rows in rows_set_aside:
            if rows.empty:
                continue
            kinds = rows[RESOURCE_TYPE]
            unread = rows["drug_name"].isna() & rows["atc"].isna()
            unread &= ~rows["rxnorm"].isin(self.known_rxnorm)
            self.drug_rows.subtract(kinds.value_counts().to_dict())
            self.unmapped.subtract(
                {(kind, UNIDENTIFIED_DRUG): n for kind, n in kinds[unread].value_counts().items()}
            )
        self.drug_rows, self.unmapped = +self.drug_rows, +self.unmapped

    def _medication_concepts(self, resource: dict[str, Any]) -> tuple[list[object], str | None]:
        """The concepts naming the drug (code and ingredients) and the reference's display (a
        name beside a Medication's codes; for a reference that cannot be resolved, without a
        display, `unresolved` is set)."""
        concept = resource.get("medicationCodeableConcept")
        reference = resource.get("medicationReference")
        r5_medication = resource.get("medication")  # R5 CodeableReference
        if isinstance(r5_medication, dict):
            concept = concept or r5_medication.get("concept")
            reference = reference or r5_medication.get("reference")
        if concept is not None:
            return [concept], None
        kind = str(resource.get("resourceType"))
        if not isinstance(reference, dict):
            self.unmapped[(kind, "no_medication")] += 1
            return [], None
        target = self._medication(reference, resource.get("contained"))
        if target is None:
            self.unmapped[(kind, "unresolved_medication_reference")] += 1
            self.unresolved = (display := text(reference.get("display"))) is None
            named = None if contained_id(reference) else reference_id(reference)
            self.deleted = named in self.versions and named not in self.medications
            return [], display
        concepts = [target.get("code"), *target.get("names", ())]
        for ingredient in objects(target.get("ingredient")):
            item = ingredient.get("itemCodeableConcept") or ingredient.get("item")
            concepts.append(item.get("concept", item) if isinstance(item, dict) else None)
            # a mix (MIMIC's MedicationMix: a drip's drug and base) refers to its parts
            part = ingredient.get("itemReference") or (
                item.get("reference") if isinstance(item, dict) else None
            )
            if (found := self._medication(part, resource.get("contained"))) is not None:
                concepts += [found.get("code"), *found.get("names", ())]
            elif isinstance(part, dict):  # a Substance, or a part not exported: its display
                concepts.append({"text": part.get("display")})
        return concepts, text(reference.get("display"))

    def _medication(self, reference: object, contained: object) -> dict[str, Any] | None:
        """The index entry of the Medication a reference names: contained, else exported."""
        target = contained_target(reference, contained)
        if target is not None:
            return medication_index_entry(target)
        if contained_id(reference) is None and (found := reference_id(reference)):
            return self.medications.get(found)
        return None

    def _drug(self, resource: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
        concepts, display = self._medication_concepts(resource)
        names: list[str] = []
        rxnorm: list[str] = []
        atc: list[str] = []
        for concept in concepts:
            names += [n for n in concept_texts(concept) if n not in names]
            for coding in codings(concept):
                code, key = text(coding.get("code")), system_key(coding.get("system"))
                if not code:
                    continue
                if key in DRUG_NAME_SYSTEMS and code not in names:
                    names.append(code)
                elif key in RXNORM_SYSTEMS or (not key and code in self.known_rxnorm):
                    rxnorm.append(code)
                elif key in ATC_SYSTEMS or (not key and _ATC_SHAPE.match(code)):
                    atc.append(code.upper())
        if display and display not in names:
            names.append(display)
        best_rx = next((c for c in rxnorm if c in self.known_rxnorm), rxnorm[0] if rxnorm else None)
        listed_atc = (c for c in atc if c in self.known_atc or c.startswith(self.atc_prefixes))
        best_atc = next(listed_atc, atc[0] if atc else None)
        return " | ".join(names) or None, best_rx, best_atc

    def row(self, resource: dict[str, Any]) -> Row:
        kind = resource.get("resourceType")
        start = end = None
        if kind in _ORDERS:
            bounds = _dosage_span(resource.get("dosageInstruction"))
            dispense = resource.get("dispenseRequest")
            validity = period(
                dispense.get("validityPeriod") if isinstance(dispense, dict) else None
            )
            if bounds[0] is not None:  # the dosage times the drug: open stays open
                validity = (None, None)
            start = bounds[0] or validity[0] or first_time(resource, "authoredOn", "dateWritten")
            end = bounds[1] or validity[1] or first_time(resource, "dateEnded")
            route_holder = first_item(resource.get("dosageInstruction"))
        elif kind == "MedicationDispense":
            start, end = dispense_span(resource)
            route_holder = first_item(resource.get("dosageInstruction"))
        else:  # MedicationStatement, MedicationAdministration
            start, end = period(resource.get("effectivePeriod") or resource.get("occurencePeriod"))
            moment = first_time(resource, "effectiveDateTime", "occurenceDateTime")
            if start is None and moment is not None:
                start = moment
                # an administration is one dose at that moment; a statement runs on
                end = moment if kind == "MedicationAdministration" else None
            start = start or first_time(resource, "dateAsserted")
            route_holder = first_item(resource.get("dosage"))
        route = concept_label(route_holder.get("route")) if route_holder else None
        status = text(resource.get("status"))
        status = _MEDICATION_STATUS.get(status.lower(), status) if status else None
        if resource.get("doNotPerform") is True or _not_given(resource):
            status = _NOT_DONE
        drug_name, rxnorm, atc = self._drug(resource)
        return (
            subject_of(resource),
            drug_name,
            rxnorm,
            atc,
            start,
            end,
            status,
            route,
            encounter_of(resource),
        )
