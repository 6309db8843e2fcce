"""`--source mimic` on extracts written the way PhysioNet ships MIMIC-IV (v2.x/v3.x): gzipped
CSVs in `hosp/` next to an `icu/` folder, `labevents` with every published column, empty
hadm_id, `___` and `ERROR` values, ICD-9 and ICD-10 codes without dots. Each test states the
spec's answer, computed by hand."""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest

from hyposcreen.adapters import mimic
from hyposcreen.cli import main
from hyposcreen.rules.loader import load_rules

RULES = load_rules()

# ------------------------------------------------------------------ lab items


def test_the_extracts_own_d_labitems_label_decides_over_the_shipped_item_list() -> None:
    """The shipped item list (rules/mimic_labitems.csv) is recalled, not read from the data:
    when the extract's d_labitems names an item differently, its label decides (through the
    lab dictionary); the shipped entry only fills in for items d_labitems does not have or
    names the same way (any letter case)."""
    items = pd.DataFrame(
        {
            "itemid": ["51093", "50964", "50983", "50824", "50971"],
            "label": ["Hemoglobin", "Osmolality, Measured", "SODIUM", None, "Potassium"],
            "fluid": ["Blood", "Blood", "BLOOD", "Blood", "Urine"],
        }
    )
    found = mimic.identify_items(items, RULES)
    assert list(found["analyte"].fillna("")) == [
        "", "serum_osmolality", "sodium", "sodium", "",
    ]  # fmt: skip
    assert list(found["reason"].fillna("")) == ["unknown_lab_name", "", "", "", "urine_specimen"]
