"""The medication and condition shapes of the hand-written vendor export (fhir_vendor_shapes):
MedicationRequest, -Statement, -Administration and -Dispense; RxNorm at the ingredient and
product levels, text alone, a contained or exported Medication with ingredients; the times each
resource type is dated by; Conditions dated by onset, period or recordedDate, abated, coded
ICD-10-CM with and without the dot, SNOMED CT beside ICD-10-CM. Every patient has one sodium of
130 (mild) at 10:00 in Chicago, so it is listed (routine) exactly when a risk factor counts."""

from __future__ import annotations

from typing import Any

from tests.fhir_vendor_shapes import RXNORM, SNOMED, T0, Resource, VendorExport, order

ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
ACTIVE = {"coding": [{"system": _CLINICAL, "code": "active"}]}
ENCOUNTER = [{"coding": [{"system": _CATEGORY, "code": "encounter-diagnosis"}]}]
PROBLEM = [{"coding": [{"system": _CATEGORY, "code": "problem-list-item"}]}]


def rx(code: str, display: str | None = None) -> Resource:
    coding = {"system": RXNORM, "code": code}
    return {"coding": [{**coding, "display": display} if display else coding]}


def _mild(x: VendorExport, patient: str) -> None:
    x.patient(patient, ("sodium", T0, 130), thiazide=False)
    x.add("Observation.ndjson", x.obs(patient, "sodium", 130))


def _drug(x: VendorExport, patient: str, fact: tuple[Any, ...] | None, file: str, **record: Any):
    _mild(x, patient)
    if fact is not None:
        x.fact(patient, "meds", fact)
    kind = file.split(".")[0]
    x.add(file, {"resourceType": kind, "id": f"{kind}-{patient}", "status": "active",
                 "subject": {"reference": f"Patient/{patient}"}, **record})  # fmt: skip


def medication_shapes(x: VendorExport) -> None:
    statement, given = "MedicationStatement.ndjson", "MedicationAdministration.ndjson"
    dispensed, ordered = "MedicationDispense.ndjson", "MedicationRequest.ndjson"
    since = {"start": "2026-11-01T00:00:00Z"}
    # M01 a statement coded by the RxNorm ingredient code alone (5487 hydrochlorothiazide)
    _drug(
        x,
        "M01",
        ("thiazide_diuretic", since["start"], None, "active"),
        statement,
        effectivePeriod=since,
        medicationCodeableConcept=rx("5487"),
    )
    # M02 one dose given 11-19 20:00Z: active through its grace
    dose = "2026-11-19T20:00:00Z"
    _drug(
        x,
        "M02",
        ("loop_diuretic", dose, dose, "completed"),
        given,
        status="completed",
        effectiveDateTime=dose,
        medicationCodeableConcept=rx("4603", "furosemide"),
    )
    # M03 a dispense for 30 days from 11-10; M04 one prepared 11-12, no supply (30 days)
    handed = "2026-11-10T15:00:00Z"
    _drug(
        x,
        "M03",
        ("ssri", handed, "2026-12-10T15:00:00Z", "completed"),
        dispensed,
        status="completed",
        whenHandedOver=handed,
        daysSupply={"value": 30, "code": "d"},
        medicationCodeableConcept=rx("312940", "sertraline 50 MG Oral Tablet"),
    )
    _drug(
        x,
        "M04",
        ("potassium_sparing_diuretic", "2026-11-12T15:00:00Z", None, "completed"),
        dispensed,
        status="completed",
        whenPrepared="2026-11-12T15:00:00Z",
        medicationReference={"reference": "Medication/spiro"},
    )
    x.add(
        "Medication.ndjson",
        {
            "resourceType": "Medication",
            "id": "spiro",
            "code": rx("313096"),
            "ingredient": [{"itemCodeableConcept": rx("9997", "spironolactone")}],
        },
    )
    # M05 a brand (SBD) by its display; M06 text alone
    _mild(x, "M05")
    x.fact("M05", "meds", ("ssri", since["start"], None, "active"))
    x.add(ordered, order("M05", since["start"], rx("208161", "Zoloft 50 MG Oral Tablet")))
    _mild(x, "M06")
    x.fact("M06", "meds", ("ssri", since["start"], None, "active"))
    x.add(ordered, order("M06", since["start"], {"text": "citalopram 20mg tab"}))
    # M07 a contained Medication whose ingredients are hydrochlorothiazide and lisinopril
    _mild(x, "M07")
    x.fact("M07", "meds", ("thiazide_diuretic", since["start"], None, "active"))
    combo = {"resourceType": "Medication", "id": "med1", "code": {"text": "Zestoretic"},
             "ingredient": [{"itemCodeableConcept": rx("5487", "hydrochlorothiazide")},
                            {"itemCodeableConcept": rx("29046", "lisinopril")}]}  # fmt: skip
    record = order("M07", since["start"], {}, contained=[combo])
    record.pop("medicationCodeableConcept")
    x.add(ordered, {**record, "medicationReference": {"reference": "#med1"}})
    # M08 authoredOn alone, a date: 00:00 Chicago on 11-15
    _mild(x, "M08")
    x.fact("M08", "meds", ("other_antidepressant", "2026-11-15T06:00:00Z", None, "active"))
    x.add(ordered, order("M08", "2026-11-15", rx("39786", "venlafaxine")))
    # M09 a validity period that ended 10-31 (+7 days): not active at 11-20
    _mild(x, "M09")
    validity = {"validityPeriod": {"start": "2026-10-01", "end": "2026-10-31"}}
    x.add(ordered, order("M09", "2026-10-01", rx("4493", "fluoxetine"), status="completed",
                         dispenseRequest=validity))  # fmt: skip
    # M10 boundsPeriod 11-01 to 12-01; M11 boundsDuration alone, completed: start + 30 days
    _mild(x, "M10")
    x.fact(
        "M10", "meds", ("antiepileptic", "2026-11-01T06:00:00Z", "2026-12-01T06:00:00Z", "active")
    )
    bounds = {"boundsPeriod": {"start": "2026-11-01", "end": "2026-12-01"}}
    x.add(ordered, order("M10", "2026-10-30", rx("2002", "carbamazepine"),
                         dosageInstruction=[{"timing": {"repeat": bounds}}]))  # fmt: skip
    _mild(x, "M11")
    x.fact("M11", "meds", ("antipsychotic", "2026-11-01T06:00:00Z", None, "completed"))
    duration = {"boundsDuration": {"value": 30, "code": "d"}}
    x.add(ordered, order("M11", "2026-11-01", rx("51272", "quetiapine"), status="completed",
                         dosageInstruction=[{"timing": {"repeat": duration}}]))  # fmt: skip
    # M12 a completed statement of one moment 11-18: start + 30 days; M13 one that ended 11-05
    _drug(
        x,
        "M12",
        ("ssri", "2026-11-18T00:00:00Z", None, "completed"),
        statement,
        status="completed",
        effectiveDateTime="2026-11-18T00:00:00Z",
        medicationCodeableConcept=rx("4493", "fluoxetine"),
    )
    _drug(
        x,
        "M13",
        None,
        statement,
        status="completed",
        effectivePeriod={"start": "2026-10-01", "end": "2026-11-05"},
        medicationCodeableConcept=rx("15996", "mirtazapine"),
    )
    # M14 an infusion from 01:00 to 02:00 Chicago; M15 a dose written with 7 fractional digits
    _drug(
        x,
        "M14",
        ("loop_diuretic", "2026-11-20T07:00:00Z", "2026-11-20T08:00:00Z", "done"),
        given,
        status="completed",
        medicationCodeableConcept={"text": "Furosemide 10 mg/mL inj"},
        effectivePeriod={"start": "2026-11-20T01:00:00-06:00", "end": "2026-11-20T02:00:00-06:00"},
    )
    _drug(
        x,
        "M15",
        ("loop_diuretic", "2026-11-20T15:00:00Z", "2026-11-20T15:00:00Z", "done"),
        given,
        status="completed",
        medicationCodeableConcept={"text": "furosemide 40 mg IV"},
        effectiveDateTime="2026-11-20T09:00:00.1234567-06:00",
    )
    # M16 an order written 30 min after the index: not active at it
    _mild(x, "M16")
    x.fact("M16", "meds", ("loop_diuretic", "2026-11-20T16:30:00Z", None, "active"))
    x.add(ordered, order("M16", "2026-11-20T10:30:00-06:00", {"text": "furosemide 40 mg tab"}))
    # M17 an exported Medication coded by a product code alone, named by the reference
    _mild(x, "M17")
    x.fact("M17", "meds", ("loop_diuretic", since["start"], None, "active"))
    x.add("Medication.ndjson", {"resourceType": "Medication", "id": "furo", "code": rx("310429")})
    record = order("M17", since["start"], {})
    record.pop("medicationCodeableConcept")
    named = {"reference": "Medication/furo", "display": "furosemide 20 MG Oral Tablet"}
    x.add(ordered, {**record, "medicationReference": named})


def _condition(x: VendorExport, patient: str, fact: tuple[Any, ...] | None, **record: Any):
    _mild(x, patient)
    if fact is not None:
        x.fact(patient, "conds", fact)
    x.add("Condition.ndjson", {"resourceType": "Condition", "id": f"c-{patient}",
          "subject": {"reference": f"Patient/{patient}"}, **record})  # fmt: skip


def icd(code: str, system: str = ICD10) -> Resource:
    return {"coding": [{"system": system, "code": code}]}


def condition_shapes(x: VendorExport) -> None:
    heart_failure = icd("I50.9")
    # C01 onsetDateTime alone; C02 onsetPeriod.start, problem list; C03 recordedDate alone
    _condition(
        x,
        "C01",
        ("heart_failure", "2025-01-01T06:00:00Z", "active"),
        code=heart_failure,
        onsetDateTime="2025-01-01",
        clinicalStatus=ACTIVE,
    )
    _condition(
        x,
        "C02",
        ("cirrhosis", "2024-03-01T06:00:00Z", "active"),
        code=icd("K74.60"),
        onsetPeriod={"start": "2024-03-01"},
        clinicalStatus=ACTIVE,
        category=PROBLEM,
    )
    _condition(
        x,
        "C03",
        ("ckd", "2026-02-01T06:00:00Z", "active"),
        code=icd("N18.3"),
        recordedDate="2026-02-01",
    )
    # C04 abated without a clinicalStatus: resolved (FHIR con-4), ignored
    _condition(
        x,
        "C04",
        None,
        code=heart_failure,
        onsetDateTime="2025-01-01",
        abatementDateTime="2026-01-01",
    )
    # C05 an encounter diagnosis without the dot (E222, SIADH), recorded 08:00 Chicago
    _condition(
        x,
        "C05",
        ("siadh", "2026-11-20T14:00:00Z", "active"),
        code=icd("E222"),
        recordedDate="2026-11-20T08:00:00-06:00",
        category=ENCOUNTER,
        clinicalStatus=ACTIVE,
    )
    # C06 SNOMED CT cirrhosis with ICD-10-CM beside it; C07 SNOMED CT CHF, ICD-10-CM second
    for patient, snomed, code, kind in (("C06", "19943007", "K74.60", "cirrhosis"),
                                        ("C07", "42343007", "I50.9", "heart_failure")):  # fmt: skip
        both = {"coding": [{"system": SNOMED, "code": snomed}, icd(code)["coding"][0]]}
        _condition(
            x,
            patient,
            (kind, "2026-01-01T06:00:00Z", "active"),
            code=both,
            recordedDate="2026-01-01",
            category=PROBLEM,
        )
    # C08 recorded after the index (23:00 Chicago), whatever its onset: not yet recorded
    _condition(
        x,
        "C08",
        None,
        code=heart_failure,
        onsetDateTime="2020-01-01",
        recordedDate="2026-11-20T23:00:00-06:00",
    )
    # C09 a documented cramp 5 days before the index: soon
    _condition(
        x,
        "C09",
        ("cramp_documented", "2026-11-15T06:00:00Z", "active"),
        code=icd("R25.2"),
        recordedDate="2026-11-15",
    )
    # C10 WHO ICD-10 system, no dot; C11 a date alone on the index day; C12 the ICD-10-CM OID
    _condition(
        x,
        "C10",
        ("heart_failure", "2026-01-01T06:00:00Z", "active"),
        code=icd("I509", "http://hl7.org/fhir/sid/icd-10"),
        recordedDate="2026-01-01",
    )
    _condition(
        x,
        "C11",
        ("ckd", "2026-11-20T06:00:00Z", "active"),
        code=icd("N18.4"),
        onsetDateTime="2026-11-20",
    )
    _condition(
        x,
        "C12",
        ("heart_failure", "2026-01-01T00:00:00Z", "active"),
        code=icd("I50.9", "urn:oid:2.16.840.1.113883.6.90"),
        recordedDate="2026-01-01T00:00:00Z",
    )
    # C13 recorded with 7 fractional digits, 09:00 Chicago
    _condition(
        x,
        "C13",
        ("ckd", "2026-11-20T15:00:00Z", "active"),
        code=icd("N18.5"),
        recordedDate="2026-11-20T09:00:00.1234567-06:00",
    )
