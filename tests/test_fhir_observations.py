"""`--source fhir`, Observations: values, units, comparators, times, statuses, specimens,
references, codes without LOINC, panels, skipped lines and mixed files, each mapping on
hand-written resources."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pandas as pd
from tests.helpers import RULES, WINDOW

from fhir_export import LOINC, T, balanced, condition, med_request, obs, read, write_export
from hyposcreen.adapters import fhir
from hyposcreen.clean import USED, clean_diagnoses, clean_labs, clean_medications
from hyposcreen.config import SiteMapping
from hyposcreen.ingest.tabular import sha256_of

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
    # a contained Specimen's id is local to its Observation: it names no specimen
    assert list(kept["specimen_id"].fillna("")) == ["S1", "", "", "S9", "S2"]
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
    # the two CBC lines are skipped unparsed; a line that is no JSON object is quarantined
    # whether or not it holds a relevant code (its code may be in the part cut off)
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
    assert table.not_relevant == {"unknown_loinc": 2}
    counts = table.source_counts["Observation"]
    assert counts["read"] == 5 and counts["mapped"] == 1 and counts["unmapped"] == 4
    assert counts["unmapped_prefilter_no_relevant_code"] == 2
    cleaned = clean_labs(table.frame, RULES)
    bad = cleaned.loc[cleaned["reason"] == "malformed_row"]
    assert list(bad["source_file"]) == ["Observation.000.ndjson", "Observation.001.ndjson"]
    assert list(bad["source_row"]) == ["2", "1"]
    assert "oops" in bad["malformed_text"].iloc[1]
    assert balanced(table, cleaned)


def test_a_last_line_cut_before_its_code_is_quarantined_not_set_aside(tmp_path: Path) -> None:
    # the file ends inside its third resource, after a nested object's `}` and before `code`:
    # no relevant code is seen in it, yet it is no JSON object, so it is malformed_row
    write_export(tmp_path, {"Observation.ndjson": [obs(), obs(code="718-7")]})
    cut = b'{"resourceType": "Observation", "status": "final", "meta": {"versionId": "1"}'
    with (tmp_path / "Observation.ndjson").open("ab") as handle:
        handle.write(cut)
    table = read(tmp_path, "labs")
    assert table.rows_in == 3
    assert table.not_relevant == {"unknown_loinc": 1}
    cleaned = clean_labs(table.frame, RULES)
    bad = cleaned.loc[cleaned["reason"] == "malformed_row"]
    assert list(bad["source_row"]) == ["3"]
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
