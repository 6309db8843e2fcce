"""A Condition that says when it abated but carries no clinicalStatus (an encounter diagnosis
of an EHR export) is resolved: FHIR R4 allows an abated condition only the statuses inactive,
resolved or remission (invariant con-4), each ignored by spec §6. Read as active, a heart
failure resolved in 2021 made a risk factor in 2026.

By hand: sodium 128 at 2026-11-20 08:00 (UTC). A: heart failure from 2020, abated 2021, no
status: ignored, no risk factor, not listed. B: heart failure from 2020, no abatement, no
status: active, listed tier 3 (mild, one factor). C: abatementBoolean false: active too."""

from __future__ import annotations

from pathlib import Path

import pytest

from fhir_generators import ICD10, listed, observation, quantity, run, write_ndjson


def _heart_failure(cid: str, patient: str, **abatement: object) -> dict:
    return {
        "resourceType": "Condition",
        "id": cid,
        "code": {"coding": [{"system": ICD10, "code": "I50.9"}]},
        "subject": {"reference": f"Patient/{patient}"},
        "onsetDateTime": "2020-03-01",
        **abatement,
    }


def test_an_abated_condition_without_a_status_is_resolved(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "export"
    sodium = [
        observation(f"o{p}", f"Patient/{p}", "2951-2", "Sodium", "2026-11-20T08:00:00Z",
                    valueQuantity=quantity(128, "mmol/L"))
        for p in ("A", "B", "C")
    ]  # fmt: skip
    write_ndjson(folder / "Observation.ndjson", sodium)
    conditions = [
        _heart_failure("c1", "A", abatementDateTime="2021-06-01"),
        _heart_failure("c2", "B"),
        _heart_failure("c3", "C", abatementBoolean=False),
    ]
    write_ndjson(folder / "Condition.ndjson", conditions)
    status, err = run(capsys, folder, tmp_path / "out")
    assert status in (0, 4), err
    assert listed(tmp_path / "out") == {
        "B": ("3", "128.0", "heart_failure"),
        "C": ("3", "128.0", "heart_failure"),
    }
