"""The `synthea` shape of spec_fuzz_fhir: one transaction Bundle per patient, as Synthea writes
its output (`Given_Family_<uuid>.json`): every id a uuid, every reference `urn:uuid:`, times with
the site's offset, an Encounter each resource belongs to, LOINC codings with displays, Specimens
in the patient's Bundle, MedicationRequests named by an RxNorm coding (its display the drug's
name; inline, or in a Medication entry whose full URL is no `urn:uuid:` of its id) and ended by
`dispenseRequest.validityPeriod`, Conditions with clinical and verification status dated by
`onsetDateTime` and `recordedDate`; and after them, as Synthea writes, Claims naming each
order's drug and the Conditions, and a Provenance.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from spec_fuzz_fhir import (
    LAB,
    Resource,
    condition_coding,
    condition_status,
    drug_concept,
    instant,
    lab_code,
    lab_status,
    medication_status,
    specimen_types,
    stamp,
    value_of,
    write_json,
)
from spec_fuzz_rules import Rules

FULL_URL = "__full_url"  # a resource's entry fullUrl when it is not `urn:uuid:<id>`
Tables = dict[str, list[dict[str, str]]]


class Synthea:
    def __init__(self, tables: Tables, tz: str, seed: int) -> None:
        self.tables, self.tz, self.seed = tables, tz, seed
        self.kinds = specimen_types(tables["labs"])
        self.bundles: dict[str, list[Resource]] = {}

    def uuid(self, *parts: object) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(map(str, (self.seed, *parts)))))

    def stamp(self, text: str) -> str | None:
        when = instant(text, self.tz)
        return None if when is None else stamp(when, self.tz)

    def about(self, pid: str) -> Resource:
        return {
            "subject": {"reference": f"urn:uuid:{self.uuid(pid)}"},
            "encounter": {"reference": f"urn:uuid:{self.uuid(pid, 'enc')}"},
        }

    def patients(self) -> None:
        pids = sorted({r["patient_id"].strip() for rows in self.tables.values() for r in rows})
        for pid in pids:
            name = {"use": "official", "family": f"Family{pid}", "given": ["Given"]}
            self.bundles[pid] = [
                {
                    "resourceType": "Patient",
                    "id": self.uuid(pid),
                    "gender": "female",
                    "birthDate": "1950-01-01",
                    "name": [name],
                    "identifier": [{"type": {"coding": [{"code": "MR"}]}, "value": pid}],
                },
                {
                    "resourceType": "Encounter",
                    "id": self.uuid(pid, "enc"),
                    "status": "finished",
                    "subject": self.about(pid)["subject"],
                },
            ]

    def labs(self) -> None:
        labs = self.tables["labs"]
        for sid, kind in sorted(self.kinds.items()):
            pid = next(r["patient_id"].strip() for r in labs if r["specimen_id"].strip() == sid)
            specimen = {"resourceType": "Specimen", "id": self.uuid("sp", sid)}
            specimen |= {"type": {"text": kind}, "subject": self.about(pid)["subject"]}
            self.bundles[pid].append(specimen)
        for n, row in enumerate(labs):
            pid = row["patient_id"].strip()
            found: Resource = {
                "resourceType": "Observation",
                "id": self.uuid("obs", n),
                "status": lab_status(row["status"]),
                "category": LAB,
                "code": lab_code(row),
                **self.about(pid),
            }
            if (when := self.stamp(row["specimen_time"])) is not None:
                found["effectiveDateTime"] = found["issued"] = when
            found |= value_of(row)
            sid, kind = row["specimen_id"].strip(), row["specimen_type"].strip()
            if sid:
                found["specimen"] = {"reference": f"urn:uuid:{self.uuid('sp', sid)}"}
                if sid not in self.kinds and kind:
                    found["specimen"]["display"] = kind
            elif kind:
                found["specimen"] = {"display": kind}
            self.bundles[pid].append(found)

    def drug(self, pid: str, n: int, row: dict[str, str]) -> Resource:
        """The drug inline, or (every third order) by a Medication entry of the patient's Bundle
        whose full URL (`urn:uuid:`) is not its id."""
        concept = drug_concept(row, coding_display=True)
        if n % 3:
            return {"medicationCodeableConcept": concept}
        url = f"urn:uuid:{self.uuid('medication', n)}"
        medication = {"resourceType": "Medication", "id": f"med{n}", "code": concept}
        self.bundles[pid].append(medication | {FULL_URL: url})
        return {"medicationReference": {"reference": url}}

    def records(self) -> None:
        for n, row in enumerate(self.tables["medications"]):
            pid = row["patient_id"].strip()
            status, not_done = medication_status(row["status"])
            order: Resource = {
                "resourceType": "MedicationRequest",
                "id": self.uuid("med", n),
                "status": status,
                "intent": "order",
                **self.drug(pid, n, row),
                **self.about(pid),
                "authoredOn": self.stamp(row["start_time"]),
            }
            if (end := self.stamp(row["end_time"])) is not None:
                period = {"start": order["authoredOn"], "end": end}
                order["dispenseRequest"] = {"validityPeriod": period}
            if not_done:
                order["doNotPerform"] = True
            self.bundles[pid].append(order)
        rules = Rules()
        for n, row in enumerate(self.tables["diagnoses"]):
            pid = row["patient_id"].strip()
            when = self.stamp(row["recorded_time"])
            self.bundles[pid].append(
                {
                    "resourceType": "Condition",
                    "id": self.uuid("dx", n),
                    "code": {"coding": [condition_coding(row, rules)]},
                    **self.about(pid),
                    "onsetDateTime": when,
                    "recordedDate": when,
                    **condition_status(row["status"], both=True),
                }
            )


def _claims(pid: str, resources: list[Resource], make_uuid) -> list[Resource]:
    """What Synthea writes after the clinical resources: a Claim per order naming its drug
    (the order by reference) and one for the Conditions, and a Provenance of the Bundle."""
    patient = {"reference": f"urn:uuid:{make_uuid(pid)}"}
    orders = [r for r in resources if r["resourceType"] == "MedicationRequest"]
    conditions = [r for r in resources if r["resourceType"] == "Condition"]
    found: list[Resource] = []
    for order in orders:
        product = order.get("medicationCodeableConcept", {"text": "medication"})
        claim = {"resourceType": "Claim", "id": make_uuid("claim", order["id"])}
        claim |= {"status": "active", "patient": patient, "use": "claim"}
        claim["prescription"] = {"reference": f"urn:uuid:{order['id']}"}
        found.append(claim | {"item": [{"sequence": 1, "productOrService": product}]})
    if conditions:
        claim = {"resourceType": "Claim", "id": make_uuid("claim", pid), "patient": patient}
        claim["diagnosis"] = [
            {"sequence": n + 1, "diagnosisReference": {"reference": f"urn:uuid:{c['id']}"}}
            for n, c in enumerate(conditions)
        ]
        found.append(claim)
    targets = [{"reference": f"urn:uuid:{r['id']}"} for r in resources[:1]]
    provenance = {"resourceType": "Provenance", "id": make_uuid("provenance", pid)}
    return [*found, provenance | {"target": targets, "recorded": "2026-12-01T00:00:00Z"}]


def synthea(tables: Tables, out: Path, tz: str, seed: int) -> dict[str, str]:
    export = Synthea(tables, tz, seed)
    export.patients()
    export.labs()
    export.records()
    for pid, resources in export.bundles.items():
        resources += _claims(pid, resources, export.uuid)
        entries = [
            {
                "fullUrl": r.pop(FULL_URL, f"urn:uuid:{r['id']}"),
                "resource": r,
                "request": {"method": "POST", "url": r["resourceType"]},
            }
            for r in resources
        ]
        bundle = {"resourceType": "Bundle", "type": "transaction", "entry": entries}
        write_json(out / "fhir" / f"Given{pid}_Family{pid}_{export.uuid(pid)}.json", bundle)
    return {export.uuid(pid): pid for pid in export.bundles}
