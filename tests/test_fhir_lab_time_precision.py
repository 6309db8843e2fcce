"""A FHIR lab's `effectiveDateTime` without a time of day (`2026-11-20`, `2026-11`) is no
specimen time: it cannot say which glucose lies within ±60 min, nor which sodium came 14 h
later. Read as midnight, a day-only 118 made a severe case with an over-rapid correction; it is
quarantined `missing_key` with its text instead, and the night warns of unreadable times."""

from __future__ import annotations

from pathlib import Path

import pytest

from fhir_generators import listed, observation, quantity, quarantined, rows, run, write_ndjson

SODIUM = ("2951-2", "Sodium")


def sodium(oid: str, patient: str, time: str, value: float) -> dict:
    return observation(
        oid, f"Patient/{patient}", *SODIUM, time, valueQuantity=quantity(value, "mmol/L")
    )


def test_a_lab_dated_only_to_the_day_or_month_is_no_specimen_time(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    resources = [
        sodium("a1", "A", "2026-11-20", 118),  # day only: not 00:00
        sodium("a2", "A", "2026-11-20T14:00:00Z", 131),
        sodium("b1", "B", "2026-11", 121),  # month only: not 1 November
        sodium("c1", "C", "2026-11-20T09:00:00+00:00", 119),  # a time: read as ever
    ]
    resources += [sodium(f"n{h}", f"N{h}", f"2026-11-20T{h:02d}:30:00Z", 140) for h in range(9)]
    write_ndjson(tmp_path / "export" / "Observation.ndjson", resources)
    status, err = run(capsys, tmp_path / "export", tmp_path / "out")
    assert status == 4, err
    assert listed(tmp_path / "out") == {"C": ("1", "119.0", "")}
    assert quarantined(tmp_path / "out") == [
        ("labs", "Observation.ndjson", "1", "missing_key"),
        ("labs", "Observation.ndjson", "3", "missing_key"),
    ]
    texts = {r["source_row"]: r["original"] for r in rows(tmp_path / "out", "quarantine.csv")}
    assert "2026-11-20" in texts["1"] and "2026-11" in texts["3"]
    assert "have a specimen_time that does not read" in err
