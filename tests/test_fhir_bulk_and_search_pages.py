"""Epic/Cerner-style Bulk Data NDJSON and HAPI-style search pages, screened by the real CLI,
against hand-computed expectations of SCREENING_SPEC.md for each patient (night 2026-11-20,
site time zone UTC)."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from cli_process import run_night
from fhir_generators import (
    ICD10,
    LOINC,
    RXNORM,
    SNOMED,
    listed,
    manifest,
    observation,
    quantity,
    quarantined,
    run,
    write_json,
    write_ndjson,
)

EPIC_SODIUM = {
    "coding": [
        {"system": "urn:oid:1.2.840.114350.1.13.0.1.7.5.737384.20", "code": "1526"},
        {"system": LOINC, "code": "2951-2", "display": "Sodium SerPl-sCnc"},
    ],
    "text": "SODIUM",
}
RANGE_MMOL = [{"low": {"value": 3.5, "unit": "mmol/L"}, "high": {"value": 5.1, "unit": "mmol/L"}}]


def epic_export(folder: Path) -> None:
    """E1: sodium 131 (LOINC second of its codings, effectivePeriod at -05:00, `corrected`);
    potassium "3.1" as valueString, its unit from the reference range; magnesium 1.5 mg/dL;
    SIADH coded ICD-10-CM after SNOMED, no statuses, recorded "2026-11" (a partial date: its
    first day, before the index); hydrochlorothiazide through a contained Medication. Also a
    sodium "<120" as text with no unit (bad_unit), "134 L" (a flag in the text: non_numeric),
    one absent (non_numeric), a CKD refuted (status); furosemide given 2026-11-10 (over with
    its 7 days of grace on 11-17); spironolactone entered in error (status); a cramp recorded
    2026-10-21T20:00+09:00 = 11:00 UTC, 30 days 3 h before the index (14:00 UTC): outside
    ±30 days, though its wall time alone would be inside. Spec: mild 131, 4 categories ->
    soon."""
    me = {"reference": "Patient/E1"}
    write_ndjson(
        folder / "Observation.000.ndjson",
        [
            observation("n1", "Patient/E1", "x", "x", "")
            | {
                "code": EPIC_SODIUM,
                "effectivePeriod": {"start": "2026-11-20T09:00:00-05:00"},
                "valueQuantity": quantity(131, "mmol/L"),
                "status": "corrected",
                "referenceRange": [{"low": {"value": 135}, "high": {"value": 145}}],
                "interpretation": [{"coding": [{"code": "L"}]}],
                "meta": {"lastUpdated": "2026-11-20T15:00:00Z"},
            },
            observation("n2", "Patient/E1", "2951-2", "Sodium", "2026-11-20T16:00:00Z")
            | {"valueString": "<120", "status": "preliminary"},
            observation("n3", "Patient/E1", "2951-2", "Sodium", "2026-11-20T17:00:00Z")
            | {"dataAbsentReason": {"coding": [{"code": "error"}]}},
            observation("n4", "Patient/E1", "2951-2", "Sodium", "2026-11-20T18:00:00Z")
            | {"valueString": "134 L", "referenceRange": RANGE_MMOL},
        ],
    )
    write_ndjson(
        folder / "Observation.001.ndjson.gz",
        [
            observation("k1", "Patient/E1", "2823-3", "Potassium", "2026-11-20T14:00:00Z")
            | {"valueString": "3.1", "referenceRange": RANGE_MMOL},
            observation("m1", "Patient/E1", "19123-9", "Magnesium", "2026-11-19T20:00:00Z")
            | {"valueQuantity": quantity(1.5, "mg/dL")},
        ],
    )
    siadh = [{"system": SNOMED, "code": "237676008"}, {"system": ICD10, "code": "E22.2"}]
    ckd = [{"system": ICD10, "code": "N18.3"}]
    write_ndjson(
        folder / "Condition.ndjson",
        [
            {
                "resourceType": "Condition",
                "id": "c1",
                "subject": me,
                "code": {"coding": siadh},
                "recordedDate": "2026-11",
            },
            {
                "resourceType": "Condition",
                "id": "c2",
                "subject": me,
                "code": {"coding": ckd},
                "clinicalStatus": {"coding": [{"code": "active"}]},
                "verificationStatus": {"coding": [{"code": "refuted"}]},
                "recordedDate": "2025-01-01",
            },
            {
                "resourceType": "Condition",
                "id": "c3",
                "subject": me,
                "code": {"coding": [{"system": ICD10, "code": "R25.2"}]},
                "recordedDate": "2026-10-21T20:00:00+09:00",
            },
        ],
    )
    furosemide = {"coding": [{"system": RXNORM, "code": "4603", "display": "furosemide"}]}
    write_ndjson(
        folder / "MedicationAdministration.ndjson",
        [
            {
                "resourceType": "MedicationAdministration",
                "id": "a1",
                "status": "completed",
                "subject": me,
                "medicationCodeableConcept": furosemide,
                "effectivePeriod": {"start": "2026-11-10T08:00:00Z", "end": "2026-11-10T08:30Z"},
            },
        ],
    )
    write_ndjson(
        folder / "MedicationRequest.ndjson",
        [
            {
                "resourceType": "MedicationRequest",
                "id": "r9",
                "status": "entered-in-error",
                "intent": "order",
                "subject": me,
                "medicationCodeableConcept": {"text": "Aldactone 25 mg"},
                "authoredOn": "2026-11-01",
            },
        ],
    )
    hctz = {
        "resourceType": "Medication",
        "id": "med1",
        "code": {"text": "HYDROCHLOROTHIAZIDE 25 MG PO TABS"},
    }
    write_ndjson(
        folder / "MedicationStatement.ndjson",
        [
            {
                "resourceType": "MedicationStatement",
                "id": "s1",
                "status": "active",
                "subject": me,
                "contained": [hctz],
                "medicationReference": {"reference": "#med1"},
                "effectivePeriod": {"start": "2026-06-01"},
            },
        ],
    )


def report_export(folder: Path) -> None:
    """D1: a DiagnosticReport whose results are contained Observations without their own
    subject or time: sodium 123 and glucose 300 at 07:00 (corrected 123 + 1.6 x 2 = 126.2,
    mild), potassium 3.0 (hypokalemia). Spec: mild, 1 category -> routine."""
    results = [
        ("r1", "2951-2", quantity(123, "mmol/L")),
        ("r2", "2345-7", quantity(300, "mg/dL")),
        ("r3", "2823-3", quantity(3.0, "mmol/L")),
    ]
    contained = [
        {
            "resourceType": "Observation",
            "id": rid,
            "status": "final",
            "valueQuantity": value,
            "code": {"coding": [{"system": LOINC, "code": loinc}]},
        }
        for rid, loinc, value in results
    ]
    report = {
        "resourceType": "DiagnosticReport",
        "id": "dr1",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "24323-8"}]},
        "subject": {"reference": "Patient/D1"},
        "effectiveDateTime": "2026-11-20T07:00:00Z",
        "issued": "2026-11-20T08:00:00Z",
        "contained": contained,
        "result": [{"reference": f"#{rid}"} for rid, _, _ in results],
    }
    write_ndjson(folder / "DiagnosticReport.ndjson", [report])


def search_pages(folder: Path) -> None:
    """H1, two HAPI searchset pages with `link`s, `search.mode` match / include / outcome: a
    sodium 119 (UCUM code only) at 06:00+01:00, severe; sertraline through an `_include`d
    Medication. Spec: severe -> urgent, ssri. A warning outcome is no error."""
    base = "http://hapi.example/fhir"
    sodium = observation("h-na", "Patient/H1", "2951-2", "Sodium", "2026-11-20T06:00:00+01:00")
    sodium["valueQuantity"] = quantity(119, "mmol/L", with_unit=False)
    warning = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "warning", "code": "informational"}],
    }
    page = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": 3,
        "link": [
            {"relation": "self", "url": f"{base}/Observation?patient=H1"},
            {"relation": "next", "url": f"{base}?_getpages=abc&_getpagesoffset=1"},
        ],
        "entry": [
            {
                "fullUrl": f"{base}/Observation/h-na",
                "resource": sodium,
                "search": {"mode": "match"},
            },
            {
                "fullUrl": f"{base}/Patient/H1",
                "search": {"mode": "include"},
                "resource": {"resourceType": "Patient", "id": "H1"},
            },
            {"resource": warning, "search": {"mode": "outcome"}},
        ],
    }
    write_json(folder / "search-page-1.json", page)
    drug = {"coding": [{"system": RXNORM, "code": "36437", "display": "sertraline"}]}
    order = {
        "resourceType": "MedicationRequest",
        "id": "h-mr",
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/H1"},
        "medicationReference": {"reference": "Medication/h-med"},
        "authoredOn": "2026-11-02T10:00:00Z",
    }
    second = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [
            {
                "fullUrl": f"{base}/MedicationRequest/h-mr",
                "resource": order,
                "search": {"mode": "match"},
            },
            {
                "fullUrl": f"{base}/Medication/h-med",
                "search": {"mode": "include"},
                "resource": {"resourceType": "Medication", "code": drug},
            },
        ],
    }
    write_json(folder / "search-page-2.json", second)


def export_errors(folder: Path) -> None:
    """A Bulk Data error file: one error (data missing from the export), one information."""
    error = {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "error",
                "code": "exception",
                "diagnostics": "Observation export failed for one patient",
            }
        ],
    }
    info = {"resourceType": "OperationOutcome", "issue": [{"severity": "information"}]}
    write_ndjson(folder / "error" / "OperationOutcome.ndjson", [error, info])


def test_epic_reports_search_pages_and_export_errors_screen_as_the_spec_says(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "export"
    epic_export(folder)
    report_export(folder)
    search_pages(folder)
    export_errors(folder)
    status, err = run(capsys, folder, tmp_path / "out")
    assert status in (0, 4), err
    assert listed(tmp_path / "out") == {
        "H1": ("1", "119.0", "ssri"),
        "E1": ("2", "131.0", "hypokalemia;hypomagnesemia;siadh;thiazide_diuretic"),
        "D1": ("3", "126.2", "hypokalemia"),
    }
    assert quarantined(tmp_path / "out") == [
        ("diagnoses", "Condition.ndjson", "2", "status"),
        ("labs", "Observation.000.ndjson", "2", "bad_unit"),
        ("labs", "Observation.000.ndjson", "3", "non_numeric"),
        ("labs", "Observation.000.ndjson", "4", "non_numeric"),
        ("labs", "error/OperationOutcome.ndjson", "1", "export_error"),
        ("medications", "MedicationRequest.ndjson", "1", "status"),
    ]
    found = manifest(tmp_path / "out")
    assert found["reconciled"] is True
    assert "export_errors" in [w["code"] for w in found["warnings"]]  # exit 4, said on stderr
    assert err.count("1 error report(s) of the source") == 1 and status == 4
    assert "export failed" not in err + caplog.text


def test_every_line_the_fhir_reader_prints_is_a_hyposcreen_message(tmp_path: Path) -> None:
    """A file of the export that holds no FHIR resources (the Bulk Data manifest a client
    saved beside the files) is said as every other warning is, `hyposcreen: warning: …` (it
    was a bare line); the export's error reports are said once, by the night's warning
    (exit 4), not also by a bare line beside it. Run as an operator runs it (a fresh
    interpreter: pytest's own log capture would hide a bare line)."""
    folder = tmp_path / "export"
    epic_export(folder)
    export_errors(folder)
    bulk_manifest = {
        "transactionTime": "2026-11-21T02:00:00Z",
        "request": "https://fhir.example.org/$export",
        "requiresAccessToken": True,
        "output": [{"type": "Observation", "url": "https://fhir.example.org/o.ndjson"}],
        "error": [{"type": "OperationOutcome", "url": "https://fhir.example.org/e.ndjson"}],
    }
    (folder / "manifest.json").write_text(json.dumps(bulk_manifest), "utf-8")
    night = run_night(
        folder, tmp_path / "out", "2026-11-20T00:00:00", "2026-11-21T00:00:00", "--source", "fhir"
    )
    assert night.returncode == 4, night.stderr
    lines = night.stderr.splitlines()
    assert [line for line in lines if not line.startswith("hyposcreen: ")] == []
    assert (
        "hyposcreen: warning: ignoring 1 NDJSON / JSON file(s) that hold no FHIR resources: "
        "manifest.json"
    ) in lines
    assert sum("OperationOutcome(s)" in line or "error report(s)" in line for line in lines) == 1


MIMIC_EXPORT = Path(__file__).resolve().parent / "data" / "fhir" / "mimic"
PATIENT_DOCUMENT = "Jane612_Doe845_3f2a9c4e-0b1d-4e7a-9c55-1b2f6d8e7a10.json"  # Synthea's naming


def test_a_json_document_that_holds_no_fhir_is_ignored_without_its_name(tmp_path: Path) -> None:
    """A Synthea record whose transfer left it empty holds no FHIR resource: it is ignored
    with a warning, as the Bulk Data manifest is, but its name (the patient's) is not said:
    neither on stderr nor, when nothing else is there, in the stop and FAILED.json. Before,
    both named it."""
    folder = Path(shutil.copytree(MIMIC_EXPORT, tmp_path / "export"))
    (folder / PATIENT_DOCUMENT).write_bytes(b"")
    (folder / "manifest.json").write_text(json.dumps({"transactionTime": "x"}), "utf-8")
    night = run_night(folder, tmp_path / "out", "2180-07-23", "2180-07-24", "--source", "fhir")
    assert night.returncode == 0, night.stderr
    assert "Jane612" not in night.stderr
    assert (
        "hyposcreen: warning: ignoring 2 NDJSON / JSON file(s) that hold no FHIR resources: "
        "(a JSON document), manifest.json"
    ) in night.stderr.splitlines()

    alone = tmp_path / "alone"
    alone.mkdir()
    (alone / PATIENT_DOCUMENT).write_text("not json\n", "utf-8")
    night = run_night(alone, tmp_path / "out2", "2180-07-23", "2180-07-24", "--source", "fhir")
    assert night.returncode == 3, night.stderr
    assert "not a FHIR Bulk Data export" in night.stderr and "Jane612" not in night.stderr
    failed = (tmp_path / "out2" / "2180-07-23" / "FAILED.json").read_text("utf-8")
    assert "Jane612" not in failed


@pytest.mark.parametrize("partitions", [[], ["--partitions", "1"]], ids=["auto", "one"])
def test_a_damaged_compressed_json_document_stops_the_night_without_its_name(
    tmp_path: Path, partitions: list[str]
) -> None:
    """A Synthea record compressed and cut off in transfer stops the night (exit 3) as a
    damaged delivery does, saying in which folder and how to find it, but not its name (the
    patient's): neither the size estimate's scan (--partitions auto) nor the document reader
    names it. Before, both put the path on stderr and in FAILED.json."""
    folder = Path(shutil.copytree(MIMIC_EXPORT, tmp_path / "export"))
    whole = gzip.compress(json.dumps({"resourceType": "Bundle", "entry": []}).encode())
    (folder / f"{PATIENT_DOCUMENT}.gz").write_bytes(whole[: len(whole) // 2])
    out = tmp_path / "out"
    night = run_night(folder, out, "2180-07-23", "2180-07-24", "--source", "fhir", *partitions)
    assert night.returncode == 3, night.stderr
    assert f"a JSON document in {folder} (not named" in night.stderr
    assert "Jane612" not in night.stderr and "Traceback" not in night.stderr
    assert "Jane612" not in (out / "2180-07-23" / "FAILED.json").read_text("utf-8")
