"""`--source fhir`: a time written as a JSON number (`2180`, `1700000000`) where FHIR writes a
date or dateTime as a string is no time: missing, as an object there is, never read as a year
or an epoch. Observations, Encounter starts dating Conditions, medication periods, Patients."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from tests.helpers import RULES, run_cli

from fhir_export import RXNORM, T, condition, med_request, obs, read, write_export
from hyposcreen.clean import clean_labs


@pytest.mark.parametrize("written", [2180, 2026.5])
def test_an_observation_time_written_as_a_number_is_missing_not_a_year(
    tmp_path: Path, written: float
) -> None:
    write_export(
        tmp_path,
        {
            "Observation.ndjson": [
                obs(effectiveDateTime=written),
                obs(effectiveDateTime=None, effectivePeriod={"start": written}),
                obs(effectiveDateTime=None, issued=written),
                obs(effectiveDateTime="2180"),  # a year as FHIR writes one: still a year
            ]
        },
    )
    table = read(tmp_path, "labs")
    assert table.not_relevant.get("outside_window", 0) == 1
    cleaned = clean_labs(table.frame, RULES)
    assert list(cleaned["reason"]) == ["missing_key"] * 3
    assert cleaned["specimen_time"].isna().all()


def test_a_number_for_an_encounter_start_leaves_its_condition_undated(tmp_path: Path) -> None:
    write_export(
        tmp_path,
        {
            "Encounter.ndjson": [
                {"resourceType": "Encounter", "id": "E1", "period": {"start": 2180}},
                {"resourceType": "Encounter", "id": "E2", "period": {"start": "2026-01-05"}},
            ],
            "Condition.ndjson": [
                condition(
                    {"system": "http://snomed.info/sct", "code": "44054006"},
                    recordedDate=None,
                    encounter={"reference": f"Encounter/{encounter}"},
                )
                for encounter in ("E1", "E2")
            ]
            + [
                condition(
                    {"system": "http://snomed.info/sct", "code": "44054006"},
                    recordedDate=None,
                    onsetPeriod={"start": 1700000000},
                )
            ],
        },
    )
    recorded = read(tmp_path, "diagnoses").frame["recorded_time"]
    assert recorded.isna().tolist() == [True, False, True]


def test_a_number_for_a_medication_period_or_birth_date_is_missing(tmp_path: Path) -> None:
    drug = {"medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "310798"}]}}
    write_export(
        tmp_path,
        {
            "MedicationRequest.ndjson": [
                med_request(
                    **drug,
                    dosageInstruction=[{"timing": {"repeat": {"boundsPeriod": {"start": 2180}}}}],
                    dispenseRequest={"validityPeriod": {"start": 2180, "end": 2181}},
                    authoredOn=T,
                ),
            ],
            "MedicationStatement.ndjson": [
                {
                    "resourceType": "MedicationStatement",
                    "status": "active",
                    "subject": {"reference": "Patient/P1"},
                    "effectivePeriod": {"start": 2180},
                    **drug,
                }
            ],
            "Patient.ndjson": [{"resourceType": "Patient", "id": "P1", "birthDate": 1950}],
        },
    )
    medications = read(tmp_path, "medications").frame
    # the order falls back to when it was written; the statement has no start
    assert medications["start_time"].tolist()[0] == pd.Timestamp("2026-11-20T08:00:00")
    assert medications["start_time"].isna().tolist() == [False, True]
    assert medications["end_time"].isna().all()
    assert read(tmp_path, "patients").frame["birth_date"].isna().all()


def test_cli_quarantines_a_numeric_time_as_a_missing_key_not_a_lab_of_year_2180(
    tmp_path: Path,
) -> None:
    export = write_export(
        tmp_path / "export",
        {"Observation.ndjson": [obs(), obs(effectiveDateTime=2180, id="late")]},
    )
    out = tmp_path / "out"
    done = run_cli(
        "run", "--no-flow", "--source", "fhir", "--input", str(export),
        "--window-start", "2026-11-20", "--window-end", "2026-11-21", "--out", str(out),
    )  # fmt: skip
    assert done.returncode == 4, done.stderr
    assert "Traceback" not in done.stderr
    quarantine = pd.read_csv(out / "2026-11-20" / "quarantine.csv", dtype=str)
    assert quarantine["reason"].tolist() == ["missing_key"]
