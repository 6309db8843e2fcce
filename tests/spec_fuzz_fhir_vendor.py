"""The labs of the `vendor` shape of spec_fuzz_fhir: a canonical extract as an Epic/Cerner-like
NDJSON export (medication and condition records: spec_fuzz_fhir_vendor_records).

Times in the server's zone (America/Chicago; also with seven fractional digits) or as `.000Z`,
as `effectiveDateTime`, `effectivePeriod.start` or `effectiveInstant`; quantities with the unit
text as the laboratory wrote it and the UCUM code beside it, or either alone, or the number as a
`valueString` with the unit on its reference range; names without LOINC as a local code's
display; results of one draw sometimes as the components of one panel Observation; exported
Specimens under the vendor's own ids, typed by text or by SNOMED CT code alone, named by their
accession number (the canonical specimen id) or by id, with their collection time (some
Observations then carry no time of their own; their `issued` is later); a contained Specimen
for a type without a specimen id; patients under the vendor's ids (`e<MRN>`), named by full
URL, id or MRN identifier.
"""

from __future__ import annotations

import json
import random
import zlib

import pandas as pd

from spec_fuzz_fhir import (
    LAB,
    Resource,
    instant,
    lab_code,
    lab_status,
    specimen_times,
    specimen_types,
    stamp,
    value_of,
)

Tables = dict[str, list[dict[str, str]]]
ZONE = "America/Chicago"
BASE = "https://fhir.example-ehr.org/api/FHIR/R4/"
REPORTED_AFTER = pd.Timedelta(minutes=47)  # `issued`: the result reported after the draw
MRN = "urn:oid:1.2.840.114350.1.13.0.1.7.5.737384.14"
LOCAL_LAB = "urn:oid:1.2.840.114350.1.13.0.1.7.2.768282"
PANEL = {
    "coding": [
        {
            "system": "http://loinc.org",
            "code": "51990-0",
            "display": "Basic metabolic panel - Blood",
        }
    ]
}
VALUE_KEYS = ("valueQuantity", "valueString", "dataAbsentReason", "referenceRange")
SPECIMEN_CODES = {
    "serum": "119364003",
    "plasma": "119361006",
    "urine": "122575003",
    "whole blood": "119297000",
}
ACCESSION = "urn:oid:1.2.840.114350.1.13.0.1.7.2.798268"
# canonical status -> the resource types whose status value set says it, and the code there


class VendorLabs:
    """The labs of the vendor export; its files by name (`files`)."""

    def __init__(self, tables: Tables, tz: str, seed: int) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - test data
        self.tables, self.tz = tables, tz
        self.files: dict[str, list[Resource]] = {}

    def when(self, text: str) -> str | None:
        found = instant(text, self.tz)
        if found is None:
            return None
        return stamp(found, ZONE, self.rng.choice(["offset", "offset", "millis", "seven"]))

    def subject(self, row: dict[str, str]) -> Resource:
        """The patient (vendor id `e<MRN>`) by full URL, by id, or by MRN identifier."""
        pid = row["patient_id"].strip()
        roll = self.rng.random()
        if roll < 0.3:
            return {"reference": f"{BASE}Patient/e{pid}"}
        if roll < 0.5:
            return {"identifier": {"system": MRN, "value": pid}}
        if roll < 0.6:
            return {"reference": f"Patient?identifier={MRN}|{pid}"}
        return {"reference": f"Patient/e{pid}", "display": f"Patient {pid}"}

    def add(self, name: str, resource: Resource) -> None:
        self.files.setdefault(name, []).append(resource)

    def specimens(self) -> tuple[dict[str, str], set[str]]:
        """Exported Specimens: canonical id -> vendor id; the ids that carry their time."""
        labs = self.tables["labs"]
        kinds, times = specimen_types(labs), specimen_times(labs, self.tz)
        ids, timed = {}, set()
        for n, (sid, kind) in enumerate(sorted(kinds.items())):
            ids[sid] = f"spec-{n}"
            found: Resource = {
                "resourceType": "Specimen",
                "id": ids[sid],
                "accessionIdentifier": {"system": ACCESSION, "value": sid},
                "type": self.specimen_type(kind),
            }
            if sid in times:
                taken = stamp(times[sid], ZONE)
                key = self.rng.choice(["collectedDateTime", "collectedPeriod"])
                found["collection"] = {key: {"start": taken} if key[-6:] == "Period" else taken}
                timed.add(sid)
            self.add("Specimen.ndjson", found)
        return ids, timed

    def specimen_type(self, kind: str) -> Resource:
        """A type as text, or (half the time) as its SNOMED CT code alone."""
        code = SPECIMEN_CODES.get(kind.lower())
        if code is None or self.rng.random() < 0.5:
            return {"text": kind}
        return {"coding": [{"system": "http://snomed.info/sct", "code": code}]}

    def value(self, row: dict[str, str]) -> Resource:
        """value[x]: the quantity with its unit text and UCUM code, or either alone; or (Cerner
        for some results) the number as a `valueString` whose unit is the reference range's."""
        roll = self.rng.random()
        found = value_of(row, with_unit_text=roll < 0.9)
        quantity = found.get("valueQuantity")
        if quantity is None:
            return found
        if roll < 0.2:
            quantity.pop("system", None)
            quantity.pop("code", None)
        if roll > 0.85 and "unit" in quantity:
            unit = {k: quantity[k] for k in ("unit", "system", "code") if k in quantity}
            text = quantity.get("comparator", "") + json.dumps(quantity["value"])
            return {"valueString": text, "referenceRange": [{"low": {"value": 1, **unit}}]}
        return found

    def observations(self) -> None:
        ids, timed = self.specimens()
        groups: dict[tuple, list[Resource]] = {}
        for n, row in enumerate(self.tables["labs"]):
            found: Resource = {
                "resourceType": "Observation",
                "id": f"lab{n:05d}",
                "status": lab_status(row["status"], blank="unknown"),
                "category": LAB,
                "code": self.lab_code(row),
                "subject": self.subject(row),
            }
            sid, kind = row["specimen_id"].strip(), row["specimen_type"].strip()
            when = self.when(row["specimen_time"])
            if when is not None and not (sid in timed and self.rng.random() < 0.3):
                key = self.rng.choice(
                    ["effectiveDateTime"] * 3 + ["effectivePeriod"] * 2 + ["effectiveInstant"]
                )
                found[key] = {"start": when} if key == "effectivePeriod" else when
            if (taken := instant(row["specimen_time"], self.tz)) is not None:
                found["issued"] = stamp(taken + REPORTED_AFTER, ZONE, "millis")  # the report
            found |= self.value(row)
            if sid in ids:
                by_accession = {"identifier": {"system": ACCESSION, "value": sid}}
                by_id = {"reference": f"Specimen/{ids[sid]}"}
                found["specimen"] = self.rng.choice([by_accession, by_id])
            elif sid:
                found["specimen"] = {"reference": f"Specimen/{sid}"}
                if kind:
                    found["specimen"]["display"] = kind
            elif kind:
                found["contained"] = [
                    {"resourceType": "Specimen", "id": "specimen", "type": {"text": kind}}
                ]
                found["specimen"] = {"reference": "#specimen"}
            group = (
                row["patient_id"].strip(),
                instant(row["specimen_time"], self.tz),
                sid,
                kind,
                found["status"],
            )
            groups.setdefault(group, []).append(found)
        for members in groups.values():
            if len(members) > 1 and self.rng.random() < 0.6:
                members = [self.panel(members)]
            for found in members:
                self.add("Observation.ndjson", found)

    def lab_code(self, row: dict[str, str]) -> Resource:
        """A LOINC coding; a name alone as a local code's display (Epic's component ids)."""
        if row["loinc"].strip() or not row["lab_name"].strip():
            return lab_code(row, display_in_text=False)
        name = row["lab_name"].strip()
        local = str(zlib.crc32(name.encode()) % 100000)
        return {"coding": [{"system": LOCAL_LAB, "code": local, "display": name}]}

    def panel(self, members: list[Resource]) -> Resource:
        """Results of one draw as the components of one panel Observation."""
        first = members[0]
        found = {k: v for k, v in first.items() if k not in ("code", *VALUE_KEYS)}
        found["code"] = PANEL
        found["component"] = [
            {"code": m["code"], **{k: m[k] for k in VALUE_KEYS if k in m}} for m in members
        ]
        return found
