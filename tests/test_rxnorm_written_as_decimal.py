"""RxNorm codes a spreadsheet or pandas wrote as decimals (`36437.0`: a code column with blank
cells is read as floats and saved so): a code-only medication is still its ingredient, as the
same column typed as a Parquet float already is, so the night screens as the sample does."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from sample_delivery import SAMPLE, assert_screens_as_the_sample


def test_rxnorm_codes_written_with_a_decimal_zero_screen_as_the_whole_codes(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "delivery"
    shutil.copytree(SAMPLE, folder)
    medications = pd.read_csv(folder / "medications.csv", dtype={"rxnorm": "float64"})
    medications.to_csv(folder / "medications.csv", index=False)  # as pandas writes it
    written = (folder / "medications.csv").read_text(encoding="utf-8")
    assert ",36437.0," in written  # P010's sertraline, named by its RxNorm code alone
    assert_screens_as_the_sample(folder, tmp_path)
