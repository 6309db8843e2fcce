"""A laboratory writing a unit the rules do not accept for its analyte: a German system's
`mval/l` for sodium (the old name of mEq/L), `mmol/litre`. Each such row is quarantined
`bad_unit` (spec §3), and that is right for a row; but when a whole analyte arrives so, most
of the night's sodium results are unseen and the short list passed as a quiet night (exit 0,
no warning). More than rules.yaml `warnings: max_bad_unit_share` (5 %) of the lab rows that
matter quarantined `bad_unit`, judged on at least `min_rows_for_share` rows, warns
(`unknown_units`, exit 4) with the count, the share and `file:row` examples, never a value or
a unit text (coverage.csv names each analyte: unit). One stray unit, as in the sample, does not.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd

from hyposcreen.cli import main

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"
DAY = "2026-11-20"


def night(tmp_path: Path, sodium_unit: str | None) -> tuple[int, dict, str]:
    """Exit status, manifest and coverage.csv of the sample with its 2951-2 sodium results
    written in `sodium_unit` (None: the sample as it is)."""
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    if sodium_unit is not None:
        labs = pd.read_csv(folder / "labs.csv", dtype=str, keep_default_na=False)
        labs.loc[labs["loinc"] == "2951-2", "unit"] = sodium_unit
        labs.to_csv(folder / "labs.csv", index=False)
    out = tmp_path / "out"
    night_of = ["--out", str(out), "--window-start", DAY]
    status = main(["run", "--no-flow", "--input", str(folder), *night_of])
    manifest = json.loads((out / DAY / "run_manifest.json").read_text("utf-8"))
    return status, manifest, (out / DAY / "coverage.csv").read_text("utf-8")


def test_sodium_in_a_unit_the_rules_do_not_know_warns(tmp_path: Path) -> None:
    status, manifest, coverage = night(tmp_path, "mval/l")
    labs = manifest["reconciliation"]["labs"]
    unknown = labs["reasons"]["quarantined"]["bad_unit"]
    assert unknown > 100  # nearly every sodium result of the night
    assert status == 4
    (warning,) = [w for w in manifest["warnings"] if w["code"] == "unknown_units"]
    matter = labs["rows_in"] - labs["not_relevant"]
    assert warning["message"].startswith(
        f"{unknown} of {matter} lab row(s) ({unknown / matter:.0%}) carry a unit the rules do "
        "not accept for their analyte (e.g. labs.csv:2, labs.csv:3, labs.csv:4"
    )
    assert "mval" not in json.dumps(manifest)  # the unit text stays in coverage.csv
    assert "sodium: mval/l" in coverage


def test_the_sample_s_one_stray_unit_does_not_warn(tmp_path: Path) -> None:
    status, manifest, _ = night(tmp_path, None)
    assert manifest["reconciliation"]["labs"]["reasons"]["quarantined"]["bad_unit"] == 1
    assert status == 0
    assert "unknown_units" not in [w["code"] for w in manifest["warnings"]]
