"""Lab results written with a decimal comma in a shape the value parser reads as a number
once the comma is the decimal (as `csv: {decimal: ","}` reads them): padded with a no-break
space or a tab (escaped `\\u00a0`, `\\t` in the quarantine's JSON), censored with `≤`/`≥` or
`less than`, or signed. At a '.' site they are quarantined non_numeric, and the
decimal_commas warning (exit 4) must name them as it names `3,4`; a thousands separator
(`1,050`) and text with a unit (`3,4 mmol/L`) still do not warn."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from hyposcreen.cli import main

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"
DAY = "2026-11-20"


def potassium_written(tmp_path: Path, shape: str) -> Path:
    """The sample with three exact potassium results written as `shape` of the comma text."""
    folder = tmp_path / "delivery"
    shutil.copytree(SAMPLE, folder)
    labs = pd.read_csv(folder / "labs.csv", dtype=str, keep_default_na=False)
    exact = pd.to_numeric(labs["value_raw"], errors="coerce").notna()
    chosen = labs.index[(labs["lab_name"] == "Potassium") & exact][:3]
    assert len(chosen) == 3
    labs.loc[chosen, "value_raw"] = [
        shape.format(labs.at[row, "value_raw"].replace(".", ",")) for row in chosen
    ]
    labs.to_csv(folder / "labs.csv", index=False)
    (folder.parent / "chosen_rows.txt").write_text(" ".join(str(row + 2) for row in chosen))
    return folder


def screen(folder: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = main(
        ["run", "--no-flow", "--input", str(folder), "--out", str(out), "--window-start", DAY]
    )
    return status, capsys.readouterr().err


@pytest.mark.parametrize(
    "shape", ["{}", "\u00a0{}", "{}\u00a0", "\t{}", "\u2264{}", "less than {}", "+{}"]
)
def test_a_decimal_comma_result_the_comma_site_reads_warns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], shape: str
) -> None:
    folder = potassium_written(tmp_path, shape)
    status, err = screen(folder, tmp_path / "out", capsys)
    assert status == 4, err
    assert "3 lab result(s) are numbers written with a decimal comma" in err
    # and the site's own key does read them: no potassium left non_numeric
    mapping = tmp_path / "site_mapping.yaml"
    mapping.write_text('site: test\ncsv:\n  decimal: ","\n', encoding="utf-8")
    out = tmp_path / "comma_site"
    args = ["run", "--no-flow", "--input", str(folder), "--out", str(out), "--window-start", DAY]
    assert main([*args, "--mapping", str(mapping)]) in (0, 4)
    quarantine = pd.read_csv(out / DAY / "quarantine.csv", dtype=str)
    chosen = (folder.parent / "chosen_rows.txt").read_text().split()
    assert not quarantine["source_row"].isin(chosen).any()


@pytest.mark.parametrize("text", ["1,050", "3,4 mmol/L"])
def test_text_that_is_no_decimal_comma_number_does_not_warn(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    folder = potassium_written(tmp_path, text)
    status, err = screen(folder, tmp_path / "out", capsys)
    assert "decimal comma" not in err
    manifest = json.loads((tmp_path / "out" / DAY / "run_manifest.json").read_text("utf-8"))
    assert "decimal_commas" not in json.dumps(manifest["warnings"]), status
