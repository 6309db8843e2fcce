"""`--source fhir`, medications: codings, references, contained Medications, times, status and
route of each medication resource type, on hand-written resources."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from tests.helpers import RULES, WINDOW

from fhir_export import RXNORM, T, med_request, read, write_export
from hyposcreen.clean import clean_medications

# ------------------------------------------------------------------ medications


def test_medication_codings_references_and_contained_medications(tmp_path: Path) -> None:
    furosemide = {
        "resourceType": "Medication",
        "id": "m-furo",
        "code": {
            "coding": [
                {"system": RXNORM, "code": "197417", "display": "Furosemide 40 MG Oral Tablet"}
            ]
        },
    }
    contained = {"resourceType": "Medication", "id": "c1", "code": {"text": "Zoloft 50 mg"}}
    coded = {
        "coding": [
            {"system": RXNORM, "code": "313988"},
            {"system": RXNORM, "code": "5487", "display": "Hydrochlorothiazide"},
            {"system": "http://www.whocc.no/atc", "code": "c03aa03"},
        ],
        "text": "HCTZ 25 mg tablet",
    }
    write_export(
        tmp_path,
        {
            "Medication.ndjson": [furosemide],
            "MedicationRequest.ndjson": [
                med_request(medicationCodeableConcept=coded, authoredOn=T),
                med_request(medicationReference={"reference": "Medication/m-furo"}, authoredOn=T),
                med_request(
                    medicationReference={"reference": "#c1"}, contained=[contained], authoredOn=T
                ),
                med_request(
                    medicationReference={
                        "reference": "Medication/gone",
                        "display": "Seroquel 100 mg",
                    },
                    authoredOn=T,
                ),
                med_request(
                    medicationCodeableConcept={"coding": [{"code": "N06AB10"}]}, authoredOn=T
                ),
                med_request(medicationCodeableConcept={"coding": [{"code": "4603"}]}, authoredOn=T),
            ],
        },
    )
    table = read(tmp_path, "medications")
    meds = table.frame
    assert list(meds["drug_name"].fillna("")) == [
        "HCTZ 25 mg tablet | Hydrochlorothiazide",
        "Furosemide 40 MG Oral Tablet",
        "Zoloft 50 mg",
        "Seroquel 100 mg",
        "",
        "",
    ]
    assert meds["rxnorm"].tolist()[:2] == ["5487", "197417"]
    assert (meds["atc"].iloc[4], meds["rxnorm"].iloc[5]) == ("N06AB10", "4603")  # no system
    assert meds["atc"].iloc[0] == "C03AA03"
    assert table.source_counts["MedicationRequest"]["note_unresolved_medication_reference"] == 1
    assert table.source_counts["Medication"] == {"files": 1, "indexed": 1}
    _, matches = clean_medications(meds, RULES, WINDOW)
    assert sorted(matches["drug_class"]) == [
        "antipsychotic",
        "loop_diuretic",
        "loop_diuretic",
        "ssri",
        "ssri",
        "thiazide_diuretic",
    ]


def test_medication_times_status_and_route_of_each_resource_type(tmp_path: Path) -> None:
    code = {"medicationCodeableConcept": {"text": "furosemide"}}
    dosage = {
        "route": {"coding": [{"display": "Oral"}]},
        "timing": {"repeat": {"boundsPeriod": {"start": "2026-11-01", "end": "2026-11-10"}}},
    }
    write_export(
        tmp_path,
        {
            "MedicationRequest.ndjson": [
                med_request(**code, authoredOn="2026-10-01", dosageInstruction=[{}, dosage]),
                med_request(
                    **code,
                    authoredOn="2026-10-01",
                    dispenseRequest={
                        "validityPeriod": {"start": "2026-10-05", "end": "2026-12-05"}
                    },
                ),
                med_request(**code, authoredOn="2026-10-01T09:00:00Z", status="stopped"),
            ],
            "MedicationStatement.ndjson": [
                {
                    "resourceType": "MedicationStatement",
                    "status": "not-taken",
                    **code,
                    "subject": {"reference": "Patient/P1"},
                    "effectiveDateTime": "2026-11-02",
                },
                {
                    "resourceType": "MedicationStatement",
                    "status": "active",
                    **code,
                    "subject": {"reference": "Patient/P1"},
                    "dateAsserted": "2026-11-03",
                },
            ],
            "MedicationAdministration.ndjson": [
                {
                    "resourceType": "MedicationAdministration",
                    "status": "completed",
                    **code,
                    "subject": {"reference": "Patient/P1"},
                    "effectiveDateTime": "2026-11-04T10:00:00Z",
                    "dosage": {"route": {"text": "IV"}},
                },
            ],
        },
    )
    meds = read(tmp_path, "medications").frame
    assert list(meds["start_time"]) == [
        pd.Timestamp(t)
        for t in (
            "2026-11-01",
            "2026-10-05",
            "2026-10-01 09:00",
            "2026-11-02",
            "2026-11-03",
            "2026-11-04 10:00",
        )
    ]
    assert list(meds["end_time"].astype(object).where(meds["end_time"].notna(), None)) == [
        pd.Timestamp("2026-11-10"),
        pd.Timestamp("2026-12-05"),
        None,
        None,
        None,
        pd.Timestamp("2026-11-04 10:00"),
    ]
    assert list(meds["status"]) == [
        "active",
        "active",
        "stopped",
        "not-done",
        "active",
        "completed",
    ]
    assert list(meds["route"].fillna("")) == ["", "", "", "", "", "IV"]
    cleaned, _ = clean_medications(meds, RULES, WINDOW)
    assert cleaned["reason"].iloc[3] == "status"


def test_an_order_of_several_dosage_steps_spans_all_their_bounds(tmp_path: Path) -> None:
    """An order written as dose steps (one dosageInstruction per step, as Epic writes a taper
    or a dose change) runs from its earliest step's start to its latest step's end; a step
    without an end leaves the order open. Reading the first step alone ended the second order
    on 2026-02-01, so a thiazide still taken on 2026-11-20 was not found."""
    hctz = {"medicationCodeableConcept": {"text": "Hydrochlorothiazide 25 MG Oral Tablet"}}

    def step(start: str, end: str | None = None) -> dict[str, object]:
        bounds = {"start": start, **({"end": end} if end else {})}
        return {"timing": {"repeat": {"boundsPeriod": bounds}}}

    write_export(
        tmp_path,
        {
            "MedicationRequest.ndjson": [
                # steps 2026-01-01..2026-02-01 then 2026-11-01.. (open): 2026-01-01, no end
                med_request(
                    **hctz,
                    dosageInstruction=[step("2026-01-01", "2026-02-01"), step("2026-11-01")],
                ),
                # steps written latest first, with offsets: the later end 2026-11-30T00:00Z
                # (01:00 in Berlin, read as UTC here) and the earlier start 2026-10-01
                med_request(
                    **hctz,
                    dosageInstruction=[
                        step("2026-11-10T00:00:00+01:00", "2026-11-30T00:00:00Z"),
                        step("2026-10-01T00:00:00Z", "2026-11-10T00:00:00+01:00"),
                    ],
                ),
            ],
        },
    )
    meds = read(tmp_path, "medications").frame
    assert list(meds["start_time"]) == [pd.Timestamp("2026-01-01"), pd.Timestamp("2026-10-01")]
    assert meds["end_time"].isna().iloc[0]
    assert meds["end_time"].iloc[1] == pd.Timestamp("2026-11-30")


def test_an_open_dosage_is_not_ended_by_the_prescriptions_validity(tmp_path: Path) -> None:
    """The dosage's boundsPeriod times the drug; `dispenseRequest.validityPeriod` (how long the
    prescription may be dispensed, written by Epic on every outpatient order) times it only
    when the order has no boundsPeriod. An open dosage stays open: its end was taken from the
    validity period, so a stopped valproate order of 2026-02-26 (spec §6: active until start +
    30 days) with a 90-day validity read as active until 2026-05-27 + 7 days, and an active
    order with a validity ending before the index as not active."""
    valproate = {"medicationCodeableConcept": {"text": "Valproic acid 250mg"}}
    open_dosage = [{"timing": {"repeat": {"boundsPeriod": {"start": "2026-02-26"}}}}]
    write_export(
        tmp_path,
        {
            "MedicationRequest.ndjson": [
                med_request(
                    **valproate,
                    status="stopped",
                    dosageInstruction=open_dosage,
                    dispenseRequest={
                        "validityPeriod": {"start": "2026-02-26", "end": "2026-05-27"}
                    },
                ),
                med_request(
                    **valproate,
                    dosageInstruction=open_dosage,
                    dispenseRequest={
                        "validityPeriod": {"start": "2026-02-26", "end": "2026-03-26"}
                    },
                ),
                # no boundsPeriod: the validity period times the order (start and end)
                med_request(
                    **valproate,
                    authoredOn="2026-02-20",
                    dispenseRequest={
                        "validityPeriod": {"start": "2026-02-26", "end": "2026-05-27"}
                    },
                ),
            ],
        },
    )
    meds = read(tmp_path, "medications").frame
    assert list(meds["start_time"]) == [pd.Timestamp("2026-02-26")] * 3
    assert meds["end_time"].isna().tolist() == [True, True, False]
    assert meds["end_time"].iloc[2] == pd.Timestamp("2026-05-27")


def test_a_drug_named_only_beside_a_medications_codes_is_read(tmp_path: Path) -> None:
    """A Medication coded by an RxNorm product code alone (no display, no text) is named by the
    reference's display, and an ingredient that is a Substance reference by its display. Before,
    both were read as no drug name: no risk factor, with no warning below 10 such records."""
    product_only = {"coding": [{"system": RXNORM, "code": "313096"}]}  # an SCD, not listed
    exported = {"resourceType": "Medication", "id": "m-furo", "code": product_only}
    substance = {
        "resourceType": "Medication",
        "id": "c1",
        "code": product_only,
        "ingredient": [
            {"itemReference": {"reference": "Substance/9", "display": "Spironolactone"}}
        ],
    }
    named = {"reference": "Medication/m-furo", "display": "furosemide 40 MG Oral Tablet"}
    write_export(
        tmp_path,
        {
            "Medication.ndjson": [exported],
            "MedicationRequest.ndjson": [
                med_request(id="r1", medicationReference=named, authoredOn=T),
                med_request(
                    id="r2",
                    medicationReference={"reference": "#c1"},
                    contained=[substance],
                    authoredOn=T,
                ),
            ],
        },
    )
    meds = read(tmp_path, "medications").frame
    assert meds["drug_name"].tolist() == ["furosemide 40 MG Oral Tablet", "Spironolactone"]
    _, matches = clean_medications(meds, RULES, WINDOW)
    # furosemide: loop diuretic; spironolactone: potassium-sparing (spec §6 ingredient lists)
    assert sorted(matches["drug_class"]) == ["loop_diuretic", "potassium_sparing_diuretic"]
