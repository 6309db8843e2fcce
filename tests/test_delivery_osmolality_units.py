"""Osmolality written in the units real laboratories use besides `mOsm/kg`: the SI `mmol/kg`
(numerically the same), the UCUM code with its annotation `mOsm/kg{H2O}` and the German
`mosmol/kg`. Each is an osmolality, so the workup of the sample's cases reads as before."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from sample_delivery import SAMPLE, assert_screens_as_the_sample

OSMOLALITY = {"2692-2", "2695-5"}


@pytest.mark.parametrize("unit", ["mmol/kg", "mOsm/kg{H2O}", "mosmol/kg", "mmol/kg H2O"])
def test_osmolality_in_other_units_completes_the_workup(tmp_path: Path, unit: str) -> None:
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    labs = pd.read_csv(folder / "labs.csv", dtype=str, keep_default_na=False)
    numeric = pd.to_numeric(labs["value_raw"], errors="coerce").notna()
    rewritten = labs["loinc"].isin(OSMOLALITY) & numeric
    assert rewritten.sum() >= 6
    labs.loc[rewritten, "unit"] = unit
    labs.to_csv(folder / "labs.csv", index=False)
    assert_screens_as_the_sample(folder, tmp_path)
