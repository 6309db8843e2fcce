"""A MedicationRequest whose course is given as a length (`timing.repeat.boundsDuration`:
"for 5 days") rather than a period ends that long after it starts. Read as having no end, a
five-day furosemide course in October was ongoing in November.

By hand (spec §6), index sodium 128 at 2026-11-20 08:00 (UTC): A's furosemide from 2026-10-01
for 5 days ends 10-06, active to 10-13 with the grace: no risk factor, not listed. B's from
2026-11-01 for 4 weeks ends 11-29: active, loop diuretic, listed tier 3 (mild, one factor)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fhir_generators import listed, med_request, observation, quantity, run, rxnorm, write_ndjson

FUROSEMIDE = rxnorm("4603", "furosemide 40 MG Oral Tablet")


def _course(mid: str, patient: str, start: str, length: dict) -> dict:
    timing = {"repeat": {"frequency": 1, "period": 1, "boundsDuration": length}}
    return med_request(
        mid, f"Patient/{patient}", FUROSEMIDE, start, dosageInstruction=[{"timing": timing}]
    )


def test_a_course_given_as_a_length_ends_after_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "export"
    sodium = [
        observation(f"o{p}", f"Patient/{p}", "2951-2", "Sodium", "2026-11-20T08:00:00Z",
                    valueQuantity=quantity(128, "mmol/L"))
        for p in ("A", "B")
    ]  # fmt: skip
    write_ndjson(folder / "Observation.ndjson", sodium)
    write_ndjson(
        folder / "MedicationRequest.ndjson",
        [
            _course("m1", "A", "2026-10-01T09:00:00Z", {"value": 5, "unit": "days", "code": "d"}),
            _course("m2", "B", "2026-11-01T09:00:00Z", {"value": 4, "unit": "weeks"}),
        ],
    )
    status, err = run(capsys, folder, tmp_path / "out")
    assert status in (0, 4), err
    assert listed(tmp_path / "out") == {"B": ("3", "128.0", "loop_diuretic")}
