"""`--source fhir`: a FHIR R4 Bulk Data export read into the canonical tables.

Unit tests per mapping on hand-written resources, tests on FHIR produced independently
(tests/data/fhir/independent/: Synthea output and an HL7 specification example), and the
cross-format acceptance test: the sample data converted to FHIR gives the same review list.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sample_data.to_fhir import convert
from tests.helpers import RULES, WINDOW

from hyposcreen.adapters import fhir
from hyposcreen.clean import USED, clean_diagnoses, clean_labs, clean_medications, count_buckets
from hyposcreen.config import RunSettings, SiteMapping, Window, parse_window
from hyposcreen.errors import InputError
from hyposcreen.ingest.canonical import IngestedTable
from hyposcreen.ingest.tabular import sha256_of
from hyposcreen.rules.loader import RuleSet
from hyposcreen.runners.in_process import run_pipeline

ROOT = Path(__file__).resolve().parents[1]
INDEPENDENT = ROOT / "tests" / "data" / "fhir" / "independent"
SAMPLE = ROOT / "sample_data" / "canonical"
T = "2026-11-20T08:00:00Z"
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
Line = dict[str, Any] | str | bytes


def write_export(folder: Path, files: dict[str, list[Line]]) -> Path:
    """NDJSON files (gzipped when the name ends in .gz); str/bytes lines are written as is."""
    for name, lines in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = b"".join(
            (
                line
                if isinstance(line, bytes)
                else line.encode()
                if isinstance(line, str)
                else orjson.dumps(line)
            )
            + b"\n"
            for line in lines
        )
        path.write_bytes(gzip.compress(payload) if name.endswith(".gz") else payload)
    return folder


def read(
    folder: Path,
    name: str,
    rules: RuleSet = RULES,
    window: Window = WINDOW,
    mapping: SiteMapping | None = None,
) -> IngestedTable:
    from hyposcreen.clean import lab_row_filter

    row_filter = lab_row_filter(rules, window) if name == "labs" else None
    return fhir.read_table(folder, name, mapping or SiteMapping(), rules, window, row_filter)


def obs(value: dict[str, Any] | None = None, code: str | None = "2951-2", **extra: Any) -> dict:
    """A serum sodium Observation of patient P1 at T (value 130 mmol/L unless given)."""
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": code}]} if code else {"text": "Sodium"},
        "subject": {"reference": "Patient/P1"},
        "effectiveDateTime": T,
    }
    resource.update(value or {"valueQuantity": {"value": 130, "unit": "mmol/L"}})
    resource.update(extra)
    return {k: v for k, v in resource.items() if v is not None}


def balanced(table: IngestedTable, cleaned: pd.DataFrame) -> bool:
    return bool(count_buckets(cleaned, table.not_relevant, table.rows_in)["reconciled"])


# ------------------------------------------------------------------ layout


def test_a_folder_of_csvs_is_not_a_fhir_export(tmp_path: Path) -> None:
    (tmp_path / "labs.csv").write_text("patient_id\nP1\n")
    with pytest.raises(InputError, match=r"not a FHIR Bulk Data export.*Observation\.ndjson"):
        fhir.check_layout(tmp_path)


def test_ndjson_lines_that_are_not_fhir_resources_are_an_input_error(tmp_path: Path) -> None:
    write_export(tmp_path, {"extract.ndjson": [{"patient": "P1", "sodium": 130}]})
    with pytest.raises(InputError, match=r"extract\.ndjson.*resourceType"):
        fhir.check_layout(tmp_path)


def test_an_export_without_observations_is_an_input_error(tmp_path: Path) -> None:
    write_export(tmp_path, {"Patient.ndjson": [{"resourceType": "Patient", "id": "P1"}]})
    with pytest.raises(InputError, match="no Observation files"):
        fhir.check_layout(tmp_path)


def test_resource_type_comes_from_the_name_a_folder_or_the_first_line(tmp_path: Path) -> None:
    patient = {"resourceType": "Patient", "id": "P9"}
    write_export(
        tmp_path,
        {
            "Observation_2.ndjson.gz": [obs()],
            "Observation/part-0.ndjson": [obs()],
            "export-0001.ndjson": [obs()],
            "medication_request-1.ndjson": [],
            "MedicationStatement.000.ndjson": [],
            "sub/people.jsonl": [patient],
            "Encounter.ndjson": [{"resourceType": "Encounter", "id": "E1"}],
        },
    )
    fhir.check_layout(tmp_path)
    labs = {p.relative_to(tmp_path).as_posix() for p in fhir.input_files(tmp_path, "labs")}
    assert labs == {"Observation_2.ndjson.gz", "Observation/part-0.ndjson", "export-0001.ndjson"}
    meds = {p.name for p in fhir.input_files(tmp_path, "medications")}
    assert meds == {"medication_request-1.ndjson", "MedicationStatement.000.ndjson"}
    assert [p.name for p in fhir.input_files(tmp_path, "patients")] == ["people.jsonl"]
    assert read(tmp_path, "labs").rows_in == 3


# ------------------------------------------------------------------ Observation


def test_quantity_comparator_and_ucum_code_make_the_value_text_and_unit(tmp_path: Path) -> None:
    write_export(
        tmp_path,
        {
            "Observation.ndjson": [
                obs(
                    {"valueQuantity": {"value": 3.0, "comparator": "<", "code": "mmol/L"}},
                    code="2823-3",
                ),
                obs({"valueQuantity": {"value": 128, "unit": "MEQ/L"}}),
                obs(
                    {
                        "valueQuantity": {
                            "value": 25,
                            "unit": "millimole per liter",
                            "system": "http://unitsofmeasure.org",
                            "code": "mmol/L",
                        }
                    },
                    code="2345-7",
                ),
            ]
        },
    )
    labs = read(tmp_path, "labs").frame
    assert list(labs["value_raw"]) == ["<3.0", "128", "25"]
    assert list(labs["unit"]) == ["mmol/L", "MEQ/L", "mmol/L"]
    cleaned = clean_labs(labs, RULES)
    assert list(cleaned["bucket"]) == [USED] * 3
    assert list(cleaned["censored"]) == ["<", "", ""]
    assert cleaned["value_num"].round(1).tolist() == [3.0, 128.0, 450.4]


def test_string_absent_and_coded_values_are_quarantined_as_non_numeric(tmp_path: Path) -> None:
    absent = {
        "coding": [
            {"system": "http://terminology.hl7.org/CodeSystem/data-absent-reason", "code": "error"}
        ]
    }
    write_export(
        tmp_path,
        {
            "Observation.ndjson": [
                obs({"valueString": "HEMOLYZED"}),
                obs({"dataAbsentReason": absent}),
                obs({"valueCodeableConcept": {"text": "See Comments"}}),
                obs(
                    {"valueString": " 131 "},
                    referenceRange=[{"low": {"value": 136, "unit": "mmol/L"}}],
                ),
            ]
        },
    )
    table = read(tmp_path, "labs")
    assert list(table.frame["value_raw"]) == ["HEMOLYZED", "error", "See Comments", " 131 "]
    cleaned = clean_labs(table.frame, RULES)
    assert list(cleaned["reason"].fillna("")) == ["non_numeric"] * 3 + [""]
    assert balanced(table, cleaned)


def test_effective_time_falls_back_through_period_instant_and_issued(tmp_path: Path) -> None:
    issued = "2026-11-20T10:00:00Z"
    write_export(
        tmp_path,
        {
            "Observation.ndjson": [
                obs(effectiveDateTime="2026-11-20T09:30:00+01:00", issued=issued),
                obs(effectiveDateTime=None, effectivePeriod={"start": "2026-11-20T07:00:00Z"}),
                obs(effectiveDateTime=None, effectiveInstant="2026-11-20T06:00:00.123Z"),
                obs(effectiveDateTime=None, issued=issued),
                obs(effectiveDateTime="2026-11-20"),
            ]
        },
    )
    labs = read(tmp_path, "labs").frame
    assert list(labs["specimen_time"]) == [
        pd.Timestamp(t)
        for t in (
            "2026-11-20 08:30",
            "2026-11-20 07:00",
            "2026-11-20 06:00:00.123",
            "2026-11-20 10:00",
            "2026-11-20",
        )
    ]
    assert labs["result_time"].iloc[0] == pd.Timestamp("2026-11-20 10:00")


def test_times_with_an_offset_are_converted_to_the_site_time_zone(tmp_path: Path) -> None:
    write_export(tmp_path, {"Observation.ndjson": [obs(effectiveDateTime="2026-11-20T07:00:00Z")]})
    labs = read(tmp_path, "labs", mapping=SiteMapping(timezone="Europe/Berlin")).frame
    assert str(labs["specimen_time"].iloc[0]) == "2026-11-20 08:00:00"


def test_date_only_values_stay_local_midnight_in_any_time_zone(tmp_path: Path) -> None:
    """FHIR dates (recordedDate "2026-01-05") carry no offset: the "-05" is the day."""
    write_export(tmp_path, {"Condition.ndjson": [condition({"code": "I50.9"})]})
    berlin = SiteMapping(timezone="Europe/Berlin")
    recorded = read(tmp_path, "diagnoses", mapping=berlin).frame["recorded_time"].iloc[0]
    assert recorded == pd.Timestamp("2026-01-05")


def test_excluded_statuses_are_quarantined_by_the_cleaner(tmp_path: Path) -> None:
    write_export(
        tmp_path,
        {"Observation.ndjson": [obs(status="entered-in-error"), obs(status="cancelled"), obs()]},
    )
    cleaned = clean_labs(read(tmp_path, "labs").frame, RULES)
    assert list(cleaned["reason"].fillna("")) == ["status", "status", ""]


def test_specimen_type_from_specimen_resources_contained_display_and_code_text(
    tmp_path: Path,
) -> None:
    urine = {"resourceType": "Specimen", "id": "S1", "type": {"coding": [{"display": "Urine"}]}}
    snomed = {"resourceType": "Specimen", "id": "S2", "type": {"coding": [{"code": "122575003"}]}}
    contained = {"resourceType": "Specimen", "id": "sp", "type": {"text": "Spot urine"}}
    write_export(
        tmp_path,
        {
            "Specimen.ndjson": [urine, snomed],
            "Observation.ndjson": [
                obs(specimen={"reference": "Specimen/S1"}),
                obs(specimen={"reference": "#sp"}, contained=[contained]),
                obs(specimen={"display": "Pleural fluid"}, code="2951-2"),
                obs(code=None) | {"code": {"text": "Sodium, urine"}},
                obs(specimen={"reference": "Specimen/S9", "display": "Serum"}),
                obs(specimen={"reference": "Specimen/S2"}),
            ],
        },
    )
    table = read(tmp_path, "labs")
    kept = table.frame
    assert list(kept["specimen_type"]) == ["Urine", "Spot urine", "Sodium, urine", "Serum", "Urine"]
    assert list(kept["analyte"]) == ["urine_sodium"] * 3 + ["sodium", "urine_sodium"]
    assert list(kept["specimen_id"].fillna("")) == ["S1", "sp", "", "S9", "S2"]
    assert table.not_relevant == {"other_fluid": 1}
    assert table.source_counts["Specimen"] == {"files": 1, "indexed": 2}


def test_reference_range_patient_and_encounter_references(tmp_path: Path) -> None:
    range_ = [{"low": {"value": 136, "unit": "mmol/L"}, "high": {"value": 145}}]
    write_export(
        tmp_path,
        {
            "Observation.ndjson": [
                obs(referenceRange=range_, encounter={"reference": "Encounter/E7"}),
                obs(subject={"reference": "urn:uuid:0bee1bc6-7bc0"}),
                obs(subject={"reference": "https://ehr.example/fhir/Patient/P3/_history/2"}),
                obs(subject={"identifier": {"system": "urn:mrn", "value": "MRN9"}}),
                obs(subject=None),
            ]
        },
    )
    labs = read(tmp_path, "labs").frame
    assert labs["patient_id"].tolist()[:4] == ["P1", "0bee1bc6-7bc0", "P3", "MRN9"]
    assert pd.isna(labs["patient_id"].iloc[4])
    assert (labs["ref_low"].iloc[0], labs["ref_high"].iloc[0]) == (136.0, 145.0)
    assert labs["encounter_id"].iloc[0] == "E7"
    assert clean_labs(labs, RULES)["reason"].iloc[4] == "missing_key"


def test_codes_without_loinc_are_identified_by_the_lab_dictionary(tmp_path: Path) -> None:
    rules = RULES.with_lab_dictionary({"na-ser": "sodium"})
    local = {"coding": [{"system": "urn:oid:1.2.3", "code": "NA-SER", "display": "Na (lab 7)"}]}
    write_export(
        tmp_path,
        {
            "Observation.ndjson": [
                obs(code=None) | {"code": local},
                obs(code=None) | {"code": {"coding": [{"code": "2823-3"}]}},  # no system
                obs(code=None) | {"code": {"text": "POTASSIUM"}},
                obs(code="99999-9")
                | {"code": {"coding": [{"system": LOINC, "code": "99999-9"}], "text": "Sodium"}},
                obs(code=None) | {"code": {"text": "Chloride"}},
            ]
        },
    )
    table = read(tmp_path, "labs", rules=rules)
    assert list(table.frame["analyte"]) == ["sodium", "potassium", "potassium"]
    assert list(table.frame["loinc"].fillna("")) == ["", "2823-3", ""]
    assert table.frame["lab_name"].iloc[0] == "NA-SER"
    # the unknown LOINC is parsed (its text says Sodium) and dropped by its LOINC; Chloride is
    # never parsed
    assert table.not_relevant == {"unknown_loinc": 2}


def test_irrelevant_lines_are_skipped_unparsed_and_still_counted(tmp_path: Path) -> None:
    cbc = obs(code="718-7") | {"valueQuantity": {"value": 13.2, "unit": "g/dL"}}
    write_export(
        tmp_path,
        {
            "Observation.000.ndjson": [cbc, '{"broken json, no relevant code', cbc, obs()],
            "Observation.001.ndjson": ['{"resourceType": "Observation", "code": "2951-2" oops'],
        },
    )
    table = read(tmp_path, "labs")
    assert table.rows_in == 5
    assert table.not_relevant == {"unknown_loinc": 3}
    counts = table.source_counts["Observation"]
    assert counts["read"] == 5 and counts["mapped"] == 1 and counts["unmapped"] == 4
    assert counts["unmapped_prefilter_no_relevant_code"] == 3
    cleaned = clean_labs(table.frame, RULES)
    bad = cleaned.loc[cleaned["reason"] == "malformed_row"]
    assert list(bad["source_file"]) == ["Observation.001.ndjson"]
    assert list(bad["source_row"]) == ["1"]
    assert "oops" in bad["malformed_text"].iloc[0]
    assert balanced(table, cleaned)


def test_relevant_lines_dated_days_outside_the_read_window_are_not_parsed(tmp_path: Path) -> None:
    old = obs(effectiveDateTime="2019-03-01T08:00:00Z")
    write_export(
        tmp_path,
        {
            "Observation.ndjson": [
                old,
                obs(),
                obs(effectiveDateTime="2027-02-01"),
                '{"code":"2951-2" x',
            ]
        },
    )
    table = read(tmp_path, "labs")
    assert table.rows_in == 4 and len(table.frame) == 2  # the sodium and the malformed line
    assert table.not_relevant == {"outside_window": 2}
    assert table.source_counts["Observation"]["unmapped_outside_window"] == 2
    assert balanced(table, clean_labs(table.frame, RULES))


def test_panel_components_become_rows_and_count_in_rows_in(tmp_path: Path) -> None:
    def component(code: str, value: float) -> dict[str, Any]:
        return {
            "code": {"coding": [{"system": LOINC, "code": code}]},
            "valueQuantity": {"value": value, "unit": "mmol/L"},
        }

    panel = obs(code="24326-1", valueQuantity=None) | {
        "component": [component("2951-2", 128), component("2823-3", 3.1), component("2075-0", 99)]
    }
    bp = obs(code="85354-9", valueQuantity=None) | {"component": [component("8480-6", 120)]}
    write_export(tmp_path, {"Observation.ndjson": [panel, bp, "", obs()]})
    table = read(tmp_path, "labs")
    assert table.rows_in == 4  # panel: 2 relevant components; bp: 1; the sodium: 1
    assert list(table.frame["analyte"]) == ["sodium", "potassium", "sodium"]
    assert list(table.frame["source_row"]) == ["1", "1.1", "4"]
    assert table.source_counts["Observation"]["extra_rows"] == 1
    assert balanced(table, clean_labs(table.frame, RULES))


def test_gz_bom_crlf_blank_lines_and_other_resource_types(tmp_path: Path) -> None:
    line = orjson.dumps(obs())
    (tmp_path / "Observation.ndjson").write_bytes(b"\xef\xbb\xbf" + line + b"\r\n\r\n" + line)
    write_export(
        tmp_path,
        {"Observation.2.ndjson.gz": [obs(), {"resourceType": "Condition", "code": "2951-2"}]},
    )
    table = read(tmp_path, "labs")
    assert table.rows_in == 4
    assert table.not_relevant == {"other_resource_type": 1}
    assert sorted(zip(table.frame["source_file"], table.frame["source_row"], strict=True)) == [
        ("Observation.2.ndjson.gz", "1"),
        ("Observation.ndjson", "1"),
        ("Observation.ndjson", "3"),
    ]
    assert {f["rows"] for f in table.files} == {2}
    assert all(f["sha256"] == sha256_of(Path(str(f["path"]))) for f in table.files)


def test_bundles_and_mixed_files_are_read_for_every_table_and_log_files_ignored(
    tmp_path: Path,
) -> None:
    lasix = {"resourceType": "Medication", "code": {"text": "Lasix 40 mg"}}
    request = med_request(medicationReference={"reference": "urn:uuid:med-1"}, authoredOn=T)
    heart_failure = condition({"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "I50.9"})
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": "urn:uuid:med-1", "resource": lasix},
            {"resource": request},
            {"resource": obs()},
            {"resource": obs(code="2823-3")},
            {"resource": heart_failure},
        ],
    }
    write_export(
        tmp_path,
        {
            "Observation.ndjson": [obs()],
            "export/data.ndjson": [bundle, {"resourceType": "Patient", "id": "P1"}],
            "log.ndjson": [{"eventId": "kickoff", "eventDetail": {"exportUrl": "x"}}],
        },
    )
    fhir.check_layout(tmp_path)  # the export client's log is ignored
    tables = {name: read(tmp_path, name) for name in fhir.TABLE_TYPES}
    labs = tables["labs"]
    assert labs.rows_in == 4 and list(labs.frame["analyte"]) == ["sodium", "sodium", "potassium"]
    assert list(labs.frame["source_row"]) == ["1", "1", "1.1"]
    meds = tables["medications"]
    assert meds.rows_in == 2 and list(meds.frame["drug_name"]) == ["Lasix 40 mg"]
    assert list(tables["diagnoses"].frame["code"]) == ["I50.9"]
    assert list(tables["patients"].frame["patient_id"]) == ["P1"]
    for name, table in tables.items():
        cleaned = {
            "labs": lambda f: clean_labs(f, RULES),
            "medications": lambda f: clean_medications(f, RULES, WINDOW)[0],
            "diagnoses": lambda f: clean_diagnoses(f, RULES, WINDOW),
        }.get(name)
        if cleaned is not None:
            assert balanced(table, cleaned(table.frame)), name


# ------------------------------------------------------------------ medications


def med_request(**fields: Any) -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "status": "active",
        "subject": {"reference": "Patient/P1"},
        **fields,
    }


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


# ------------------------------------------------------------------ Condition and Patient


def condition(*codings: dict[str, str], **fields: Any) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "code": {"coding": list(codings)},
        "subject": {"reference": "Patient/P1"},
        "recordedDate": "2026-01-05",
        **fields,
    }


def test_condition_codings_systems_status_and_times(tmp_path: Path) -> None:
    icd10 = "http://hl7.org/fhir/sid/icd-10-cm"
    write_export(
        tmp_path,
        {
            "Condition.ndjson": [
                condition(
                    {"system": "http://snomed.info/sct", "code": "73211009"},
                    {"system": icd10, "code": "K74.60", "display": "Cirrhosis"},
                ),
                condition(
                    {"system": "urn:oid:2.16.840.1.113883.6.103", "code": "428.0"},
                    recordedDate=None,
                    onsetDateTime="2019-04-01",
                ),
                condition(
                    {"system": "http://snomed.info/sct/", "code": "19943007"},
                    recordedDate=None,
                    onsetPeriod={"start": "2020-02-02"},
                ),
                condition(
                    {"code": "N18.3"},
                    verificationStatus={"coding": [{"code": "refuted"}]},
                    clinicalStatus={"coding": [{"code": "active"}]},
                ),
                condition({"code": "E222"}, clinicalStatus={"text": "resolved"}),
                condition({"system": "urn:local", "code": "X1"}),
            ]
        },
    )
    table = read(tmp_path, "diagnoses")
    dx = table.frame
    assert list(dx["code"]) == ["K74.60", "428.0", "19943007", "N18.3", "E222", "X1"]
    assert list(dx["code_system"]) == [
        "ICD-10-CM",
        "ICD-9-CM",
        "SNOMED",
        "ICD-10-CM",
        "ICD-10-CM",
        "urn:local",
    ]
    assert list(dx["recorded_time"])[:3] == [
        pd.Timestamp("2026-01-05"),
        pd.Timestamp("2019-04-01"),
        pd.Timestamp("2020-02-02"),
    ]
    assert dx["description"].iloc[0] == "Cirrhosis"
    cleaned = clean_diagnoses(dx, RULES, WINDOW)
    assert cleaned["condition"].tolist()[:3] == ["cirrhosis", "heart_failure", "cirrhosis"]
    assert cleaned["reason"].tolist()[3:] == ["status", "status", "unknown_code_system"]
    assert balanced(table, cleaned)


def test_patient_id_mrn_name_birth_date_and_sex(tmp_path: Path) -> None:
    patient = {
        "resourceType": "Patient",
        "id": "P1",
        "gender": "female",
        "birthDate": "1950-02-03",
        "identifier": [
            {"system": "urn:ssn", "value": "999"},
            {"type": {"text": "MRN"}, "value": "MRN0001"},
        ],
        "name": [
            {"use": "maiden", "family": "X"},
            {"use": "official", "given": ["Ann", "B"], "family": "Smith"},
        ],
    }
    write_export(tmp_path, {"Patient.ndjson": [patient]})
    row = read(tmp_path, "patients").frame.iloc[0]
    assert (row["patient_id"], row["mrn"], row["name"], row["birth_date"], row["sex"]) == (
        "P1",
        "MRN0001",
        "Ann B Smith",
        "1950-02-03",
        "female",
    )


def test_malformed_and_oddly_shaped_resources_are_quarantined_never_fatal(tmp_path: Path) -> None:
    write_export(
        tmp_path,
        {
            "Condition.ndjson": [
                condition({"system": "http://snomed.info/sct", "code": "19943007"}),
                "{not json",
                '["a", "list"]',
                {
                    "resourceType": "Condition",
                    "code": ["K74.60"],
                    "subject": "Patient/P1",
                    "recordedDate": 20260105,
                    "clinicalStatus": 7,
                },
                {"resourceType": "Condition", "code": {"coding": "K74.60"}, "meta": {"x": [1]}},
            ]
        },
    )
    table = read(tmp_path, "diagnoses")
    cleaned = clean_diagnoses(table.frame, RULES, WINDOW)
    assert table.rows_in == 5
    assert sorted(cleaned["reason"].fillna("")) == [
        "",
        "malformed_row",
        "malformed_row",
        "missing_key",
        "missing_key",
    ]
    assert balanced(table, cleaned)


# ------------------------------------------------------------------ independent FHIR


@pytest.fixture(scope="module")
def independent() -> dict[str, IngestedTable]:
    wide = Window(pd.Timestamp("2010-01-01"), pd.Timestamp("2030-01-01"))
    return {n: read(INDEPENDENT, n, window=wide) for n in fhir.TABLE_TYPES}


def test_synthea_observations_yield_their_sodium_potassium_glucose_and_albumin(
    independent: dict[str, IngestedTable],
) -> None:
    table = independent["labs"]
    labs = table.frame.sort_values("specimen_time")
    assert table.rows_in == 9
    assert list(labs["analyte"]) == ["potassium", "glucose", "sodium", "albumin", "sodium"]
    assert list(labs["loinc"]) == ["6298-4", "2339-0", "2951-2", "1751-7", "2951-2"]
    assert list(labs["value_raw"]) == ["5.1", "85.6", "139.37", "3.6013", "139.37"]
    assert list(labs["unit"]) == ["mmol/L", "mg/dL", "mmol/L", "g/dL", "mmol/L"]
    # -03:00 offsets converted to the site time zone (UTC)
    assert str(labs["specimen_time"].iloc[2]) == "2020-07-16 17:36:08"
    assert str(labs["result_time"].iloc[2]) == "2020-07-16 17:36:08.009000"
    assert set(labs["patient_id"]) == {
        "99fe54a0-68d9-cf86-6a41-60eba7932f86",
        "ba83ab73-a9cb-53f4-3af3-708d41f1cd80",
    }
    assert labs["encounter_id"].iloc[2] == "ba83ab73-a9cb-53f4-56bf-2ce5d6286668"
    cleaned = clean_labs(table.frame, RULES)
    assert set(cleaned["bucket"]) == {USED}
    assert balanced(table, cleaned)
    # pain score, CO2, urine microalbumin and the blood-pressure panel are never parsed
    assert table.not_relevant == {"unknown_loinc": 4}


def test_synthea_and_hl7_medication_requests_are_read_but_match_no_class(
    independent: dict[str, IngestedTable],
) -> None:
    table = independent["medications"]
    meds = table.frame.set_index("rxnorm", drop=False)
    assert table.rows_in == 3
    assert meds.loc["206905", "drug_name"] == "Ibuprofen 400 MG Oral Tablet [Ibu]"
    assert str(meds.loc["206905", "start_time"]) == "2020-03-20 15:46:59"
    assert meds.loc["206905", "status"] == "completed"
    hl7 = table.frame.loc[table.frame["patient_id"] == "pat1"].iloc[0]
    assert hl7["drug_name"] == "Oral Form Oxycodone (product)"
    assert (str(hl7["start_time"]), str(hl7["end_time"])) == (
        "2015-01-15 00:00:00",
        "2016-01-15 00:00:00",
    )
    assert (hl7["status"], hl7["route"], hl7["encounter_id"]) == ("active", "Oral Route", "f001")
    assert table.source_counts["Medication"] == {"files": 1, "indexed": 2}
    cleaned, matches = clean_medications(table.frame, RULES, WINDOW)
    assert matches.empty and set(cleaned["reason"]) == {"unlisted_drug"}


def test_synthea_conditions_and_patient(independent: dict[str, IngestedTable]) -> None:
    dx = independent["diagnoses"].frame
    assert list(dx["code"]) == ["91302008", "423315002"]
    assert set(dx["code_system"]) == {"SNOMED"}
    assert list(dx["status"]) == ["active", "resolved"]
    assert str(dx["recorded_time"].iloc[0]) == "1976-01-20 03:58:16"
    assert dx["description"].iloc[0] == "Sepsis (disorder)"
    patient = independent["patients"].frame.iloc[0]
    assert (patient["patient_id"], patient["mrn"], patient["name"]) == (
        "3af3708d-41f1-cd80-f3dd-ec5ac76072bf",
        "3af3708d-41f1-cd80-f3dd-ec5ac76072bf",
        "Devin82 Anibal473 Cole117",
    )
    assert (patient["sex"], patient["birth_date"]) == ("male", "1960-04-13")


# ------------------------------------------------------------------ cross-format acceptance

COMPARED = [
    "rank",
    "tier",
    "patient_id",
    "index_time",
    "index_sodium",
    "corrected_sodium",
    "severity",
    "latest_sodium",
    "delta_48h",
    "overcorrection",
    "risk_factors",
    "correction_risk",
    "missing_workup",
]


def test_sample_converted_to_fhir_gives_the_same_review_list(tmp_path: Path) -> None:
    """The acceptance of issue 5: same patients, tiers, risk factors, severity and index sodium
    from canonical CSV and from FHIR; both manifests reconcile, with the same buckets."""
    convert(SAMPLE, tmp_path / "fhir")
    window = parse_window("2026-11-20T00:00:00", "2026-11-21T00:00:00")
    canonical = run_pipeline(RunSettings(input_dir=SAMPLE, out_dir=tmp_path / "c", window=window))
    from_fhir = run_pipeline(
        RunSettings(
            input_dir=tmp_path / "fhir", out_dir=tmp_path / "f", window=window, source="fhir"
        )
    )
    expected = pd.read_csv(canonical.review_csv, dtype=str, keep_default_na=False)
    actual = pd.read_csv(from_fhir.review_csv, dtype=str, keep_default_na=False)
    assert len(actual) == 35
    pd.testing.assert_frame_equal(actual[COMPARED], expected[COMPARED])
    manifest = from_fhir.manifest
    assert manifest["reconciled"] is True
    assert manifest["reconciliation"] == canonical.manifest["reconciliation"]
    assert manifest["source_counts"]["labs"]["Observation"]["read"] == 171
    assert manifest["source_counts"]["medications"]["Medication"]["indexed"] == 8
    quarantine = pd.read_csv(tmp_path / "f" / "quarantine.csv", dtype=str)
    assert quarantine["source_file"].str.contains("ndjson").all()
    written = json.loads((tmp_path / "f" / "run_manifest.json").read_text())
    assert written["source"] == "fhir"


def test_cli_on_a_folder_that_is_not_a_fhir_export_exits_3(tmp_path: Path) -> None:
    (tmp_path / "labs.csv").write_text("patient_id\nP1\n")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "hyposcreen.cli",
            "run",
            "--no-flow",
            "--source",
            "fhir",
            "--input",
            str(tmp_path),
            "--window-start",
            "2026-11-20",
            "--window-end",
            "2026-11-21",
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 3, done.stderr
    assert "not a FHIR Bulk Data export" in done.stderr and "Traceback" not in done.stderr


# ------------------------------------------------------------------ any shape of JSON

_KEYS = [
    "coding",
    "system",
    "code",
    "display",
    "text",
    "reference",
    "value",
    "unit",
    "comparator",
    "start",
    "end",
    "low",
    "high",
    "timing",
    "repeat",
    "boundsPeriod",
    "validityPeriod",
    "route",
    "type",
    "id",
    "resourceType",
    "use",
    "given",
    "family",
    "ingredient",
    "itemCodeableConcept",
    "concept",
    "identifier",
    "valueQuantity",
    "referenceRange",
]
_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=8)
    | st.sampled_from(["http://loinc.org", "2951-2", "#c1", "Patient/P1", "Sodium", "MR"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(_KEYS), inner, max_size=4)
    ),
    max_leaves=12,
)
_FIELDS = [
    "code",
    "subject",
    "patient",
    "encounter",
    "effectiveDateTime",
    "effectivePeriod",
    "issued",
    "valueQuantity",
    "valueString",
    "valueCodeableConcept",
    "dataAbsentReason",
    "component",
    "specimen",
    "contained",
    "referenceRange",
    "status",
    "medicationCodeableConcept",
    "medicationReference",
    "medication",
    "dosageInstruction",
    "dispenseRequest",
    "dosage",
    "authoredOn",
    "clinicalStatus",
    "verificationStatus",
    "recordedDate",
    "onsetPeriod",
    "identifier",
    "name",
    "gender",
    "birthDate",
    "id",
]


@settings(max_examples=200, deadline=None)
@given(fields=st.dictionaries(st.sampled_from(_FIELDS), _JSON, max_size=8))
def test_mappers_take_any_json_in_any_field_without_raising(fields: dict[str, Any]) -> None:
    """Oddly typed fields give nulls, never an exception (which would quarantine the row)."""
    from hyposcreen.adapters.fhir_labs import LAB_COLUMNS, ObservationMapper
    from hyposcreen.adapters.fhir_records import ConditionMapper, MedicationMapper, patient_row

    observations = ObservationMapper(RULES, {})
    for row in observations.rows({"resourceType": "Observation", **fields}):
        assert len(row) == len(LAB_COLUMNS)
    medications = MedicationMapper(RULES, {})
    for kind in fhir.TABLE_TYPES["medications"]:
        assert len(medications.row({"resourceType": kind, **fields})) == 9
    assert len(ConditionMapper(RULES).row({"resourceType": "Condition", **fields})) == 7
    assert len(patient_row({"resourceType": "Patient", **fields})) == 5
