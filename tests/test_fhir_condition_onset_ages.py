"""A Condition dated only by the age at onset (`onsetAge`, or `onsetRange.low`: no recordedDate,
no onset date, no encounter) is dated on the day its Patient's birthDate reached that age.
Before, it had no date: quarantined missing_key, and with few such rows the night exited 0, so
a patient with heart failure so written was not listed."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.fhir_generators import (
    condition,
    listed,
    med_request,
    observation,
    quantity,
    run,
    rxnorm,
    write_ndjson,
)

ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
YEARS = {"value": 60, "unit": "years", "system": "http://unitsofmeasure.org", "code": "a"}


def test_a_condition_dated_by_an_age_is_dated_from_the_birth_date(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = tmp_path / "export"
    write_ndjson(
        export / "Patient.ndjson",
        [
            {"resourceType": "Patient", "id": "A1", "birthDate": "1950-05-01"},
            {"resourceType": "Patient", "id": "A2", "birthDate": "1960-02-29"},
            {"resourceType": "Patient", "id": "A3", "birthDate": "2026-11-01"},
            {"resourceType": "Patient", "id": "A4"},
        ],
    )
    write_ndjson(
        export / "Observation.ndjson",
        [
            observation(f"o{p}", f"Patient/{p}", "2951-2", "Sodium", "2026-11-20T10:00:00Z",
                        valueQuantity=quantity(130, "mmol/L"))
            for p in ("A1", "A2", "A3", "A4")
        ],
    )  # fmt: skip
    write_ndjson(
        export / "Condition.ndjson",
        [
            # A1: heart failure at 60 years: 1950-05-01 + 60 a = 2010-05-01, before the index
            condition("c1", "Patient/A1", [{"system": ICD10, "code": "I50.9"}], onsetAge=YEARS),
            # A2: cirrhosis from 60 years (a range's low end): 2020-02-29 (a leap day)
            condition("c2", "Patient/A2", [{"system": ICD10, "code": "K74.60"}],
                      onsetRange={"low": YEARS, "high": {**YEARS, "value": 65}}),
            # A3: born 11-01, CKD at 30 days: 2026-12-01, after the index: not yet recorded
            condition("c3", "Patient/A3", [{"system": ICD10, "code": "N18.3"}],
                      onsetAge={"value": 30, "unit": "days", "code": "d"}),
            # A4: no birth date: the age dates nothing (missing_key, as before)
            condition("c4", "Patient/A4", [{"system": ICD10, "code": "I50.9"}], onsetAge=YEARS),
        ],
    )  # fmt: skip
    metformin = rxnorm("861007", "metformin 500 MG Oral Tablet")  # no risk factor
    write_ndjson(
        export / "MedicationRequest.ndjson",
        [med_request("m1", "Patient/A1", metformin, "2026-11-01")],
    )
    status, err = run(capsys, export, tmp_path / "out")
    assert status == 0, err
    # sodium 130: mild; one condition each: routine (tier 3)
    assert listed(tmp_path / "out") == {
        "A1": ("3", "130.0", "heart_failure"),
        "A2": ("3", "130.0", "cirrhosis"),
    }
