"""A contained resource's id is local to the resource holding it (FHIR R4 §2.3 "Contained
Resources"): generators write the same `#specimen` (or `#1`) into every Observation. It named
the specimen across Observations, so a patient's sodium and a glucose drawn twelve hours
apart, each with a contained Specimen `sp`, were "the same specimen" (spec §4 pairs the same
specimen first, else the nearest glucose within ±60 min): the glucose corrected the sodium and
the case left the list. A contained specimen names no specimen outside its Observation; a
reference to an exported Specimen still does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fhir_generators import (
    DAY,
    listed,
    med_request,
    observation,
    quantity,
    run,
    rxnorm,
    write_ndjson,
)

SERUM = {"text": "Serum"}


def _lab(oid: str, loinc: str, name: str, time: str, value: Any, specimen: str) -> dict:
    found = observation(oid, "Patient/P1", loinc, name, f"{DAY}T{time}Z", valueQuantity=value)
    found["specimen"] = {"reference": specimen}
    if specimen.startswith("#") or specimen == "sp":
        found["contained"] = [{"resourceType": "Specimen", "id": "sp", "type": SERUM}]
    return found


def _screen(tmp_path: Path, capsys: pytest.CaptureFixture[str], specimen: str) -> dict:
    folder = tmp_path / "export"
    write_ndjson(
        folder / "Observation.ndjson",
        [
            _lab("na", "2951-2", "Sodium", "20:00:00", quantity(131, "mmol/L"), specimen),
            _lab("glu", "2345-7", "Glucose", "08:00:00", quantity(400, "mg/dL"), specimen),
        ],
    )
    thiazide = rxnorm("5487", "hydrochlorothiazide")
    write_ndjson(
        folder / "MedicationRequest.ndjson",
        [med_request("m1", "Patient/P1", thiazide, "2026-05-01T09:00:00Z")],
    )
    write_ndjson(
        folder / "Specimen.ndjson", [{"resourceType": "Specimen", "id": "S9", "type": SERUM}]
    )
    status, _ = run(capsys, folder, tmp_path / "out")
    assert status in (0, 4)
    return listed(tmp_path / "out")


@pytest.mark.parametrize("specimen", ["#sp", "sp"])
def test_contained_specimens_of_two_observations_are_not_one_specimen(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], specimen: str
) -> None:
    # 12 h apart, no pair: corrected 131.0 ≤ 135, mild with a thiazide → listed.
    # Paired: 131 + 1.6 × (400 − 100) / 100 = 135.8 > 135, not a case.
    assert _screen(tmp_path, capsys, specimen)["P1"][1] == "131.0"


def test_an_exported_specimen_referenced_by_both_is_still_one_specimen(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "P1" not in _screen(tmp_path, capsys, "Specimen/S9")
