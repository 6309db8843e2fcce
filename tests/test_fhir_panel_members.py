"""A panel Observation may hold its members as contained Observations (`hasMember: #na`), as
some HL7 v2 converters write a basic metabolic panel: the members are results of the patient,
completed from the panel where they are silent (patient, time), as a DiagnosticReport's
contained results are. Before, only a report's contained results were read: a panel's sodium
and glucose were dropped with no quarantine row and no warning, and the patient was not listed
at exit 0."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.fhir_generators import (
    LOINC,
    listed,
    manifest,
    observation,
    quantity,
    run,
    write_ndjson,
    write_thiazide_orders,
    write_unlisted_condition,
)

T = "2026-11-20T10:00:00Z"


def member(mid: str, loinc: str, value: float, unit: str) -> dict[str, object]:
    """A contained member: no subject, no time of its own (the panel's are meant)."""
    return {
        "resourceType": "Observation",
        "id": mid,
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": loinc}]},
        "valueQuantity": quantity(value, unit),
    }


def panel(pid: str, patient: str, status: str, *members: dict[str, object]) -> dict[str, object]:
    found = observation(pid, patient, "51990-0", "Basic metabolic panel - Blood", T)
    found["status"] = status
    found["contained"] = list(members)
    found["hasMember"] = [{"reference": f"#{m['id']}"} for m in members]
    return found


def test_the_contained_members_of_a_panel_are_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = tmp_path / "export"
    write_ndjson(
        export / "Observation.ndjson",
        [
            # K1: sodium 124 with glucose 300 mg/dL of the same panel:
            # corrected 124 + 1.6 * (300 - 100) / 100 = 127.2 -> mild (125 < 127.2 <= 135)
            panel(
                "bmp1",
                "Patient/K1",
                "final",
                member("na", "2951-2", 124, "mmol/L"),
                member("glu", "2345-7", 300, "mg/dL"),
            ),
            # K2: the panel was entered in error: its sodium of 118 is void, no case
            panel("bmp2", "Patient/K2", "entered-in-error", member("na", "2951-2", 118, "mmol/L")),
        ],
    )
    write_thiazide_orders(export, ("K1", "K2"))
    write_unlisted_condition(export, "Patient/K1")
    status, err = run(capsys, export, tmp_path / "out")
    assert status == 0, err
    # K1: mild with one risk factor (thiazide): routine, tier 3; K2's sodium is void
    assert listed(tmp_path / "out") == {"K1": ("3", "127.2", "thiazide_diuretic")}
    # 3 rows: the two members of bmp1, the voided member of bmp2 (the panels' own
    # codes are no result); every one accounted for
    run_manifest = manifest(tmp_path / "out")
    assert run_manifest["reconciled"] is True
    assert run_manifest["source_counts"]["labs"]["Observation"]["mapped"] == 2
    assert run_manifest["source_counts"]["labs"]["Observation"]["extra_rows"] == 1
