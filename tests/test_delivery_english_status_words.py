"""Status words of US systems that are not FHIR codes: Epic writes an order stopped by a
clinician `Discontinued`, Cerner a result charted in error `In Error`, a problem list a
diagnosis excluded `Ruled out`. Each means a status of spec §3/§6 (stopped, entered in error,
refuted), as the German `abgesetzt` and `ausgeschlossen` already do.

By hand (spec §6): furosemide started 2026-06-01, `Discontinued`, no end: active until
start + 30 days (2026-07-01), not at the index 2026-11-20 08:00; heart failure `Ruled out` is
ignored; the sodium 118 `In Error` is quarantined `status`. What is left: sodium 128 at 09:00,
mild, no risk factor: not listed."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from bad_input_rows import DX_COLUMNS, dx, lab, med, to_csv, write
from cli_night import DAY, extract, run


def test_discontinued_in_error_and_ruled_out_are_statuses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labs = [lab("118", status="In Error"), lab("128", "2026-11-20T09:00:00")]
    meds = [med(start="2026-06-01T08:00:00", status="Discontinued")]
    folder = extract(tmp_path / "in", labs=labs, meds=meds)
    write(folder, "diagnoses.csv", to_csv([dx(status="Ruled out")], DX_COLUMNS))
    status, err = run(capsys, folder, tmp_path / "out")
    assert status == 0, err
    assert pd.read_csv(tmp_path / "out" / DAY / "review_list.csv").empty
    quarantine = pd.read_csv(tmp_path / "out" / DAY / "quarantine.csv")
    assert sorted(zip(quarantine["table"], quarantine["reason"], strict=True)) == [
        ("diagnoses", "status"),
        ("labs", "status"),
    ]
    coverage = (tmp_path / "out" / DAY / "coverage.csv").read_text().lower()
    assert "discontinued" not in coverage and "in error" not in coverage
