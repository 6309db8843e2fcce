"""The medications' contract `end_time not before start_time` on the night Europe/Berlin's
clocks go back (25 Oct 2026, 01:00Z: 03:00 CEST -> 02:00 CET; the wall times 02:00-02:59
happen at 00:00-00:59Z and again at 01:00-01:59Z).

A medication written with offsets, started at 02:40+02:00 (00:40Z) and stopped at 02:20+01:00
(01:20Z), ran for 40 minutes; on the wall its end is before its start, and the contract
quarantined it (its loop diuretic lost to the case). One started at 02:40+01:00 (01:40Z) and
stopped at 02:50+02:00 (00:50Z) ends before it starts, though not on the wall: it passed. The
contract compares the instants, in every runner."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest

from hyposcreen.cli import main
from hyposcreen.validate import worker_client

LABS = """patient_id,specimen_id,specimen_time,loinc,value_raw,unit
P1,S1,2026-10-25T02:30:00+01:00,2951-2,125,mmol/L
P2,S2,2026-10-25T02:30:00+01:00,2951-2,125,mmol/L
P3,S3,2026-10-25T02:30:00+01:00,2951-2,125,mmol/L
"""
MEDICATIONS = """patient_id,drug_name,start_time,end_time
P1,Furosemide 40mg,2026-10-25T02:40:00+02:00,2026-10-25T02:20:00+01:00
P2,Furosemide 40mg,2026-10-25T02:40:00+01:00,2026-10-25T02:50:00+02:00
P3,Furosemide 40mg,2026-10-20T08:00:00,2026-10-19T08:00:00
"""


def _delivery(tmp_path: Path) -> tuple[Path, Path]:
    extract = tmp_path / "extract"
    extract.mkdir()
    (extract / "labs.csv").write_text(LABS, encoding="utf-8")
    (extract / "medications.csv").write_text(MEDICATIONS, encoding="utf-8")
    (extract / "diagnoses.csv").write_text(
        "patient_id,code,code_system,recorded_time\nP9,I10,ICD-10-CM,2026-10-01T00:00:00\n",
        encoding="utf-8",
    )
    mapping = tmp_path / "site.yaml"
    mapping.write_text("timezone: Europe/Berlin\n", encoding="utf-8")
    return extract, mapping


@pytest.fixture(autouse=True)
def _no_worker_left() -> Iterator[None]:
    worker_client.stop()
    worker_client.allow("off")
    yield
    worker_client.stop()
    worker_client.allow("off")


@pytest.mark.parametrize(
    ("runner", "warm_up"),
    [
        (["--window-start", "2026-10-25"], "0"),
        (["--window-start", "2026-10-25", "--partitions", "2"], "0"),
        (["--backfill", "2026-10-25", "2026-10-26"], "0"),
        (["--window-start", "2026-10-25"], "1"),  # validated by the contracts worker
    ],
    ids=["in-process", "partitioned", "backfill", "worker"],
)
def test_end_before_start_is_judged_on_instants(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, runner: list[str], warm_up: str
) -> None:
    monkeypatch.setenv("HYPOSCREEN_GX_WARM_UP", warm_up)
    extract, mapping = _delivery(tmp_path)
    out = tmp_path / "out"
    argv = ["run", "--no-flow", "--input", str(extract), "--out", str(out)]
    assert main([*argv, "--mapping", str(mapping), *runner]) in (0, 4)
    worker = worker_client.current()
    assert (worker is not None and worker.answered > 0) == (warm_up == "1")
    night = out / "2026-10-25"
    with (night / "quarantine.csv").open(newline="", encoding="utf-8") as handle:
        quarantined = [
            (row["table"], row["source_row"], row["reason"].split(":")[0])
            for row in csv.DictReader(handle)
        ]
    assert quarantined == [
        ("medications", "3", "end_before_start"),  # P2: 01:40Z -> 00:50Z
        ("medications", "4", "end_before_start"),  # P3: a day before, no repeated hour
    ]
    with (night / "review_list.csv").open(newline="", encoding="utf-8") as handle:
        listed = {row["patient_id"]: row["risk_factors"] for row in csv.DictReader(handle)}
    assert listed == {"P1": "loop_diuretic"}  # 00:40Z -> 01:20Z, before the 01:30Z sodium


@pytest.mark.parametrize("partitions", ["2", "3", "4", "5"])
def test_a_part_without_repeated_hours_beside_one_with_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, partitions: str
) -> None:
    """The medications in two parts, the repeated hour's times in the second only: the
    partitions holding none of its rows have no mark of them, and the contracts gather the
    marks of those that do (one partition's count stopped the night, another's compared wall
    times)."""
    monkeypatch.setenv("HYPOSCREEN_GX_WARM_UP", "0")
    extract, mapping = _delivery(tmp_path)
    lines = MEDICATIONS.splitlines()
    (extract / "medications.csv").unlink()
    parts = extract / "medications"
    parts.mkdir()
    others = [f"Q{n},Furosemide 40mg,2026-10-20T08:00:00," for n in range(8)]
    (parts / "a.csv").write_text("\n".join([lines[0], lines[3], *others, ""]), encoding="utf-8")
    (parts / "b.csv").write_text("\n".join([*lines[:3], ""]), encoding="utf-8")
    out = tmp_path / "out"
    argv = ["run", "--no-flow", "--input", str(extract), "--out", str(out)]
    argv += ["--mapping", str(mapping), "--window-start", "2026-10-25", "--partitions", partitions]
    assert main(argv) in (0, 4)
    with (out / "2026-10-25" / "quarantine.csv").open(newline="", encoding="utf-8") as handle:
        quarantined = [
            (row["source_file"], row["source_row"], row["reason"].split(":")[0])
            for row in csv.DictReader(handle)
        ]
    assert quarantined == [("a.csv", "2", "end_before_start"), ("b.csv", "3", "end_before_start")]
    with (out / "2026-10-25" / "review_list.csv").open(newline="", encoding="utf-8") as handle:
        listed = {row["patient_id"]: row["risk_factors"] for row in csv.DictReader(handle)}
    assert listed == {"P1": "loop_diuretic"}
