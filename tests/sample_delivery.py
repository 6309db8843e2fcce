"""The committed sample as a delivery folder, screened for its night with the real CLI: shared
by the tests that damage a copy of it and compare the outcome with the sample's own."""

from __future__ import annotations

from pathlib import Path

from hyposcreen.cli import main

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"
DAY = "2026-11-20"


def screen(folder: Path) -> tuple[int, Path]:
    """Exit status and night folder of screening `folder` (`--no-flow`, the night of DAY)."""
    out = folder.parent / f"{folder.name}_out"
    status = main(
        ["run", "--no-flow", "--input", str(folder), "--out", str(out), "--window-start", DAY]
    )
    return status, out / DAY
