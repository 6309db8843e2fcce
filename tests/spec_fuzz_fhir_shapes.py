"""The `bulk` shape spec_fuzz_fhir writes a canonical extract in, and the registry of shapes.

`bulk`: a Bulk Data `$export` as HAPI writes it, one NDJSON file per resource type
(Observations over a plain and a gzipped part, some results contained in a DiagnosticReport):
`valueQuantity` with unit text and UCUM code (sometimes the code alone), times in UTC (`Z`,
`+00:00`), MedicationRequest timed by `dosageInstruction.timing.repeat.boundsPeriod` (one step,
or two: a dose change) and `authoredOn`, Condition by `onsetDateTime` and `recordedDate`,
Specimen resources. `synthea`: spec_fuzz_fhir_synthea; `vendor` and `pages` (the vendor export
saved as search pages): spec_fuzz_fhir_vendor and spec_fuzz_fhir_vendor_records.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import pandas as pd

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
    write_ndjson,
)
from spec_fuzz_fhir_synthea import synthea
from spec_fuzz_fhir_vendor_records import pages, vendor
from spec_fuzz_rules import Rules

NAIVE = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d")
Tables = dict[str, list[dict[str, str]]]


def _patients(tables: Tables) -> list[str]:
    return sorted({r["patient_id"].strip() for rows in tables.values() for r in rows})


def _times(row: dict[str, str], tz: str, *keys: str) -> list:
    return [instant(row[k], tz) for k in keys]


def bulk(tables: Tables, out: Path, tz: str, seed: int) -> dict[str, str]:
    rng = random.Random(seed)  # noqa: S311 - test data
    labs, rules = tables["labs"], Rules()
    kinds = specimen_types(labs)
    observations = []
    for n, row in enumerate(labs):
        found: Resource = {
            "resourceType": "Observation",
            "id": f"obs-{n}",
            "status": lab_status(row["status"]),
            "category": LAB,
            "code": lab_code(row),
            "subject": {"reference": f"Patient/{row['patient_id'].strip()}"},
        }
        if (when := instant(row["specimen_time"], tz)) is not None:
            found["effectiveDateTime"] = stamp(when, tz, rng.choice(["z", "utc"]))
            if NAIVE.fullmatch(text := row["specimen_time"].strip()) and rng.random() < 0.25:
                found["effectiveDateTime"] = text.replace(" ", "T")  # site-local, no offset
        found |= value_of(row, with_unit_text=rng.random() < 0.8)
        sid, kind = row["specimen_id"].strip(), row["specimen_type"].strip()
        if sid:
            found["specimen"] = {"reference": f"Specimen/{sid}"}
            if sid not in kinds and kind:
                found["specimen"]["display"] = kind
        elif kind:
            found["specimen"] = {"display": kind}
        observations.append(found)
    reports = [_report(found) for found in observations if rng.random() < 0.2]
    observations = [found for found in observations if "contained" not in found]
    write_ndjson(out / "DiagnosticReport.ndjson", reports)
    half = len(observations) // 2
    write_ndjson(out / "Observation.000.ndjson", observations[:half])
    write_ndjson(out / "Observation.001.ndjson.gz", observations[half:])
    write_ndjson(
        out / "Specimen.ndjson",
        [
            {"resourceType": "Specimen", "id": sid, "type": {"text": kind}}
            for sid, kind in sorted(kinds.items())
        ],
    )
    orders = []
    for n, row in enumerate(tables["medications"]):
        start, end = _times(row, tz, "start_time", "end_time")
        status, not_done = medication_status(row["status"])
        order: Resource = {
            "resourceType": "MedicationRequest",
            "id": f"med-{n}",
            "status": status,
            "intent": "order",
            "medicationCodeableConcept": drug_concept(row),
            "subject": {"reference": f"Patient/{row['patient_id'].strip()}"},
            "authoredOn": stamp(start, tz, "z"),
        }
        order["dosageInstruction"] = _steps(start, end, tz, rng.random() < 0.4)
        if not_done:
            order["doNotPerform"] = True
        orders.append(order)
    write_ndjson(out / "MedicationRequest.ndjson", orders)
    conditions = []
    for n, row in enumerate(tables["diagnoses"]):
        (when,) = _times(row, tz, "recorded_time")
        conditions.append(
            {
                "resourceType": "Condition",
                "id": f"dx-{n}",
                "code": {"coding": [condition_coding(row, rules)]},
                "subject": {"reference": f"Patient/{row['patient_id'].strip()}"},
                "onsetDateTime": stamp(when, tz, "z"),
                "recordedDate": stamp(when, tz, "z"),
                **condition_status(row["status"]),
            }
        )
    write_ndjson(out / "Condition.ndjson", conditions)
    patients = _patients(tables)
    write_ndjson(out / "Patient.ndjson", [{"resourceType": "Patient", "id": p} for p in patients])
    return {p: p for p in patients}


def _report(found: Resource) -> Resource:
    """A DiagnosticReport holding the result as a contained Observation (`result: #r`), as
    HL7's laboratory example does: subject, time and specimen on the report alone. The
    result leaves the Observation files (marked by its `contained`)."""
    context = ("subject", "effectiveDateTime", "specimen")
    result = {k: v for k, v in found.items() if k not in context} | {"id": "r"}
    report = {
        "resourceType": "DiagnosticReport",
        "id": f"report-{found['id']}",
        "status": "final",
        "code": {"text": "Laboratory report"},
        **{k: found[k] for k in context if k in found},
        "contained": [result],
        "result": [{"reference": "#r"}],
    }
    found["contained"] = True
    return report


def _steps(start, end, tz: str, taper: bool) -> list[Resource]:
    """dosageInstruction of an order from start to end (open without one): one step, or two
    (a dose change a day after the start, the second step running to the end)."""
    step = {"start": stamp(start, tz, "z")} | ({"end": stamp(end, tz, "z")} if end else {})
    change = start + pd.Timedelta(days=1)
    if not taper or (end is not None and end <= change):
        return [{"timing": {"repeat": {"boundsPeriod": step}}}]
    first = {"start": step["start"], "end": stamp(change, tz, "z")}
    second = {"start": stamp(change, tz, "z")} | ({"end": step["end"]} if end else {})
    return [
        {"sequence": n + 1, "timing": {"repeat": {"boundsPeriod": bounds}}}
        for n, bounds in enumerate([first, second])
    ]


SHAPES = {"bulk": bulk, "synthea": synthea, "vendor": vendor, "pages": pages}
