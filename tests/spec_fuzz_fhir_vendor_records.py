"""The medication and condition records of the `vendor` shape (spec_fuzz_fhir_vendor), and the
shape itself, also saved as the pages of FHIR searches (`pages`).

A medication record is a MedicationRequest, or a MedicationStatement or MedicationAdministration
when that resource's status value set holds the canonical status (`cancelled` only a
MedicationRequest has; not done: `not-taken` / `not-done`), or a MedicationDispense for the days
between its start and end when they are whole days; its drug inline, in a contained Medication or
an exported one. A Condition is dated by `recordedDate` alone (Epic), `onsetDateTime` alone
(Cerner) or `onsetPeriod.start`, coded by system URI or OID; a resolved one sometimes by its
abatement alone.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from spec_fuzz_fhir import (
    Resource,
    condition_coding,
    condition_status,
    drug_concept,
    instant,
    medication_status,
    stamp,
    write_json,
    write_ndjson,
)
from spec_fuzz_fhir_vendor import BASE, MRN, ZONE, Tables, VendorLabs
from spec_fuzz_rules import Rules

STATEMENT = {
    "active": "active",
    "stopped": "stopped",
    "completed": "completed",
    "on-hold": "on-hold",
    "entered-in-error": "entered-in-error",
    "": "unknown",
    "not-done": "not-taken",
}
AUTHORIZED = pd.Timedelta(days=90)  # an order's dispenseRequest.validityPeriod
DISPENSE = {"active": "in-progress", "": "unknown", "not-done": "declined", "canceled": "cancelled"}
OIDS = {
    "http://hl7.org/fhir/sid/icd-10-cm": "urn:oid:2.16.840.1.113883.6.90",
    "http://hl7.org/fhir/sid/icd-9-cm": "urn:oid:2.16.840.1.113883.6.103",
    "http://snomed.info/sct": "urn:oid:2.16.840.1.113883.6.96",
}
ADMINISTRATION = {
    "active": "in-progress",
    "stopped": "stopped",
    "completed": "completed",
    "on-hold": "on-hold",
    "entered-in-error": "entered-in-error",
    "": "unknown",
    "not-done": "not-done",
}


class Vendor(VendorLabs):
    """The whole vendor export: labs, medication records, conditions, patients."""

    def drug(self, n: int, row: dict[str, str]) -> Resource:
        """The drug inline; in an exported Medication (by its code, or as its one ingredient)
        referenced by id or full URL; or in a contained one, referenced as `#med` or (as some
        generators write it) `med`."""
        concept = drug_concept(row)
        roll = self.rng.random()
        if roll < 0.3:
            return {"medicationCodeableConcept": concept}
        medication = {"resourceType": "Medication", "id": f"medication-{n}", "code": concept}
        if roll < 0.75:
            if roll >= 0.6:
                del medication["code"]
                medication["ingredient"] = [{"itemCodeableConcept": concept, "isActive": True}]
            self.add("Medication.ndjson", medication)
            prefix = BASE if roll < 0.45 else ""
            return {"medicationReference": {"reference": f"{prefix}Medication/medication-{n}"}}
        reference = "#med" if roll < 0.9 else "med"
        return {
            "contained": [{**medication, "id": "med"}],
            "medicationReference": {"reference": reference},
        }

    def medications(self) -> None:
        for n, row in enumerate(self.tables["medications"]):
            code = row["status"].strip().lower()
            kinds = ["MedicationRequest"]
            kinds += [
                k
                for k, codes in (
                    ("MedicationStatement", STATEMENT),
                    ("MedicationAdministration", ADMINISTRATION),
                )
                if code in codes
            ]
            if self.supply_days(row):
                kinds.append("MedicationDispense")
            kind = self.rng.choice(kinds)
            found: Resource = {
                "resourceType": kind,
                "id": f"{kind[10:].lower()}-{n}",
                "subject": self.subject(row),
                **self.drug(n, row),
            }
            self.add(f"{kind}.ndjson", found | self.timing(kind, row))

    def supply_days(self, row: dict[str, str]) -> int | None:
        """Whole days from start to end (a dispense's supply), None when not so."""
        start, end = (instant(row[k], self.tz) for k in ("start_time", "end_time"))
        if start is None or end is None or end <= start or (end - start) % pd.Timedelta(days=1):
            return None
        return (end - start).days

    def timing(self, kind: str, row: dict[str, str]) -> Resource:
        """Status and times of a medication record of resource type `kind`."""
        code = row["status"].strip().lower()
        start, end = self.when(row["start_time"]), self.when(row["end_time"])
        if kind == "MedicationRequest":
            status, not_done = medication_status(row["status"])
            bounds = {"start": start} | ({"end": end} if end else {})
            # the prescription's dispense authorization (Epic writes it on every order): 90
            # days from the order, whatever the dosage's own bounds say
            authorized = instant(row["start_time"], self.tz) + AUTHORIZED
            validity = {"start": start, "end": stamp(authorized, ZONE)}
            return {
                "status": status,
                "intent": "order",
                "authoredOn": start,
                "dosageInstruction": [{"timing": {"repeat": {"boundsPeriod": bounds}}}],
                "dispenseRequest": {"validityPeriod": validity, "numberOfRepeatsAllowed": 3},
                **({"doNotPerform": True} if not_done else {}),
            }
        if kind == "MedicationDispense":
            days = {
                "value": self.supply_days(row),
                "unit": "days",
                "code": "d",
                "system": "http://unitsofmeasure.org",
            }
            return {"status": DISPENSE.get(code, code), "whenHandedOver": start, "daysSupply": days}
        found: Resource = {
            "status": (STATEMENT if kind[10:] == "Statement" else ADMINISTRATION)[code]
        }
        one_dose = end is not None and instant(row["end_time"], self.tz) == instant(
            row["start_time"], self.tz
        )
        if kind == "MedicationAdministration" and one_dose:
            found["effectiveDateTime"] = start
        elif kind == "MedicationStatement" and end is None and self.rng.random() < 0.5:
            found["effectiveDateTime"] = start  # taken since then
        else:
            found["effectivePeriod"] = {"start": start} | ({"end": end} if end else {})
        if kind == "MedicationStatement":
            found["dateAsserted"] = start
        return found

    def conditions(self) -> None:
        rules = Rules()
        for n, row in enumerate(self.tables["diagnoses"]):
            when = self.when(row["recorded_time"])
            key = self.rng.choice(["recordedDate", "onsetDateTime", "onsetPeriod"])
            coding = condition_coding(row, rules)
            if coding["system"] in OIDS and self.rng.random() < 0.4:
                coding["system"] = OIDS[coding["system"]]
            found = {
                "resourceType": "Condition",
                "id": f"condition-{n}",
                "code": {"coding": [coding]},
                "subject": self.subject(row),
                key: {"start": when} if key == "onsetPeriod" else when,
                **condition_status(row["status"]),
            }
            if row["status"].strip().lower() == "resolved" and self.rng.random() < 0.5:
                del found["clinicalStatus"]  # abated, so resolved (con-4)
                found["abatementDateTime"] = when
            self.add("Condition.ndjson", found)


def vendor(tables: Tables, out: Path, tz: str, seed: int) -> dict[str, str]:
    export = Vendor(tables, tz, seed)
    export.observations()
    export.medications()
    export.conditions()
    patients = sorted({r["patient_id"].strip() for rows in tables.values() for r in rows})
    for pid in patients:
        mrn = {"type": {"coding": [{"code": "MR"}]}, "system": MRN, "value": pid}
        export.add(
            "Patient.ndjson", {"resourceType": "Patient", "id": f"e{pid}", "identifier": [mrn]}
        )
    for name, resources in export.files.items():
        write_ndjson(out / name, resources)
    return {f"e{p}": p for p in patients}


def pages(tables: Tables, out: Path, tz: str, seed: int) -> dict[str, str]:
    """The vendor export saved as the pages of FHIR searches (searchset Bundles of 40 entries,
    `.json` documents, full URLs), as a client paging through a vendor's API saves them."""
    ids = vendor(tables, out / "ndjson", tz, seed)
    for path in sorted((out / "ndjson").glob("*.ndjson")):
        lines = [json.loads(line) for line in path.read_text().splitlines()]
        for page, first in enumerate(range(0, len(lines), 40)):
            entries = [
                {
                    "fullUrl": f"{BASE}{r['resourceType']}/{r['id']}",
                    "resource": r,
                    "search": {"mode": "match"},
                }
                for r in lines[first : first + 40]
            ]
            bundle = {
                "resourceType": "Bundle",
                "type": "searchset",
                "total": len(lines),
                "link": [{"relation": "self", "url": f"{BASE}{path.stem}?page={page}"}],
                "entry": entries,
            }
            write_json(out / "pages" / f"{path.stem}-page{page:03d}.json", bundle)
        path.unlink()
    (out / "ndjson").rmdir()
    return ids
