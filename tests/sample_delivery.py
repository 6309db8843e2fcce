"""The committed sample as a delivery folder, screened for its night with the real CLI: shared
by the tests that damage a copy of it and compare the outcome with the sample's own."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from hyposcreen.cli import main

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"
DAY = "2026-11-20"


def screen(folder: Path, *options: str) -> tuple[int, Path]:
    """Exit status and night folder of screening `folder` (`--no-flow`, the night of DAY; with
    the run's further `options`, e.g. `--partitions 3`)."""
    out = folder.parent / f"{folder.name}_out"
    night = ["--out", str(out), "--window-start", DAY]
    status = main(["run", "--no-flow", "--input", str(folder), *night, *options])
    return status, out / DAY


def assert_screens_as_the_sample(
    folder: Path, tmp_path: Path, same_quarantine_file: bool = True
) -> None:
    """`folder` screens (exit 0) to the sample's review list (run_id aside), its quarantine.csv
    byte for byte (unless `same_quarantine_file` is False: a delivery laid out in other files
    names other files and rows) and its reconciliation."""
    status, night = screen(folder)
    expected_status, expected = screen(shutil.copytree(SAMPLE, tmp_path / "sample"))
    assert status == expected_status == 0
    review = pd.read_csv(night / "review_list.csv", dtype=str).drop(columns=["run_id"])
    want = pd.read_csv(expected / "review_list.csv", dtype=str).drop(columns=["run_id"])
    pd.testing.assert_frame_equal(review, want)
    if same_quarantine_file:
        quarantine = (night / "quarantine.csv").read_bytes()
        assert quarantine == (expected / "quarantine.csv").read_bytes()
    counts = json.loads((night / "run_manifest.json").read_text())["reconciliation"]
    assert counts == json.loads((expected / "run_manifest.json").read_text())["reconciliation"]


def rewrite_patient_ids(
    folder: Path, table: str, rewrite: Callable[[pd.Series], pd.Series]
) -> None:
    """The sample copy `folder`'s `table`.csv with its patient ids as `rewrite` gives them (a
    row without a patient stays without one; every other cell as it was)."""
    frame = pd.read_csv(folder / f"{table}.csv", dtype=str, keep_default_na=False)
    named = frame["patient_id"] != ""
    frame.loc[named, "patient_id"] = rewrite(frame.loc[named, "patient_id"])
    frame.to_csv(folder / f"{table}.csv", index=False)


def screen_after_read(folder: Path, after_read: Callable[[], object] | None = None) -> object:
    """The sample's night screened in process from `folder` (outputs beside it, in `out/`),
    calling `after_read` once the read stage is done (a sender still writing, say)."""
    from hyposcreen.config import RunSettings, Window
    from hyposcreen.context import prepare
    from hyposcreen.runners.in_process import run_recipe

    night = Window(pd.Timestamp(DAY), pd.Timestamp(DAY) + pd.Timedelta(days=1))
    settings = RunSettings(input_dir=folder, out_dir=folder.parent / "out", window=night)

    def observe(stage: str, _output: object) -> None:
        if stage == "read" and after_read is not None:
            after_read()

    return run_recipe(prepare(settings), observe=observe)
