"""A small extract (one hyponatremic patient on furosemide with heart failure, unless told
otherwise) written in tmp_path and run through the real CLI without Prefect: its exit status,
stderr and manifest, for the tests of exit statuses and run warnings."""

from __future__ import annotations

import json
import resource
import subprocess
from pathlib import Path

import pytest

from bad_input_rows import (
    DX_COLUMNS,
    LAB_COLUMNS,
    MED_COLUMNS,
    dx,
    glucose,
    lab,
    med,
    to_csv,
    write,
)
from hyposcreen.cli import main

DAY = "2026-11-20"
# a file-size limit above what a run writes before its spill, below a spill file
SPILL_LIMIT = 256 * 1024


def extract(
    folder: Path,
    labs: list[dict[str, str]] | None = None,
    meds: list[dict[str, str]] | None = None,
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write(folder, "labs.csv", to_csv(labs if labs is not None else [lab(), glucose()], LAB_COLUMNS))
    write(folder, "medications.csv", to_csv(meds if meds is not None else [med()], MED_COLUMNS))
    write(folder, "diagnoses.csv", to_csv([dx()], DX_COLUMNS))
    return folder


def run(
    capsys: pytest.CaptureFixture[str], input_dir: Path, out: Path, *extra: str
) -> tuple[int, str]:
    argv = ["run", "--no-flow", "--input", str(input_dir), "--out", str(out)]
    if "--window-start" not in extra:
        argv += ["--window-start", DAY]
    status = main([*argv, *extra])
    return status, capsys.readouterr().err


def manifest(out: Path, day: str = DAY) -> dict:
    return json.loads((out / day / "run_manifest.json").read_text())


def codes(out: Path, day: str = DAY) -> list[str]:
    return [w["code"] for w in manifest(out, day)["warnings"]]


def spilling_extract(folder: Path) -> Path:
    """An extract whose partitioned run writes spill files larger than SPILL_LIMIT."""
    return extract(
        folder, labs=[lab(str(120 + i % 20), patient_id=f"P{i:05d}") for i in range(20_000)]
    )


def run_under_file_size_limit(
    command: list[str], limit: int, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`command` in a subprocess whose files may not grow past `limit` bytes (`ulimit -f`,
    systemd's LimitFSIZE=): a write the machine really stops, no mock."""

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        env=env,
        preexec_fn=limited,
        timeout=300,
        check=False,
    )
