"""A '.' site whose laboratory system writes a glucose of 1050 mg/dL (a hyperosmolar state) as
`1,050`, with a thousands separator. The row is quarantined non_numeric (the spec's rule, as
before); but the decimal_commas warning took `1,050` for a decimal comma and told the site to
set csv: {decimal: ","}, which reads it as 1.05 mg/dL: a glucose the screen would then use to
correct that patient's sodium. A number in groups of three digits after a leading 1-9 is not
taken for a decimal comma; `3,4` and `0,125` still are. It warns as what it is, a number
written with a thousands separator (thousands_separators, exit 4): the glucose is not seen."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd

from hyposcreen.cli import main

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"
DAY = "2026-11-20"


def night(tmp_path: Path, glucose: str) -> dict:
    folder = tmp_path / "delivery"
    shutil.copytree(SAMPLE, folder)
    labs = pd.read_csv(folder / "labs.csv", dtype=str, keep_default_na=False)
    first_glucose = labs.index[labs["loinc"] == "2345-7"][0]
    labs.loc[first_glucose, "value_raw"] = glucose
    labs.to_csv(folder / "labs.csv", index=False)
    out = tmp_path / "out"
    main(["run", "--no-flow", "--input", str(folder), "--out", str(out), "--window-start", DAY])
    return json.loads((out / DAY / "run_manifest.json").read_text("utf-8"))


def test_a_thousands_separator_is_not_called_a_decimal_comma(tmp_path: Path) -> None:
    manifest = night(tmp_path, "1,050")
    quarantined = manifest["reconciliation"]["labs"]["reasons"]["quarantined"]
    assert quarantined["non_numeric"] == 8  # the sample's 7 and this one, as before
    assert "decimal_commas" not in [w["code"] for w in manifest["warnings"]]


def test_a_decimal_comma_still_warns(tmp_path: Path) -> None:
    manifest = night(tmp_path, "0,125")
    assert "decimal_commas" in [w["code"] for w in manifest["warnings"]]


def test_a_thousands_separator_warns_that_the_result_is_not_seen(tmp_path: Path) -> None:
    # the sample's first glucose (P007, 400 mg/dL) is on line 16 of labs.csv; written `1,050`
    # it no longer corrects its patient's sodium, and the night says so with the row only
    manifest = night(tmp_path, "1,050")
    (warning,) = [w for w in manifest["warnings"] if w["code"] == "thousands_separators"]
    assert warning["message"].startswith(
        "1 lab result(s) are numbers written with a thousands separator (e.g. labs.csv:16)"
    )
    assert "1,050" not in warning["message"]
    # a decimal comma is no thousands separator
    assert "thousands_separators" not in json.dumps(night(tmp_path / "b", "0,125")["warnings"])
