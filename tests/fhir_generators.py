"""FHIR R4 written by hand in the shapes independent generators emit (Synthea's patient Bundles,
Epic/Cerner Bulk Data NDJSON, HAPI search pages), and the real CLI run on them: its exit
status, stderr, review list, quarantine and manifest."""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from hyposcreen.cli import main

DAY = "2026-11-20"
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SNOMED = "http://snomed.info/sct"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
UCUM = "http://unitsofmeasure.org"
LAB = [
    {
        "coding": [
            {
                "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                "code": "laboratory",
                "display": "laboratory",
            }
        ]
    }
]
Resource = dict[str, Any]


def entry(resource: Resource, patient_urn: bool = True) -> Resource:
    """A transaction Bundle entry as Synthea writes it: `urn:uuid:` full URL and a POST."""
    kind = resource["resourceType"]
    return {
        "fullUrl": f"urn:uuid:{resource['id']}",
        "resource": resource,
        "request": {"method": "POST", "url": kind},
    }


def transaction(*resources: Resource) -> Resource:
    return {"resourceType": "Bundle", "type": "transaction", "entry": [entry(r) for r in resources]}


def quantity(value: float, unit: str, with_unit: bool = True) -> Resource:
    """A UCUM valueQuantity; Synthea and Epic sometimes leave `unit` out, keeping the code."""
    found: Resource = {"value": value, "system": UCUM, "code": unit}
    if with_unit:
        found["unit"] = unit
    return found


def observation(
    oid: str, patient: str, loinc: str, display: str, time: str, **value: Any
) -> Resource:
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "category": LAB,
        "code": {"coding": [{"system": LOINC, "code": loinc, "display": display}], "text": display},
        "subject": {"reference": patient},
        "effectiveDateTime": time,
        "issued": time,
        **value,
    }


def condition(cid: str, patient: str, coding: list[Resource], **times: Any) -> Resource:
    return {
        "resourceType": "Condition",
        "id": cid,
        "clinicalStatus": {"coding": [{"code": "active"}]},
        "verificationStatus": {"coding": [{"code": "confirmed"}]},
        "code": {"coding": coding},
        "subject": {"reference": patient},
        **times,
    }


def med_request(mid: str, patient: str, drug: Resource | None, authored: str, **extra: Any) -> dict:
    found: Resource = {
        "resourceType": "MedicationRequest",
        "id": mid,
        "status": "active",
        "intent": "order",
        "subject": {"reference": patient},
        "authoredOn": authored,
        "dosageInstruction": [{"sequence": 1, "timing": {"repeat": {"frequency": 1, "period": 1}}}],
    }
    if drug is not None:
        found["medicationCodeableConcept"] = drug
    found.update(extra)
    return found


def rxnorm(code: str, display: str) -> Resource:
    return {"coding": [{"system": RXNORM, "code": code, "display": display}], "text": display}


def write_json(path: Path, document: object) -> Path:
    """A pretty-printed JSON document (gzipped when the name ends in .gz)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = json.dumps(document, indent=2).encode()
    path.write_bytes(gzip.compress(payload) if path.name.endswith(".gz") else payload)
    return path


def write_thiazide_orders(export: Path, patients: Iterable[str]) -> Path:
    """`MedicationRequest.ndjson` with one hydrochlorothiazide order (RxNorm 310798, active
    since 2026-10-01) for each of `patients` (bare ids): one risk factor each."""
    hctz = rxnorm("310798", "hydrochlorothiazide 25 MG Oral Tablet")
    orders = [med_request(f"m{p}", f"Patient/{p}", hctz, "2026-10-01") for p in patients]
    return write_ndjson(export / "MedicationRequest.ndjson", orders)


def write_unlisted_condition(export: Path, patient: str, cid: str = "c1") -> Path:
    """`Condition.ndjson` holding one acute sinusitis (ICD-10-CM J01.90, recorded 2026-11-01) of
    `patient`: the export has a diagnoses table, and it adds no risk factor."""
    sinusitis = {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "J01.90"}
    record = condition(cid, patient, [sinusitis], recordedDate="2026-11-01")
    return write_ndjson(export / "Condition.ndjson", [record])


def write_ndjson(path: Path, resources: list[Resource]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = b"".join(json.dumps(r).encode() + b"\n" for r in resources)
    path.write_bytes(gzip.compress(payload) if path.name.endswith(".gz") else payload)
    return path


def run(
    capsys: pytest.CaptureFixture[str], input_dir: Path, out: Path, *extra: str
) -> tuple[int, str]:
    """The real CLI (no Prefect) on a FHIR folder for the night of DAY."""
    argv = ["run", "--no-flow", "--source", "fhir", "--input", str(input_dir), "--out", str(out)]
    argv += ["--window-start", f"{DAY}T00:00:00", "--window-end", "2026-11-21T00:00:00"]
    status = main([*argv, *extra])
    return status, capsys.readouterr().err


def rows(out: Path, name: str) -> list[dict[str, str]]:
    with (out / DAY / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def listed(out: Path) -> dict[str, tuple[str, str, str]]:
    """patient_id -> (tier, corrected sodium, risk factors) of the review list."""
    return {
        r["patient_id"]: (r["tier"], r["corrected_sodium"], r["risk_factors"])
        for r in rows(out, "review_list.csv")
    }


def quarantined(out: Path) -> list[tuple[str, str, str, str]]:
    """(table, source_file, source_row, reason) of the quarantine, sorted."""
    return sorted(
        (r["table"], r["source_file"], r["source_row"], r["reason"])
        for r in rows(out, "quarantine.csv")
    )


def manifest(out: Path) -> dict[str, Any]:
    return json.loads((out / DAY / "run_manifest.json").read_text())
