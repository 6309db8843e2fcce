"""A pharmacy export's MedicationDispense names a drug the patient takes: it is active from its
hand-over for its days' supply (plus spec §6's 7-day grace), or, without a supply, as a completed
record without an end (start + 30 days). Before, the medications table did not open dispenses at
all: a patient whose diuretic or SSRI came only as dispenses lost that risk factor at exit 0."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.fhir_generators import (
    listed,
    med_request,
    observation,
    quantity,
    rows,
    run,
    rxnorm,
    write_ndjson,
    write_unlisted_condition,
)

SUPPLY_DAYS = {"value": 30, "unit": "day", "system": "http://unitsofmeasure.org", "code": "d"}


def dispense(did: str, patient: str, drug: dict, status: str = "completed", **timing: object):
    return {
        "resourceType": "MedicationDispense",
        "id": did,
        "status": status,
        "subject": {"reference": f"Patient/{patient}"},
        "medicationCodeableConcept": drug,
        **timing,
    }


def test_dispenses_are_active_for_their_days_supply(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = tmp_path / "export"
    patients = ("D1", "D2", "D3", "D4", "D5")
    # every patient: one sodium of 130 (mild) on 2026-11-20 at 10:00 UTC, the index
    write_ndjson(
        export / "Observation.ndjson",
        [
            observation(f"o{p}", f"Patient/{p}", "2951-2", "Sodium", "2026-11-20T10:00:00Z",
                        valueQuantity=quantity(130, "mmol/L"))
            for p in patients
        ],
    )  # fmt: skip
    sertraline = rxnorm("312940", "sertraline 50 MG Oral Tablet")
    spironolactone = rxnorm("313096", "spironolactone 25 MG Oral Tablet")
    furosemide = rxnorm("310429", "furosemide 20 MG Oral Tablet")
    write_ndjson(
        export / "MedicationDispense.ndjson",
        [
            # D1: handed over 11-10 for 30 days -> until 12-10: active at 11-20 (ssri)
            dispense("d1", "D1", sertraline, whenHandedOver="2026-11-10T15:00:00Z",
                     daysSupply=SUPPLY_DAYS),
            # D2: 09-01 for 90 days (13 weeks = 91 days) -> until 12-01: active. Read as a
            # completed record without end it would end 09-01 + 30 = 10-01 and not count.
            dispense("d2", "D2", spironolactone, whenHandedOver="2026-09-01",
                     daysSupply={"value": 13, "unit": "weeks", "code": "wk"}),
            # D3: prepared 11-12, no supply, completed -> until 11-12 + 30 = 12-12: active
            dispense("d3", "D3", furosemide, whenPrepared="2026-11-12T09:00:00Z"),
            # D4: declined by the pharmacy: no drug given (not-done), never a risk factor
            dispense("d4", "D4", furosemide, status="declined",
                     whenPrepared="2026-11-12T09:00:00Z"),
            # D5: 09-01 for 30 days -> until 10-01, + 7 days grace = 10-08 < 11-20: inactive
            dispense("d5", "D5", furosemide, whenHandedOver="2026-09-01T09:00:00Z",
                     daysSupply=SUPPLY_DAYS),
        ],
    )  # fmt: skip
    # an unrelated order and diagnosis (metformin, acute sinusitis: no risk factor), so the
    # export holds every table, as an EHR's does: before, it then exited 0 listing no one
    metformin = rxnorm("861007", "metformin 500 MG Oral Tablet")
    write_ndjson(
        export / "MedicationRequest.ndjson",
        [med_request("r5", "Patient/D5", metformin, "2026-11-01")],
    )
    write_unlisted_condition(export, "Patient/D5", "c5")
    status, err = run(capsys, export, tmp_path / "out")
    assert status == 0, err
    # mild with one risk factor: routine (tier 3); D4 and D5 have none: not listed
    assert listed(tmp_path / "out") == {
        "D1": ("3", "130.0", "ssri"),
        "D2": ("3", "130.0", "potassium_sparing_diuretic"),
        "D3": ("3", "130.0", "loop_diuretic"),
    }
    evidence = {r["patient_id"]: r["evidence"] for r in rows(tmp_path / "out", "review_list.csv")}
    assert "start 2026-11-10, end 2026-12-10" in evidence["D1"]
    assert "start 2026-09-01, end 2026-12-01" in evidence["D2"]
