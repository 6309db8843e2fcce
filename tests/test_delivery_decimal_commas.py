"""A European export: `;` between fields and decimal commas in the results (`3,4`), delivered
without `csv: {decimal: ","}` in the site mapping. Sodium is reported in whole numbers, so its
non-numeric share stays at the sample's; every potassium, magnesium, calcium and glucose with a
decimal is quarantined `non_numeric` (the spec's rule), so the cases' co-factors and glucose
corrections are lost, and the night says so: exit 4, a warning that names the decimal commas
and the mapping key, with a count and example rows as `file:row`, never a value
(quarantine_warnings)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from hyposcreen.cli import main

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"
DAY = "2026-11-20"


def test_decimal_commas_without_the_mapping_key_are_not_a_quiet_night(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "delivery"
    shutil.copytree(SAMPLE, folder)
    labs = pd.read_csv(folder / "labs.csv", dtype=str, keep_default_na=False)
    other = ~labs["lab_name"].str.lower().eq("sodium")
    commas = other & labs["value_raw"].str.fullmatch(r"[<>]?\d+\.\d+")
    assert commas.sum() >= 10
    labs.loc[commas, "value_raw"] = labs.loc[commas, "value_raw"].str.replace(".", ",")
    labs.to_csv(folder / "labs.csv", index=False, sep=";")
    out = tmp_path / "out"
    status = main(
        ["run", "--no-flow", "--input", str(folder), "--out", str(out), "--window-start", DAY]
    )
    err = capsys.readouterr().err
    warnings = json.loads((out / DAY / "run_manifest.json").read_text())["warnings"]
    assert status == 4, err
    assert any("decimal" in w["message"] and "labs.csv:" in w["message"] for w in warnings)
