"""Differential check: the review list of generated boundary extracts against an independent
reading of SCREENING_SPEC.md (spec_fuzz_oracle), on fixed seeds.

Each extract (spec_fuzz_generate) holds patients whose results, drugs and diagnoses sit at and
around the spec's thresholds and time edges, in UTC and on the nights the clocks change in
Europe/Berlin and America/New_York, under both profiles and both glucose factors. The real CLI
screens it (no state dir); every listed patient, tier, severity, corrected index sodium, risk
factor, over-correction, delta_48h, latest sodium, possibly spurious index, index time, count of
low results, correction risk and missing workup must agree with the oracle.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from hyposcreen.cli import main
from spec_fuzz_compare import disagreements
from spec_fuzz_generate import write_extract
from spec_fuzz_oracle import screen

# (seed, site zone, window day, profile, glucose factor): the night the clocks go forward in
# Berlin and the night they go back in New York, both profiles and both factors. Two runs of
# many patients each, since each run costs about 1 s of CPU (some 10 s on a loaded machine)
CASES = [
    (41, "Europe/Berlin", "2026-03-29", "seed", "2.4"),
    (32, "America/New_York", "2026-11-01", "eu2014", "1.6"),
]
PATIENTS = 50


@pytest.mark.slow
@pytest.mark.parametrize(("seed", "tz", "day", "profile", "factor"), CASES)
def test_review_list_agrees_with_the_spec_oracle(
    seed: int,
    tz: str,
    day: str,
    profile: str,
    factor: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("HYPOSCREEN_STATE_DIR", raising=False)
    settings = write_extract(
        tmp_path, seed, PATIENTS, tz=tz, window_start=day, profile=profile, factor=factor
    )
    argv = ["run", "--no-flow", "--input", str(tmp_path / "input"), "--out", str(tmp_path / "out"),
            "--window-start", day, "--profile", profile, "--glucose-factor", factor]  # fmt: skip
    if settings["mapping"]:
        argv += ["--mapping", str(settings["mapping"])]
    assert main(argv) in (0, 4)  # 4: a warning such as unrecognised lab names, by design here
    (review,) = (tmp_path / "out").glob("*/review_list.csv")
    with review.open(newline="") as handle:
        listed = {row["patient_id"]: row for row in csv.DictReader(handle)}
    expected = screen(tmp_path / "input", day, tz, profile, factor)
    assert len(expected) >= 5  # the seeds list enough patients for the check to mean something
    assert disagreements(expected, listed) == []
