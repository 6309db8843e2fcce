"""A lab result that begins with a number but holds other text (`104 mmol/L`, `~104`,
`104 (repeated)`) is no number (spec §3) and is quarantined non_numeric; one such severe sodium
left the sample's urgent case off the list while the non-numeric sodium share stayed under its
contract's limit, and the night passed as quiet. Any such row now warns (exit 4), counts and
`file:row` only; flags, decimal commas and thousands separators keep their own warnings."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd

from hyposcreen.ingest.values import numbers_with_text
from sample_delivery import SAMPLE, screen


def test_the_shapes_of_a_number_with_text() -> None:
    texts = ["104 mmol/L", "104mmol/L", "~104", "104 (repeated)", "<5 see note", "104", " 104 ",
             "<104", "HEMOLYZED", "1,2,3", "3,4", "", None, "See Comments 2"]  # fmt: skip
    found = numbers_with_text(pd.Series(texts, dtype=object)).tolist()
    assert found == [True] * 5 + [False] * 9


def test_a_severe_sodium_written_with_its_unit_warns(tmp_path: Path) -> None:
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    labs = pd.read_csv(folder / "labs.csv", dtype=str, keep_default_na=False)
    severe = (labs["patient_id"] == "P043") & (labs["loinc"] == "2951-2")
    assert labs.index[severe].tolist() == [106]  # labs.csv:108
    labs.loc[severe, "value_raw"] = "104 mmol/L"
    labs.to_csv(folder / "labs.csv", index=False)
    status, night = screen(folder)
    assert status == 4
    manifest = json.loads((night / "run_manifest.json").read_text())
    (warning,) = [w for w in manifest["warnings"] if w["code"] == "numbers_with_text"]
    assert "1 lab result(s)" in warning["message"] and "labs.csv:108" in warning["message"]
    assert "104" not in warning["message"] and "P043" not in warning["message"]
    assert [w["code"] for w in manifest["warnings"]] == ["numbers_with_text"]
