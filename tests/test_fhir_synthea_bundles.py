"""Synthea's FHIR R4 output as it lands on disk: one pretty-printed transaction Bundle per
patient (`<Given>_<Family>_<uuid>.json`), beside `hospitalInformation*.json` and a run
`metadata/*.json`. Hand-computed expectations of SCREENING_SPEC.md for each patient."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fhir_generators import (
    SNOMED,
    condition,
    listed,
    manifest,
    med_request,
    observation,
    quantity,
    quarantined,
    run,
    rxnorm,
    transaction,
    write_json,
    write_ndjson,
)

A = "0a7d1b2c-5d3e-4f60-8a9b-000000000001"
B = "0a7d1b2c-5d3e-4f60-8a9b-000000000002"


def patient_a() -> dict:
    """Sodium 128.4 at 08:30 UTC (written -05:00), glucose 90.1 (no correction), potassium 3.2;
    cirrhosis (SNOMED 19943007, 2020); hydrochlorothiazide since 2026-10-01, active. A claim and
    an EOB name furosemide: billing, never a medication. A sodium entered in error."""
    me = f"urn:uuid:{A}"
    at = "2026-11-20T03:30:00-05:00"
    furosemide = rxnorm("313988", "Furosemide 40 MG Oral Tablet")
    return transaction(
        {
            "resourceType": "Patient",
            "id": A,
            "gender": "female",
            "birthDate": "1950-02-03",
            "name": [{"use": "official", "family": "Kub", "given": ["Ana"]}],
        },
        {
            "resourceType": "Encounter",
            "id": "enc-a",
            "status": "finished",
            "subject": {"reference": me},
            "period": {"start": at, "end": at},
        },
        condition(
            "cond-a",
            me,
            [{"system": SNOMED, "code": "19943007", "display": "Cirrhosis"}],
            onsetDateTime="2020-01-05T03:00:00-05:00",
            recordedDate="2020-01-05T03:00:00-05:00",
        ),
        med_request(
            "mr-a",
            me,
            rxnorm("310798", "Hydrochlorothiazide 25 MG Oral Tablet"),
            "2026-10-01T03:00:00-05:00",
            requester={"reference": "Practitioner?identifier=http://x|9"},
        ),
        observation(
            "na-a",
            me,
            "2947-0",
            "Sodium [Moles/volume] in Blood",
            at,
            valueQuantity=quantity(128.4, "mmol/L"),
        ),
        observation(
            "glu-a",
            me,
            "2339-0",
            "Glucose [Mass/volume] in Blood",
            at,
            valueQuantity=quantity(90.1, "mg/dL", with_unit=False),
        ),
        observation(
            "k-a",
            me,
            "6298-4",
            "Potassium [Moles/volume] in Blood",
            at,
            valueQuantity=quantity(3.2, "mmol/L"),
        ),
        observation(
            "na-a-err",
            me,
            "2947-0",
            "Sodium",
            "2026-11-20T01:00:00-05:00",
            status="entered-in-error",
            valueQuantity=quantity(112.0, "mmol/L"),
        ),
        {
            "resourceType": "Observation",
            "id": "bp-a",
            "status": "final",
            "subject": {"reference": me},
            "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]},
            "effectiveDateTime": at,
            "component": [
                {
                    "code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]},
                    "valueQuantity": quantity(150, "mm[Hg]"),
                }
            ],
        },
        {
            "resourceType": "DiagnosticReport",
            "id": "dr-a",
            "status": "final",
            "subject": {"reference": me},
            "effectiveDateTime": at,
            "code": {"coding": [{"system": "http://loinc.org", "code": "51990-0"}]},
            "result": [{"reference": "urn:uuid:na-a", "display": "Sodium"}],
        },
        {
            "resourceType": "Claim",
            "id": "claim-a",
            "status": "active",
            "patient": {"reference": me},
            "item": [{"sequence": 1, "productOrService": furosemide}],
        },
        {
            "resourceType": "ExplanationOfBenefit",
            "id": "eob-a",
            "status": "active",
            "patient": {"reference": me},
            "item": [{"sequence": 1, "productOrService": furosemide}],
        },
    )


def patient_b() -> dict:
    """References as `Patient/<id>` (Synthea's bulk-data setting). Sodium 124.0 at 10:00 UTC,
    glucose 250 at 10:40: corrected 124 + 1.6 x 1.5 = 126.4, mild. Furosemide `stopped`,
    authored 2026-11-01 without an end: active 30 days, so at the index; sertraline stopped,
    authored 2026-09-01: over by 2026-10-01. CKD as SNOMED 433144002 is not a listed code:
    not read as CKD, and the night says so (snomed_only_diagnoses, exit 4)."""
    me = f"Patient/{B}"
    return transaction(
        {"resourceType": "Patient", "id": B, "gender": "male", "birthDate": "1941-07-01"},
        observation(
            "na-b",
            me,
            "2947-0",
            "Sodium",
            "2026-11-20T10:00:00Z",
            valueQuantity=quantity(124.0, "mmol/L"),
        ),
        observation(
            "glu-b",
            me,
            "2339-0",
            "Glucose",
            "2026-11-20T10:40:00Z",
            valueQuantity=quantity(250, "mg/dL"),
        ),
        med_request(
            "mr-b1",
            me,
            rxnorm("313988", "Furosemide 40 MG Oral Tablet"),
            "2026-11-01T09:00:00Z",
            status="stopped",
        ),
        med_request(
            "mr-b2",
            me,
            rxnorm("312940", "Sertraline 50 MG Oral Tablet"),
            "2026-09-01T09:00:00Z",
            status="stopped",
        ),
        condition(
            "cond-b",
            me,
            [{"system": SNOMED, "code": "433144002"}],
            recordedDate="2019-03-01T00:00:00Z",
        ),
    )


def synthea_output(folder: Path) -> Path:
    write_json(folder / "fhir" / f"Ana_Kub_{A}.json", patient_a())
    write_json(folder / "fhir" / f"Bo_Li_{B}.json.gz", patient_b())
    hospital = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [
            {
                "fullUrl": "urn:uuid:org-1",
                "request": {"method": "POST", "url": "Organization"},
                "resource": {"resourceType": "Organization", "id": "org-1", "name": "General"},
            }
        ],
    }
    write_json(folder / "fhir" / "hospitalInformation1732000000000.json", hospital)
    write_json(folder / "metadata" / "2026_11_21T00_00_00Z.json", {"runID": "x", "seed": 1})
    return folder


def test_synthea_patient_bundles_are_screened_as_the_spec_says(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    status, err = run(capsys, synthea_output(tmp_path / "output"), tmp_path / "out")
    assert status == 4, err  # Bo's CKD is coded in SNOMED CT alone by a code not listed
    warned = [w["code"] for w in manifest(tmp_path / "out")["warnings"]]
    assert warned == ["snomed_only_diagnoses"]
    assert listed(tmp_path / "out") == {
        A: ("2", "128.4", "cirrhosis;hypokalemia;thiazide_diuretic"),  # mild, 3 categories
        B: ("3", "126.4", "loop_diuretic"),  # mild, 1 category
    }
    # the sodium entered in error is quarantined at its place in Ana's Bundle (entry[7])
    assert quarantined(tmp_path / "out") == [
        ("labs", f"fhir/Ana_Kub_{A}.json", "entry[7]", "status")
    ]
    found = manifest(tmp_path / "out")
    assert found["reconciled"] is True
    assert found["reconciliation"]["labs"]["rows_in"] == 8  # 7 Observations + hospital's line
    assert "metadata/2026_11_21T00_00_00Z.json" in caplog.text  # not FHIR: ignored, said
    assert "Kub" not in err + caplog.text


def test_a_broken_document_is_quarantined_and_json_named_ndjson_or_arrays_are_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """A download cut short is one quarantined row naming the file (never a silent loss, never
    exit 70); NDJSON saved as `.json` and a JSON array of resources are read."""
    folder = tmp_path / "in"
    text = json.dumps(patient_a(), indent=2)
    (folder / "cut").mkdir(parents=True)
    (folder / "cut" / f"Ana_Kub_{A}.json").write_text(text[: len(text) // 2])
    resources = [e["resource"] for e in patient_b()["entry"]]
    write_ndjson(folder / "Observation.json", resources[1:3])
    write_json(folder / "everything.json", resources[3:])
    status, err = run(capsys, folder, tmp_path / "out")
    assert status in (0, 4), err
    assert "Traceback" not in err
    # the file's name (a patient's, in Synthea's layout) is in quarantine.csv, not in the log
    assert "Kub" not in err + caplog.text and "broken_document" in err + caplog.text
    assert listed(tmp_path / "out") == {B: ("3", "126.4", "loop_diuretic")}
    assert (
        "labs",
        f"cut/Ana_Kub_{A}.json",
        "1",
        "broken_document",
    ) in quarantined(tmp_path / "out")
    assert manifest(tmp_path / "out")["reconciled"] is True


def test_documents_without_medications_or_conditions_say_those_tables_are_empty(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same Patient and Observations as Synthea Bundles or as NDJSON, no medication and no
    Condition resource in either: both nights warn that those tables are empty (exit 4). The
    Bundles' other entries (a Patient, Observations, a Claim) are read for every table and
    counted there as other resource types, which hid the warning (exit 0)."""
    kept = ("Patient", "Observation", "Claim")
    entries = [e for e in patient_a()["entry"] if e["resource"]["resourceType"] in kept]
    write_json(tmp_path / "bundles" / f"Ana_Kub_{A}.json", {**patient_a(), "entry": entries})
    for name, resources in (
        ("Observation", [e["resource"] for e in entries[1:] if "valueQuantity" in e["resource"]]),
        ("Patient", [entries[0]["resource"]]),
    ):
        write_ndjson(tmp_path / "ndjson" / f"{name}.ndjson", resources)
    for layout in ("bundles", "ndjson"):
        status, err = run(capsys, tmp_path / layout, tmp_path / f"out-{layout}")
        assert status == 4, (layout, err)
        codes = [w["code"] for w in manifest(tmp_path / f"out-{layout}")["warnings"]]
        assert codes.count("empty_table") == 2, (layout, codes)
        assert "table medications has no rows" in err
        assert "table diagnoses has no rows" in err
