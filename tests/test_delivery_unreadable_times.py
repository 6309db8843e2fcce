"""Two systems' extracts concatenated: a third of the lab rows write their collection time as
`20.11.2026 06:10` (no `datetime_formats` in a site mapping). Those rows are quarantined
`missing_key` as the spec says, and the night says it is not quiet: exit 4 and a warning naming
the key columns and example rows as `file:row` (quarantine_warnings, rules.yaml
`warnings: max_missing_key_share`)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from hyposcreen.cli import main

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"
DAY = "2026-11-20"


def test_a_third_of_the_collection_times_unreadable_is_not_a_quiet_night(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "delivery"
    shutil.copytree(SAMPLE, folder)
    labs = pd.read_csv(folder / "labs.csv", dtype=str, keep_default_na=False)
    times = pd.to_datetime(labs["specimen_time"], format="ISO8601", errors="coerce")
    other_system = (labs.index % 3 == 0) & times.notna()
    labs.loc[other_system, "specimen_time"] = times[other_system].dt.strftime("%d.%m.%Y %H:%M")
    labs.to_csv(folder / "labs.csv", index=False)
    out = tmp_path / "out"
    status = main(
        ["run", "--no-flow", "--input", str(folder), "--out", str(out), "--window-start", DAY]
    )
    err = capsys.readouterr().err
    manifest = json.loads((out / DAY / "run_manifest.json").read_text())
    assert manifest["reconciliation"]["labs"]["reasons"]["quarantined"]["missing_key"] >= 50
    assert status == 4, err
    assert any(
        "specimen_time" in w["message"] and "labs.csv:" in w["message"]
        for w in manifest["warnings"]
    )
