"""Convert a canonical extract (spec §1 CSVs) into a FHIR R4 Bulk Data export (NDJSON).

    python sample_data/to_fhir.py [--input sample_data/canonical] --out /tmp/sample-fhir

Used by the cross-format test: the same synthetic data screened as canonical CSV and as FHIR
must give the same review list. The export deliberately varies how each fact is written, the
way different FHIR servers do: observations split over a plain and a gzipped file, times as
`effectiveDateTime` (`Z` or `+00:00`) or `effectivePeriod.start`, units as `unit` or only the
UCUM `code`, patients referenced as `Patient/x` or `urn:uuid:x`; medications as
MedicationRequest (coded inline, with `boundsPeriod` or `authoredOn` + `validityPeriod`, or via a
contained Medication), MedicationStatement (via an exported Medication) and
MedicationAdministration; specimen types from exported Specimen resources or a display; and
conditions in a subfolder. Empty canonical cells become absent FHIR elements.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ATC = "http://www.whocc.no/atc"
DIAGNOSIS_SYSTEMS = {
    "ICD-10-CM": "http://hl7.org/fhir/sid/icd-10-cm",
    "ICD-9-CM": "http://hl7.org/fhir/sid/icd-9-cm",
    "SNOMED": "http://snomed.info/sct",
}
VERIFICATION = {"entered-in-error", "refuted", "unconfirmed", "provisional", "confirmed"}
_NUMBER = re.compile(r"^\s*[+-]?(\d+\.?\d*|\.\d+)\s*$")
_CENSORED = re.compile(r"^\s*(<=|>=|<|>)\s*([+-]?(?:\d+\.?\d*|\.\d+))\s*$")
_NAIVE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")
Resource = dict[str, Any]


def _read(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with path.open(newline="", encoding="utf-8") as handle:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(handle)]


def _time(value: str, index: int) -> str:
    """Naive ISO times get an explicit UTC offset (FHIR wants one); other text stays as is."""
    if not _NAIVE.match(value):
        return value
    return value + ("Z" if index % 2 == 0 else "+00:00")


def _number(text: str) -> int | float:
    return float(text) if "." in text else int(text)


def _subject(patient_id: str, index: int) -> Resource:
    if not patient_id:
        return {}
    reference = f"urn:uuid:{patient_id}" if index % 5 == 4 else f"Patient/{patient_id}"
    return {"subject": {"reference": reference}}


def _encounter(row: dict[str, str]) -> Resource:
    return (
        {"encounter": {"reference": f"Encounter/{row['encounter_id']}"}}
        if row.get("encounter_id")
        else {}
    )


def _value(row: dict[str, str], index: int) -> Resource:
    raw, unit = row.get("value_raw", ""), row.get("unit", "")
    quantity: Resource = {}
    if _NUMBER.match(raw):
        quantity = {"value": _number(raw.strip())}
    elif found := _CENSORED.match(raw):
        quantity = {"comparator": found.group(1), "value": _number(found.group(2))}
    elif raw:
        return {"valueString": raw}
    else:
        absent = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
        return {"dataAbsentReason": {"coding": [{"system": absent, "code": "unknown"}]}}
    if unit:
        quantity.update(
            {"system": UCUM, "code": unit}
            if index % 4 == 1
            else {"unit": unit, "system": UCUM, "code": unit}
        )
    return {"valueQuantity": quantity}


def observations(labs: list[dict[str, str]]) -> tuple[list[Resource], list[Resource]]:
    """Observations, and Specimen resources for specimen ids whose rows agree on the type."""
    types: dict[str, set[str]] = defaultdict(set)
    for row in labs:
        if row.get("specimen_id"):
            types[row["specimen_id"]].add(row.get("specimen_type", ""))
    specimens = [
        {"resourceType": "Specimen", "id": sid, "type": {"text": next(iter(kinds))}}
        for sid, kinds in sorted(types.items())
        if len(kinds) == 1 and next(iter(kinds))
    ]
    exported = {s["id"] for s in specimens}
    out = []
    for index, row in enumerate(labs):
        code: Resource = {}
        if row.get("loinc"):
            coding = {"system": LOINC, "code": row["loinc"]}
            code["coding"] = [
                {**coding, "display": row["lab_name"]} if row.get("lab_name") else coding
            ]
        if row.get("lab_name"):
            code["text"] = row["lab_name"]
        resource: Resource = {
            "resourceType": "Observation",
            "id": f"lab-{index + 1}",
            "status": row.get("status") or "final",
            "category": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                            "code": "laboratory",
                        }
                    ]
                }
            ],
            "code": code,
            **_subject(row.get("patient_id", ""), index),
            **_encounter(row),
        }
        when = row.get("specimen_time", "")
        if when:
            if index % 3 == 1:
                resource["effectivePeriod"] = {"start": _time(when, index)}
            else:
                resource["effectiveDateTime"] = _time(when, index)
            if row.get("result_time"):
                resource["issued"] = _time(row["result_time"], index)
        if row.get("specimen_id"):
            specimen: Resource = {"reference": f"Specimen/{row['specimen_id']}"}
            if row["specimen_id"] not in exported and row.get("specimen_type"):
                specimen["display"] = row["specimen_type"]
            resource["specimen"] = specimen
        elif row.get("specimen_type"):
            resource["specimen"] = {"display": row["specimen_type"]}
        resource.update(_value(row, index))
        out.append(resource)
    return out, specimens


def _drug_concept(row: dict[str, str]) -> Resource:
    concept: Resource = {}
    coding = []
    if row.get("rxnorm"):
        coding.append({"system": RXNORM, "code": row["rxnorm"]})
    if row.get("atc"):
        coding.append({"system": ATC, "code": row["atc"]})
    if coding:
        concept["coding"] = coding
    if row.get("drug_name"):
        concept["text"] = row["drug_name"]
    return concept


def medications(meds: list[dict[str, str]]) -> dict[str, list[Resource]]:
    """Each canonical row as one of four FHIR shapes, by row number."""
    out: dict[str, list[Resource]] = defaultdict(list)
    for index, row in enumerate(meds):
        start, end = _time(row.get("start_time", ""), index), _time(row.get("end_time", ""), index)
        bounds = {k: v for k, v in (("start", start), ("end", end)) if v}
        common: Resource = {
            "id": f"med-{index + 1}",
            "status": row.get("status") or "active",
            **_subject(row.get("patient_id", ""), index),
            **_encounter(row),
        }
        route = {"route": {"text": row["route"]}} if row.get("route") else {}
        shape = index % 4
        if shape == 0:  # MedicationRequest, inline code, boundsPeriod
            dosage = {**route, "timing": {"repeat": {"boundsPeriod": bounds}}} if bounds else route
            resource = {
                "resourceType": "MedicationRequest",
                **common,
                "intent": "order",
                "medicationCodeableConcept": _drug_concept(row),
                "dosageInstruction": [dosage],
            }
        elif shape == 1:  # MedicationStatement referencing an exported Medication
            medication = {
                "resourceType": "Medication",
                "id": f"drug-{index + 1}",
                "code": _drug_concept(row),
            }
            out["Medication"].append(medication)
            resource = {
                "resourceType": "MedicationStatement",
                **common,
                "medicationReference": {"reference": f"Medication/drug-{index + 1}"},
                "effectivePeriod": bounds,
                "dosage": [route] if route else [],
            }
        elif shape == 2:  # MedicationRequest with a contained Medication, authoredOn + validity
            contained = {"resourceType": "Medication", "id": "m1", "code": _drug_concept(row)}
            resource = {
                "resourceType": "MedicationRequest",
                **common,
                "intent": "order",
                "contained": [contained],
                "medicationReference": {"reference": "#m1"},
                "authoredOn": start,
                "dosageInstruction": [route] if route else [],
            }
            if end:
                resource["dispenseRequest"] = {"validityPeriod": {"start": start, "end": end}}
        else:  # MedicationAdministration over a period
            resource = {
                "resourceType": "MedicationAdministration",
                **common,
                "medicationCodeableConcept": _drug_concept(row),
                "effectivePeriod": bounds,
                "dosage": route,
            }
        out[resource["resourceType"]].append(resource)
    return out


def conditions(diagnoses: list[dict[str, str]]) -> list[Resource]:
    out = []
    for index, row in enumerate(diagnoses):
        system = DIAGNOSIS_SYSTEMS.get(row.get("code_system", ""), row.get("code_system", ""))
        coding = {"system": system, "code": row.get("code", "")}
        if row.get("description"):
            coding["display"] = row["description"]
        resource: Resource = {
            "resourceType": "Condition",
            "id": f"dx-{index + 1}",
            "code": {
                "coding": [coding],
                **({"text": row["description"]} if row.get("description") else {}),
            },
            **_subject(row.get("patient_id", ""), index),
            **_encounter(row),
            "recordedDate": _time(row.get("recorded_time", ""), index),
        }
        status = row.get("status", "")
        if status:
            key = "verificationStatus" if status in VERIFICATION else "clinicalStatus"
            resource[key] = {"coding": [{"code": status}]}
        out.append(resource)
    return out


def patients(rows: list[dict[str, str]]) -> list[Resource]:
    gender = {"M": "male", "F": "female"}
    out = []
    for row in rows:
        resource: Resource = {"resourceType": "Patient", "id": row["patient_id"]}
        if row.get("mrn"):
            mr = {
                "coding": [
                    {"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}
                ]
            }
            resource["identifier"] = [{"type": mr, "value": row["mrn"]}]
        if row.get("name"):
            resource["name"] = [{"use": "official", "text": row["name"]}]
        if row.get("sex"):
            resource["gender"] = gender.get(row["sex"], row["sex"].lower())
        if row.get("birth_date"):
            resource["birthDate"] = row["birth_date"]
        out.append(resource)
    return out


def _write(path: Path, resources: list[Resource]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = b"".join(orjson.dumps(r) + b"\n" for r in resources)
    if path.name.endswith(".gz"):
        path.write_bytes(gzip.compress(payload, mtime=0))
    else:
        path.write_bytes(payload)


def convert(canonical_dir: Path, out_dir: Path) -> dict[str, int]:
    """Write the export; returns the number of resources per type."""
    labs = _read(canonical_dir / "labs.csv")
    obs, specimens = observations(labs)
    half = (len(obs) + 1) // 2
    _write(out_dir / "Observation.000.ndjson", obs[:half])
    _write(out_dir / "Observation.001.ndjson.gz", obs[half:])
    _write(out_dir / "Specimen.ndjson", specimens)
    counts = {"Observation": len(obs), "Specimen": len(specimens)}
    for kind, resources in medications(_read(canonical_dir / "medications.csv")).items():
        _write(out_dir / f"{kind}.ndjson", resources)
        counts[kind] = len(resources)
    dx = conditions(_read(canonical_dir / "diagnoses.csv"))
    _write(out_dir / "Condition" / "part-1.ndjson", dx)
    people = patients(_read(canonical_dir / "patients.csv"))
    if people:
        _write(out_dir / "Patient.ndjson", people)
    counts.update(Condition=len(dx), Patient=len(people))
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, default=ROOT / "canonical")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    for kind, count in convert(args.input, args.out).items():
        print(f"{kind}: {count}")


if __name__ == "__main__":
    main()
