"""An Observation that gives no effective time of its own is dated by its Specimen's collection
(`collection.collectedDateTime`, else `collectedPeriod.start`: when the blood was drawn, what
spec §1's specimen_time means) before its `issued` (when the result was released). Before, it
was dated by `issued`: a sodium drawn at 23:00 and released the next morning fell into the next
night, and was missing from the night it was drawn."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.fhir_generators import (
    LOINC,
    listed,
    quantity,
    rows,
    run,
    write_ndjson,
    write_thiazide_orders,
    write_unlisted_condition,
)


def sodium(oid: str, patient: str, value: float, **extra: object) -> dict[str, object]:
    """A sodium released at 08:00 UTC on the 21st, with no effective time of its own."""
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "2951-2"}]},
        "subject": {"reference": f"Patient/{patient}"},
        "issued": "2026-11-21T08:00:00Z",
        "valueQuantity": quantity(value, "mmol/L"),
        **extra,
    }


def test_an_observation_without_a_time_is_dated_by_its_specimens_collection(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = tmp_path / "export"
    drawn = {"collectedDateTime": "2026-11-20T23:00:00Z"}
    write_ndjson(
        export / "Specimen.ndjson",
        [{"resourceType": "Specimen", "id": "s1", "type": {"text": "Serum"}, "collection": drawn}],
    )
    taken = {"start": "2026-11-20T22:00:00Z", "end": "2026-11-20T22:05:00Z"}
    tube = {"resourceType": "Specimen", "id": "t", "collection": {"collectedPeriod": taken}}
    write_ndjson(
        export / "Observation.ndjson",
        [
            # C1: drawn 11-20 23:00 (exported Specimen): in the night of the 20th (UTC site)
            sodium("o1", "C1", 127, specimen={"reference": "Specimen/s1"}),
            # C2: drawn 11-20 22:00 (a contained Specimen's collection period)
            sodium("o2", "C2", 126, contained=[tube], specimen={"reference": "#t"}),
            # C3: no specimen time: dated by issued, 11-21 08:00, after this night
            sodium("o3", "C3", 125),
        ],
    )
    write_thiazide_orders(export, ("C1", "C2", "C3"))
    write_unlisted_condition(export, "Patient/C1")
    status, err = run(capsys, export, tmp_path / "out")
    assert status == 0, err
    # mild (125 < Na <= 135) with one risk factor (thiazide): routine, tier 3
    assert listed(tmp_path / "out") == {
        "C1": ("3", "127.0", "thiazide_diuretic"),
        "C2": ("3", "126.0", "thiazide_diuretic"),
    }
    times = {r["patient_id"]: r["index_time"] for r in rows(tmp_path / "out", "review_list.csv")}
    assert times == {"C1": "2026-11-20T23:00:00", "C2": "2026-11-20T22:00:00"}
