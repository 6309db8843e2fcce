"""A backfill whose later night stops (exit 3) still tells the warnings of the nights it
published before: those nights' lists are on disk, and what makes them untrustworthy must not
be lost behind the later night's error."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hyposcreen.cli import main
from sample_delivery import SAMPLE


@pytest.mark.parametrize("runner", [["--no-flow"], []], ids=["plain", "flow"])
def test_a_failed_later_night_keeps_the_earlier_nights_warnings(
    runner: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
) -> None:
    if not runner:
        request.getfixturevalue("prefect_harness")  # the flow's own loop, on a real server
    folder = tmp_path / "delivery"
    shutil.copytree(SAMPLE, folder)
    labs = pd.read_csv(folder / "labs.csv", dtype=str, keep_default_na=False)
    sodium = labs.index[
        (labs["loinc"] == "2951-2") & labs["specimen_time"].str.startswith("2026-11-20")
    ]
    # 11-20: a third of its sodium results unreadable (a warning, the night is screened)
    labs.loc[sodium[np.arange(len(sodium)) % 3 == 0], "value_raw"] = "cancelled"
    # 11-21: the same specimens a day later, every sodium unreadable (a broken delivery)
    later = labs.loc[sodium].copy()
    later["specimen_time"] = (
        pd.to_datetime(later["specimen_time"]) + pd.Timedelta(days=1)
    ).dt.strftime("%Y-%m-%dT%H:%M:%S")
    later["result_time"] = ""
    later["value_raw"] = "cancelled"
    pd.concat([labs, later], ignore_index=True).to_csv(folder / "labs.csv", index=False)
    out = tmp_path / "out"
    status = main(
        ["run", *runner, "--input", str(folder), "--out", str(out),
         "--backfill", "2026-11-20", "2026-11-21"]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert status == 3, err
    assert (out / "2026-11-20" / "review_list.csv").exists()
    warned = [line for line in err.splitlines() if line.startswith("hyposcreen: warning:")]
    assert any("[2026-11-20]" in line and "non-numeric sodium" in line for line in warned), err
    assert err.index("[2026-11-20]") < err.index("hyposcreen: error:")
