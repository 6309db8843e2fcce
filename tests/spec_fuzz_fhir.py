"""A generated canonical extract (spec_fuzz_generate) written again as a FHIR R4 export, the way
independent generators write one, for the canonical-vs-FHIR differential check
(spec_fuzz_compare).

Each canonical row becomes the FHIR that states the same fact, in one of three shapes
(spec_fuzz_fhir_shapes): `bulk` (a Bulk Data `$export` per resource type, HAPI-like), `synthea`
(one transaction Bundle per patient, `urn:uuid:` ids) and `vendor` (Epic/Cerner-like NDJSON:
other offsets, UCUM codes beside unit text, MedicationStatement/-Administration, Specimens by
accession number). Only what FHIR can express is carried over, and it is carried over as FHIR
must write it:
- a time is the instant spec §11 reads the canonical text as (a naive wall time site-local, the
  doubled one its first occurrence, a missing one the end of the gap), written with an offset;
- codes hold no surrounding spaces (`code` forbids them), a status is a code of its resource's
  value set (`Cancelled` -> `cancelled`, a blank lab status `final`, a blank order `unknown`,
  an order not done `doNotPerform`), an RxNorm code is the code (`4603.0` -> `4603`);
- a value is a `valueQuantity` (with its comparator), else `valueString`, else
  `dataAbsentReason`; MIMIC's `___` beside a parsed number is that number;
- a Specimen has one type: when the rows naming one specimen id disagree on it, no Specimen is
  exported and each reference carries its row's type as its `display`.
"""

from __future__ import annotations

import gzip
import json
import re
from collections import defaultdict
from fractions import Fraction
from pathlib import Path
from typing import Any

import pandas as pd

from spec_fuzz_rules import CENSORED, NUMBER, Rules, read_time

Resource = dict[str, Any]
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ATC = "http://www.whocc.no/atc"
SNOMED = "http://snomed.info/sct"
DIAGNOSIS_SYSTEMS = {
    "ICD-10-CM": "http://hl7.org/fhir/sid/icd-10-cm",
    "ICD-9-CM": "http://hl7.org/fhir/sid/icd-9-cm",
    "SNOMED": SNOMED,
}
OTHER_SYSTEM = "http://id.who.int/icd/release/11/mms"  # a code system the rules do not read
# UCUM codes of the units the generator writes (compared without case and spaces)
UCUM_CODES = {
    "mmol/l": "mmol/L",
    "meq/l": "meq/L",
    "mg/dl": "mg/dL",
    "g/dl": "g/dL",
    "g/l": "g/L",
    "mosm/kg": "mosm/kg",
    "mosm/kgh2o": "mosm/kg{H2O}",
    "mosmol/kg": "mosm/kg",
}
COMPARATORS = {"less than": "<", "greater than": ">"}
_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
LAB = [{"coding": [{"system": _CATEGORY, "code": "laboratory", "display": "Laboratory"}]}]
_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
VERIFICATION_CODES = {"refuted", "entered-in-error", "confirmed", "unconfirmed", "provisional"}


def read_tables(folder: Path) -> dict[str, list[dict[str, str]]]:
    """The canonical CSVs of a generated extract, as text."""
    return {
        name: pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False).to_dict(
            "records"
        )
        for name in ("labs", "medications", "diagnoses")
    }


def instant(text: str, tz: str) -> pd.Timestamp | None:
    """The UTC instant a canonical time means (spec §11)."""
    return read_time(text, tz)


def stamp(when: pd.Timestamp, zone: str, style: str = "offset") -> str:
    """An instant as a FHIR dateTime: in `zone` with its offset (`seven`: and seven fractional
    digits), in UTC as `Z`, `+00:00` or `.000Z` (Cerner)."""
    if style == "utc":
        return when.tz_convert("UTC").isoformat()
    if style == "z":
        return when.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
    if style == "millis":
        return when.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%S.000Z")
    local = when.tz_convert(zone).isoformat()
    if style == "seven":  # seven fractional digits, as .NET servers write them
        return local[:19] + ".0000000" + local[19:]
    return local


def number(text: str) -> int | float:
    """A decimal text as the JSON number a server writes (the shortest float that reads back)."""
    text = text.strip()
    return int(text) if re.fullmatch(r"[+-]?\d+", text) else float(Fraction(text))


def ucum(unit: str) -> str:
    return UCUM_CODES.get(re.sub(r"\s+", "", unit).lower(), unit.strip())


def value_of(row: dict[str, str], with_unit_text: bool = True, unit_text: str = "") -> Resource:
    """value[x] of a lab row: a Quantity (comparator, unit text and UCUM code), a string, or a
    data-absent reason for an empty value."""
    raw, unit = row["value_raw"].strip(), row["unit"]
    quantity: Resource
    if re.fullmatch(NUMBER, raw):
        quantity = {"value": number(raw)}
    elif hit := CENSORED.match(raw):
        comparator = COMPARATORS.get(hit.group(1).lower(), hit.group(1))
        quantity = {"value": number(hit.group(2)), "comparator": comparator}
    elif raw == "___" and re.fullmatch(NUMBER, row.get("value", "").strip()):
        quantity = {"value": number(row["value"])}  # MIMIC-IV on FHIR: valuenum as the value
    elif raw:
        return {"valueString": raw}
    else:
        absent = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
        return {"dataAbsentReason": {"coding": [{"system": absent, "code": "unknown"}]}}
    if unit.strip():
        if with_unit_text:
            quantity["unit"] = unit_text or unit
        quantity.update({"system": UCUM, "code": ucum(unit)})
    return {"valueQuantity": quantity}


def lab_code(row: dict[str, str], display_in_text: bool = True) -> Resource:
    """code of a lab row: a LOINC coding (its name as display), and the name as text."""
    loinc, name = row["loinc"].strip(), row["lab_name"].strip()
    concept: Resource = {}
    if loinc:
        coding = {"system": LOINC, "code": loinc}
        concept["coding"] = [{**coding, "display": name} if name else coding]
    if name and (display_in_text or not loinc):
        concept["text"] = name
    return concept


def lab_status(status: str, blank: str = "final") -> str:
    """An ObservationStatus code (FHIR codes are lower case and `cancelled` is spelt so)."""
    code = status.strip().lower()
    return {"canceled": "cancelled", "": blank}.get(code, code)


def specimen_types(labs: list[dict[str, str]]) -> dict[str, str]:
    """Specimen id -> its one type, for the specimens whose rows agree on a type."""
    kinds: dict[str, set[str]] = defaultdict(set)
    for row in labs:
        if row["specimen_id"].strip():
            kinds[row["specimen_id"].strip()].add(row["specimen_type"].strip())
    return {sid: next(iter(k)) for sid, k in kinds.items() if len(k) == 1 and next(iter(k))}


def specimen_times(labs: list[dict[str, str]], tz: str) -> dict[str, pd.Timestamp]:
    """Specimen id -> when it was taken, for the specimens whose rows agree on the instant."""
    times: dict[str, set] = defaultdict(set)
    for row in labs:
        if row["specimen_id"].strip():
            times[row["specimen_id"].strip()].add(instant(row["specimen_time"], tz))
    return {sid: next(iter(t)) for sid, t in times.items() if len(t) == 1 and None not in t}


def drug_concept(row: dict[str, str], coding_display: bool = False) -> Resource:
    """The drug of a medication row: its name as text (and, Synthea-like, as an RxNorm coding's
    display), an RxNorm or an ATC coding."""
    name, rx, atc = row["drug_name"].strip(), row["rxnorm"].strip(), row["atc"].strip()
    concept: Resource = {}
    codings = []
    if rx:
        codings.append({"system": RXNORM, "code": rx.removesuffix(".0")})
    if atc:
        codings.append({"system": ATC, "code": atc})
    if name and coding_display:
        codings.append({"system": RXNORM, "display": name})
    if codings:
        concept["coding"] = codings
    if name:
        concept["text"] = name
    return concept


def medication_status(status: str) -> tuple[str, bool]:
    """(MedicationRequest status, doNotPerform) of a canonical medication status."""
    code = status.strip().lower()
    if code == "not-done":
        return "active", True
    return {"canceled": "cancelled", "": "unknown"}.get(code, code), False


def condition_coding(row: dict[str, str], rules: Rules) -> Resource:
    system = rules.code_system(row["code_system"])
    uri = DIAGNOSIS_SYSTEMS[system] if system else OTHER_SYSTEM
    return {"system": uri, "code": row["code"].strip()}


def condition_status(status: str, both: bool = False) -> Resource:
    """clinicalStatus / verificationStatus of a canonical diagnosis status; `both`: an active
    Condition also says it is confirmed (Synthea)."""
    code = status.strip().lower()
    if not code:
        return {}
    if code in VERIFICATION_CODES:
        return {"verificationStatus": {"coding": [{"system": _VERIFICATION, "code": code}]}}
    out = {"clinicalStatus": {"coding": [{"system": _CLINICAL, "code": code}]}}
    if both:
        out["verificationStatus"] = {"coding": [{"system": _VERIFICATION, "code": "confirmed"}]}
    return out


def write_ndjson(path: Path, resources: list[Resource]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in resources).encode()
    path.write_bytes(gzip.compress(payload, mtime=0) if path.suffix == ".gz" else payload)


def write_json(path: Path, document: Resource) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2))


def write_fhir(canonical: Path, out: Path, shape: str, tz: str, seed: int = 0) -> dict[str, str]:
    """Write the FHIR export of a canonical extract folder in `shape`; return FHIR patient id
    -> canonical patient id (the same id, except Synthea's uuids)."""
    from spec_fuzz_fhir_shapes import SHAPES

    return SHAPES[shape](read_tables(canonical), out, tz, seed)
