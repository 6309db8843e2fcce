"""A laboratory's report export writes the abnormal-result flag beside the number: `125 L`,
`3.1 (L)`, `118 LL`, `125*`. Read as text that is no number, every low sodium was quarantined
non_numeric: the list lost nearly every case (35 became 4 on the sample) and the night passed
with a contract warning only, the hypokalemia of a potassium written `3.1 L` lost without one.
The number before a flag of HL7 table 0078 (L, H, LL, HH, A, AA, N, bare or in brackets) or a
mark `*` / `!` is the result (ingest.values); other text after a number is still no number."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hyposcreen.ingest.values import parse_values
from sample_delivery import SAMPLE, assert_screens_as_the_sample

# how report exports write a flag after the value (each row takes the next form)
FLAG_FORMS = [" L", "L", " (L)", " LL", "*", " [L]", " L*", "!"]


def test_low_results_written_with_their_flags_screen_as_the_sample(tmp_path: Path) -> None:
    folder = tmp_path / "delivery"
    folder.mkdir()
    for table in ("medications", "diagnoses", "patients"):
        (folder / f"{table}.csv").write_bytes((SAMPLE / f"{table}.csv").read_bytes())
    labs = pd.read_csv(SAMPLE / "labs.csv", dtype=str, keep_default_na=False)
    number = pd.to_numeric(labs["value_raw"], errors="coerce")
    low = ((labs["loinc"] == "2951-2") & (number < 135) & (number >= 80)) | (
        (labs["loinc"] == "2823-3") & (number < 3.5)
    )
    forms = itertools.cycle(FLAG_FORMS)
    labs.loc[low, "value_raw"] = [value + next(forms) for value in labs.loc[low, "value_raw"]]
    labs.loc[(labs["loinc"] == "2951-2") & (number >= 135), "value_raw"] += " N"
    assert low.sum() > 40
    labs.to_csv(folder / "labs.csv", index=False)
    # the same list and reconciliation; quarantined rows keep their flags as written
    assert_screens_as_the_sample(folder, tmp_path, same_quarantine_file=False)


@pytest.mark.parametrize(
    ("text", "number", "censor"),
    [
        ("125 L", 125.0, ""),
        ("125.0 (H)", 125.0, ""),
        ("3.1LL", 3.1, ""),
        ("125*", 125.0, ""),
        ("118 ll!", 118.0, ""),
        ("<2.0 L", 2.0, "<"),
        ("GREATER THAN 500 H", 500.0, ">"),
        ("125 mmol/L", np.nan, ""),  # a unit in the value: not a flag
        ("125 C", np.nan, ""),
        ("125 Hemolyzed", np.nan, ""),
        ("125 L H", np.nan, ""),
        ("*125", np.nan, ""),
        ("L", np.nan, ""),
        ("(H)", np.nan, ""),
    ],
)
def test_a_flag_after_the_number_is_read_past(text: str, number: float, censor: str) -> None:
    values, censors = parse_values(pd.Series([text]), pd.Series([np.nan]))
    assert values.iloc[0] == number or (np.isnan(number) and np.isnan(values.iloc[0]))
    assert censors.iloc[0] == censor
