"""A key time that holds only white space other than the ASCII space (a no-break space
U+00A0, as Excel and Windows exports write a blank cell, or a tab) is empty, not "a time that
is there but does not read": the quarantine's JSON writes it as an escape (`"\\u00a0"`,
`"\\t"`), which the unreadable-times check took for text. Four home medications whose start
is such a blank must be quarantined missing_key and counted as empty keys (4 of 33, far below
max_missing_key_share), not warn unreadable_times (exit 4) every night, as the same four
blanks written with spaces do not."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from hyposcreen.cli import main

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"
DAY = "2026-11-20"
LISTED = ("Furosemide", "Hydrochlorothiazide", "Sertraline")


def blank_starts(tmp_path: Path, blank: str) -> Path:
    """The sample with the start of four active listed medications set to `blank`."""
    folder = tmp_path / "delivery"
    shutil.copytree(SAMPLE, folder)
    meds = pd.read_csv(folder / "medications.csv", dtype=str, keep_default_na=False)
    chosen = meds.index[meds["drug_name"].str.startswith(LISTED) & (meds["status"] == "active")]
    assert len(chosen) >= 4
    meds.loc[chosen[:4], "start_time"] = blank
    meds.to_csv(folder / "medications.csv", index=False)
    return folder


@pytest.mark.parametrize("blank", ["   ", "\u00a0", "\t", "\u00a0 \u00a0"])
def test_a_few_starts_written_blank_are_quarantined_without_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], blank: str
) -> None:
    out = tmp_path / "out"
    args = ["run", "--no-flow", "--input", str(blank_starts(tmp_path, blank)), "--out", str(out)]
    status = main([*args, "--window-start", DAY])
    err = capsys.readouterr().err
    manifest = json.loads((out / DAY / "run_manifest.json").read_text("utf-8"))
    assert manifest["reconciliation"]["medications"]["reasons"]["quarantined"]["missing_key"] == 4
    assert status == 0, err
    assert "unreadable_times" not in json.dumps(manifest["warnings"])


def test_a_start_that_is_there_but_does_not_read_still_warns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the same four rows with a time the mapping does not declare: 4 of 30 rows that matter
    out = tmp_path / "out"
    folder = blank_starts(tmp_path, "\u00a012.05.2026 09:00")
    status = main(
        ["run", "--no-flow", "--input", str(folder), "--out", str(out), "--window-start", DAY]
    )
    err = capsys.readouterr().err
    assert status == 4, err
    assert "4 of 30 medications row(s) (13%) have a start_time that does not read" in err
    assert "12.05.2026" not in err
