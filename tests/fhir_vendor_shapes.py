"""A FHIR R4 export written by hand in the shapes EHR vendors' exports take (Epic- and
Cerner-like searchset and collection Bundles, one resource per .json file, .ndjson.gz, a file
named by a download id, panels as components, as hasMember references and as contained
members, specimens by accession number, subjects by URL, `_history` and identifier, times in
other zones, to the minute, with 7 fractional digits or as a date), with the facts each shape
means for spec_screen_oracle. Lab shapes here; medication and condition shapes in
fhir_vendor_records. Site zone America/Chicago (UTC-6 in November): the night of 2026-11-20 is
06:00Z on the 20th to 06:00Z on the 21st."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

Resource = dict[str, Any]
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SNOMED = "http://snomed.info/sct"
T0 = "2026-11-20T16:00:00Z"  # 10:00 in Chicago
WINDOW = ("2026-11-20T06:00:00Z", "2026-11-21T06:00:00Z")
_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
LAB = [{"coding": [{"system": _CATEGORY, "code": "laboratory"}]}]
VITAL = [{"coding": [{"system": _CATEGORY, "code": "vital-signs"}]}]
UNITS = {"sodium": "mmol/L", "glucose": "mg/dL", "potassium": "mmol/L"}
CODES = {"sodium": "2951-2", "glucose": "2345-7", "potassium": "2823-3"}
HCTZ = ("thiazide_diuretic", "2026-10-01T09:00:00Z", None, "active")


class VendorExport:
    """NDJSON lines by file name, whole documents by path, and the facts they mean."""

    def __init__(self) -> None:
        self.lines: dict[str, list[Resource]] = {}
        self.documents: dict[str, bytes] = {}
        self.facts: dict[str, dict[str, list[tuple[Any, ...]]]] = {}
        self.count = 0

    def add(self, name: str, *resources: Resource) -> None:
        self.lines.setdefault(name, []).extend(resources)

    def document(self, name: str, content: object, prefix: bytes = b"") -> None:
        self.documents[name] = prefix + json.dumps(content, indent=1).encode()

    def fact(self, patient: str, kind: str, *items: tuple[Any, ...]) -> None:
        self.facts.setdefault(patient, {"labs": [], "meds": [], "conds": []})[kind] += items

    def obs(self, patient: str, analyte: str, value: float, when: str | None = T0, **extra: Any):
        self.count += 1
        found: Resource = {
            "resourceType": "Observation",
            "id": f"o{self.count}",
            "status": "final",
            "category": LAB,
            "code": {"coding": [{"system": LOINC, "code": CODES[analyte]}], "text": analyte},
            "subject": {"reference": f"Patient/{patient}"},
            "effectiveDateTime": when,
            "valueQuantity": {"value": value, "unit": UNITS[analyte]},
        }
        found.update(extra)
        return {key: item for key, item in found.items() if item is not None}

    def patient(self, patient: str, *facts: tuple[Any, ...], thiazide: bool = True, **extra: Any):
        """A Patient (with an HCTZ order since 10-01 unless told) and its lab facts."""
        self.add("Patient.ndjson", {"resourceType": "Patient", "id": patient, **extra})
        self.fact(patient, "labs", *facts)
        if thiazide:
            drug = {"text": "hydrochlorothiazide 25 MG Oral Tablet"}
            hctz = order(patient, HCTZ[1], drug, id=f"hctz-{patient}")
            self.add("MedicationRequest.ndjson", hctz)
            self.fact(patient, "meds", HCTZ)

    def write(self, folder: Path) -> Path:
        for name, resources in self.lines.items():
            payload = "".join(json.dumps(r) + "\n" for r in resources).encode()
            path = folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(gzip.compress(payload) if name.endswith(".gz") else payload)
        for name, content in self.documents.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(content)
        return folder


def order(patient: str, authored: str, drug: Resource, **extra: Any) -> Resource:
    return {
        "resourceType": "MedicationRequest",
        "id": f"r-{patient}",
        "status": "active",
        "intent": "order",
        "subject": {"reference": f"Patient/{patient}"},
        "authoredOn": authored,
        "medicationCodeableConcept": drug,
        **extra,
    }


def _sodium(when: str, value: float) -> tuple[str, str, float]:
    return ("sodium", when, value)


def lab_shapes(x: VendorExport) -> None:
    obs, ndjson = x.obs, "Observation.ndjson"
    # L01 a searchset page: paging links, an included Patient, an informational outcome
    x.patient("L01", _sodium(T0, 128))
    info = {"resourceType": "OperationOutcome",
            "issue": [{"severity": "information", "code": "informational"}]}  # fmt: skip
    x.document("search_page_1.json", {
        "resourceType": "Bundle", "type": "searchset", "total": 1,
        "link": [{"relation": "self", "url": "https://ehr/fhir/Observation?patient=L01"},
                 {"relation": "next", "url": "https://ehr/fhir/Observation?patient=L01&page=2"}],
        "entry": [{"resource": obs("L01", "sodium", 128, when="2026-11-20T11:00:00-05:00"),
                   "search": {"mode": "match"}},
                  {"resource": {"resourceType": "Patient", "id": "L01"},
                   "search": {"mode": "include"}},
                  {"resource": info, "search": {"mode": "outcome"}}]})  # fmt: skip
    # L02 a collection Bundle: sodium 127, glucose 300 -> 127 + 1.6 * 2 = 130.2
    x.patient("L02", _sodium(T0, 127), ("glucose", T0, 300))
    x.document("collection_L02.json", {"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": obs("L02", "sodium", 127)},
        {"resource": obs("L02", "glucose", 300)}]})  # fmt: skip
    # L03 one resource per .json file, in a folder named for its type
    x.patient("L03", _sodium(T0, 126))
    x.document("Observation/obs-L03.json", obs("L03", "sodium", 126))
    # L04 .ndjson.gz; 124 is moderate
    x.patient("L04", _sodium(T0, 124))
    x.add("Observation.001.ndjson.gz", obs("L04", "sodium", 124))
    # L05 effectiveInstant with 7 fractional digits; L06 issued only
    x.patient("L05", _sodium("2026-11-20T14:30:00.123456Z", 131))
    x.add(
        ndjson,
        obs("L05", "sodium", 131, when=None, effectiveInstant="2026-11-20T14:30:00.1234567Z"),
    )
    x.patient("L06", _sodium(T0, 132))
    x.add(ndjson, obs("L06", "sodium", 132, when=None, issued="2026-11-20T10:00:00-06:00"))
    # L07 glucose ">= 500" (censored 500): 129 + 1.6 * 4 = 135.4, hyperglycemia-related only
    x.patient("L07", _sodium(T0, 129), ("glucose", T0, 500))
    x.add(ndjson, obs("L07", "sodium", 129), obs("L07", "glucose", 500,
          valueQuantity={"value": 500, "comparator": ">=", "unit": "mg/dL"}))  # fmt: skip
    # L08 valueString "<120", its unit from the reference range: censored 120, moderate;
    # L09 dataAbsentReason (quarantined non_numeric), then 133
    x.patient("L08", _sodium(T0, 120))
    normal = [{"low": {"value": 135, "unit": "mmol/L"}, "high": {"value": 145, "unit": "mmol/L"}}]
    x.add(
        ndjson,
        obs("L08", "sodium", 0, valueQuantity=None, valueString="<120", referenceRange=normal),
    )
    x.patient("L09", _sodium("2026-11-20T17:00:00Z", 133))
    absent = {"coding": [{"code": "error"}]}
    x.add(ndjson, obs("L09", "sodium", 0, valueQuantity=None, dataAbsentReason=absent),
          obs("L09", "sodium", 133, when="2026-11-20T17:00:00Z",
              interpretation=[{"coding": [{"code": "L"}]}]))  # fmt: skip
    # L10 the unit only as its UCUM code
    x.patient("L10", _sodium(T0, 130))
    x.add(ndjson, obs("L10", "sodium", 130, valueQuantity={"value": 130, "code": "mmol/L"}))
    # L11 a metabolic panel as components: Na 125, K 3.2 (hypokalemia), glucose 90
    x.patient("L11", _sodium(T0, 125), ("potassium", T0, 3.2), ("glucose", T0, 90))
    parts = [{"code": {"coding": [{"system": LOINC, "code": CODES[a]}]},
              "valueQuantity": {"value": v, "unit": UNITS[a]}}
             for a, v in (("sodium", 125), ("potassium", 3.2), ("glucose", 90))]  # fmt: skip
    bmp = {"coding": [{"system": LOINC, "code": "51990-0"}]}
    x.add(ndjson, obs("L11", "sodium", 0, valueQuantity=None, code=bmp, component=parts))
    # L12 a panel with hasMember references: 127 + 1.6 * 1.5 = 129.4
    x.patient("L12", _sodium(T0, 127), ("glucose", T0, 250))
    na, glucose = obs("L12", "sodium", 127), obs("L12", "glucose", 250)
    members = [
        {"reference": f"Observation/{na['id']}"},
        {"reference": f"Observation/{glucose['id']}"},
    ]
    x.add(
        ndjson,
        obs("L12", "sodium", 0, valueQuantity=None, code=bmp, hasMember=members),
        na,
        glucose,
    )
    # L13 LOINC by its OID; L14 a local code before the LOINC, category vital-signs
    x.patient("L13", _sodium(T0, 122))
    oid = {"coding": [{"system": "urn:oid:2.16.840.1.113883.6.1", "code": "2951-2"}]}
    x.add(ndjson, obs("L13", "sodium", 122, code=oid))
    x.patient("L14", _sodium(T0, 131))
    local = {"system": "urn:oid:1.2.840.114350.1.13.0.1.7.5.737384.2001", "code": "1526"}
    both = {"coding": [{**local, "display": "SODIUM"}, {"system": LOINC, "code": "2951-2"}]}
    x.add(ndjson, obs("L14", "sodium", 131, category=VITAL, code=both))
    # L15 a local code alone, named as the lab dictionary names it
    x.patient("L15", _sodium(T0, 129))
    x.add(
        ndjson, obs("L15", "sodium", 129, code={"coding": [{**local, "display": "Sodium, serum"}]})
    )
    # L16 both results name their tube by accession: glucose 90 min later pairs (129.6)
    x.patient("L16", _sodium(T0, 128), ("glucose", T0, 200))
    tube = {"identifier": {"system": "urn:lab:accession", "value": "ACC16"}}
    x.add(ndjson, obs("L16", "sodium", 128, specimen=tube),
          obs("L16", "glucose", 200, when="2026-11-20T17:30:00Z", specimen=tube))  # fmt: skip
    # L17-L19 subject as an absolute URL, with _history, by identifier only
    x.patient("L17", _sodium(T0, 127))
    x.add(
        ndjson, obs("L17", "sodium", 127, subject={"reference": "https://ehr/fhir/R4/Patient/L17"})
    )
    x.patient("L18", _sodium(T0, 127))
    x.add(ndjson, obs("L18", "sodium", 127, subject={"reference": "Patient/L18/_history/2"}))
    mrn = {"system": "urn:oid:1.2.840.114350.1.13.0.1.7.5.737384.14", "value": "MRN19"}
    x.patient("L19", _sodium(T0, 126), identifier=[mrn])
    x.add(ndjson, obs("L19", "sodium", 126, subject={"identifier": mrn}))
    # L20 a date alone: 00:00 in Chicago; L21 minutes without seconds
    x.patient("L20", _sodium("2026-11-20T06:00:00Z", 129))
    x.add(ndjson, obs("L20", "sodium", 129, when="2026-11-20"))
    x.patient("L21", _sodium("2026-11-20T15:30:00Z", 128))
    x.add(ndjson, obs("L21", "sodium", 128, when="2026-11-20T09:30-06:00"))
    # L22 +01:00 at 23:30 Chicago on the 20th: in; L23 the same a day earlier: context only
    x.patient("L22", _sodium("2026-11-21T05:30:00Z", 127))
    x.add(ndjson, obs("L22", "sodium", 127, when="2026-11-21T06:30:00+01:00"))
    x.patient("L23", _sodium("2026-11-20T05:30:00Z", 127))
    x.add(ndjson, obs("L23", "sodium", 127, when="2026-11-20T06:30:00+01:00"))
    # L24 Z at 23:59 Chicago; L25 7 fractional digits with an offset; L26 +05:30, the 19th
    x.patient("L24", _sodium("2026-11-21T05:59:00Z", 126))
    x.add(ndjson, obs("L24", "sodium", 126, when="2026-11-21T05:59:00Z"))
    x.patient("L25", _sodium(T0, 126))
    x.add(ndjson, obs("L25", "sodium", 126, when="2026-11-20T10:00:00.1234567-06:00"))
    x.patient("L26", _sodium("2026-11-20T04:30:00Z", 127))
    x.add(ndjson, obs("L26", "sodium", 127, when="2026-11-20T10:00:00+05:30"))
    # L27 glucose 59 min later written +01:00 pairs (130.2); L28 61 min later does not
    x.patient("L27", _sodium(T0, 127), ("glucose", "2026-11-20T16:59:00Z", 300))
    x.add(
        ndjson,
        obs("L27", "sodium", 127),
        obs("L27", "glucose", 300, when="2026-11-20T17:59:00+01:00"),
    )
    x.patient("L28", _sodium(T0, 127), ("glucose", "2026-11-20T17:01:00Z", 300))
    x.add(
        ndjson, obs("L28", "sodium", 127), obs("L28", "glucose", 300, when="2026-11-20T17:01:00Z")
    )
    _more_lab_shapes(x)


def _more_lab_shapes(x: VendorExport) -> None:
    obs, ndjson = x.obs, "Observation.ndjson"
    # X01 a urine Specimen named by accession, the sodium by name: urine sodium, no case
    x.add("Specimen.ndjson", {"resourceType": "Specimen", "id": "spx1",
          "accessionIdentifier": {"value": "ACCX1"}, "type": {"text": "Urine"}})  # fmt: skip
    x.patient("X01")
    named = {"coding": [{"system": "urn:local", "code": "NAU", "display": "Sodium"}]}
    x.add(
        ndjson, obs("X01", "sodium", 128, code=named, specimen={"identifier": {"value": "ACCX1"}})
    )
    # X02 a JSON array of resources, K 3.1 (hypokalemia); X03 potassium "<= 3.0"
    x.patient("X02", _sodium(T0, 126), ("potassium", T0, 3.1))
    x.document("obs_array.json", [obs("X02", "sodium", 126), obs("X02", "potassium", 3.1)])
    x.patient("X03", _sodium(T0, 130), ("potassium", T0, 3.0))
    x.add(ndjson, obs("X03", "sodium", 130),
          obs("X03", "potassium", 3.0,
              valueQuantity={"value": 3.0, "comparator": "<=", "unit": "mmol/L"}))  # fmt: skip
    # X04 CRLF line ends; X05 a searchset document after a byte order mark; X06 an NDJSON one
    x.patient("X04", _sodium(T0, 127))
    x.documents["Observation_crlf.ndjson"] = (
        json.dumps(obs("X04", "sodium", 127)) + "\r\n"
    ).encode()
    x.patient("X05", _sodium(T0, 126))
    page = {"resourceType": "Bundle", "type": "searchset",
            "entry": [{"resource": obs("X05", "sodium", 126),
                       "search": {"mode": "match"}}]}  # fmt: skip
    x.document("search_bom.json", page, prefix=b"\xef\xbb\xbf")
    x.patient("X06", _sodium(T0, 125))
    x.documents["Observation_bom.ndjson"] = (
        b"\xef\xbb\xbf" + json.dumps(obs("X06", "sodium", 125)).encode()
    )
    # X07 a panel holding its members as contained Observations: 124 + 3.2 = 127.2
    x.patient("X07", _sodium(T0, 124), ("glucose", T0, 300))
    inner = [{**obs("X07", a, v), "id": a} for a, v in (("sodium", 124), ("glucose", 300))]
    for member in inner:
        member.pop("subject")
    bmp = {"coding": [{"system": LOINC, "code": "51990-0"}]}
    x.add(ndjson, obs("X07", "sodium", 0, valueQuantity=None, code=bmp, contained=inner,
                      hasMember=[{"reference": "#sodium"}, {"reference": "#glucose"}]))  # fmt: skip
    # X08-X13 a dump named by a download id: six Patients, then their Observations
    dump = []
    for number in range(8, 14):
        patient = f"X{number:02d}"
        x.patient(patient, _sodium(T0, 126))
        dump.append({"resourceType": "Patient", "id": patient})
        x.lines["Patient.ndjson"].pop()
    dump += [obs(f"X{n:02d}", "sodium", 126) for n in range(8, 14)]
    x.add("7c0e1f2a-0b1c-4d2e-9f3a-abcdef012345.ndjson", *dump)
    # X14 a collection Bundle whose urn:uuid fullUrls are not the ids
    x.patient("X14", _sodium(T0, 126), thiazide=False)
    x.lines["Patient.ndjson"].pop()  # the Bundle holds it
    x.fact("X14", "meds", HCTZ)
    url = "urn:uuid:9a1f0c2e-1111-4d2e-9f3a-000000000001"
    hctz = order("X14", HCTZ[1], {"text": "HCTZ 25 mg"})
    x.document("bundle_x14.json", {"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": url, "resource": {"resourceType": "Patient", "id": "X14"}},
        {"fullUrl": url[:-1] + "2",
         "resource": obs("X14", "sodium", 126, subject={"reference": url})},
        {"fullUrl": url[:-1] + "3", "resource": hctz}]})  # fmt: skip
