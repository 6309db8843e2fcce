"""A printed sodium figure never reads as another band than its label (spec §4: outputs round to
1 decimal, "so a printed value never reads as the next band").

Half away from zero alone breaks that promise just beside a band's edge: a corrected sodium of
125.04 is mild under the seed profile (moderate is 120 <= Na <= 125), but printed 125.0 it reads
as moderate, and a reviewer would take the routine tier for a mistake. Such a figure keeps the
decimals that place it (125.04); every other figure keeps one decimal. The same holds for the
figures the tiers judge: a delta_48h of -4.96 (a fall of 5 makes a case `soon`), and an
over-correction's rise of 8.04 over the limit 8.
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from hyposcreen.config import RunSettings, parse_window
from hyposcreen.report.labelled_figures import delta_figures, sodium_figures
from hyposcreen.rules.loader import load_rules
from hyposcreen.runners.in_process import run_pipeline

WINDOW = ("2026-11-20T00:00:00", "2026-11-21T00:00:00")
LAB_HEAD = "patient_id,specimen_id,specimen_time,loinc,lab_name,value_raw,unit,status,specimen_type"
LABS = [
    # N1: 124 + 1.6 * (165 - 100) / 100 = 125.04 corrected: mild (> 125), tier 3
    "N1,S1,2026-11-20T06:00:00,2951-2,Sodium,124,mmol/L,final,Serum",
    "N1,S1,2026-11-20T06:00:00,2345-7,Glucose,165,mg/dL,final,Serum",
    # N2: 119.96 measured, no glucose: severe (< 120)
    "N2,S2,2026-11-20T06:00:00,2951-2,Sodium,119.96,mmol/L,final,Serum",
    # N3: 120 -> 128.04 in 10 h: a rise of 8.04 > 8, over-rapid correction
    "N3,S3,2026-11-20T01:00:00,2951-2,Sodium,120,mmol/L,final,Serum",
    "N3,S4,2026-11-20T11:00:00,2951-2,Sodium,128.04,mmol/L,final,Serum",
    # N4: 134.96 the evening before, 130 in the window: delta_48h -4.96 > -5, not `soon`
    "N4,S5,2026-11-19T20:00:00,2951-2,Sodium,134.96,mmol/L,final,Serum",
    "N4,S6,2026-11-20T08:00:00,2951-2,Sodium,130,mmol/L,final,Serum",
]
MEDS = [  # a loop diuretic lists N1, N3 and N4 (one risk factor each)
    f"{patient},Furosemide 40mg tab,2026-05-12T09:00:00,,active" for patient in ("N1", "N3", "N4")
]


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("printed_bands")
    inputs = folder / "in"
    inputs.mkdir()
    (inputs / "labs.csv").write_text("\n".join([LAB_HEAD, *LABS]) + "\n", encoding="utf-8")
    meds = ["patient_id,drug_name,start_time,end_time,status", *MEDS]
    (inputs / "medications.csv").write_text("\n".join(meds) + "\n", encoding="utf-8")
    dx = "patient_id,code,code_system,recorded_time,status\n"
    (inputs / "diagnoses.csv").write_text(
        dx + "N9,N18.3,ICD-10-CM,2025-06-15T10:00:00,active\n", encoding="utf-8"
    )
    out = folder / "out"
    run_pipeline(RunSettings(input_dir=inputs, out_dir=out, window=parse_window(*WINDOW)))
    return next(out.rglob("review_list.csv")).parent


def _rows(night: Path) -> pd.DataFrame:
    listed = pd.read_csv(night / "review_list.csv", dtype=str, keep_default_na=False)
    return listed.set_index("patient_id")


def test_a_figure_beside_a_band_edge_keeps_the_decimals_that_place_it(night: Path) -> None:
    rows = _rows(night)
    assert rows.loc["N1", ["corrected_sodium", "severity", "tier"]].tolist() == [
        "125.04",
        "mild",
        "3",
    ]
    assert rows.loc["N1", "index_sodium"] == "124.0"  # far from any edge: one decimal
    assert rows.loc["N2", ["corrected_sodium", "severity"]].tolist() == ["119.96", "severe"]
    assert rows.loc["N4", ["delta_48h", "tier"]].tolist() == ["-4.96", "3"]
    assert rows.loc["N4", "corrected_sodium"] == "130.0"
    # the rise over its limit, and the two results with as many decimals, so the pair adds up
    assert rows.loc["N3", "overcorrection_pair"].startswith("120.00 at ")
    assert "-> 128.04 at " in rows.loc["N3", "overcorrection_pair"]
    assert "(+8.04 mmol/L; limit 8 per 24 h)" in rows.loc["N3", "overcorrection_pair"]


def test_the_parquet_and_the_workbook_hold_the_same_figures(night: Path) -> None:
    typed = pd.read_parquet(night / "review_list.parquet").set_index("patient_id")
    assert typed.loc["N1", "corrected_sodium"] == 125.04
    assert typed.loc["N4", "delta_48h"] == -4.96
    sheet = openpyxl.load_workbook(night / "review_list.xlsx")["Review list"]
    header = [cell.value for cell in sheet[1]]
    column = next(i for i, h in enumerate(header) if str(h).startswith("Glucose-corrected"))
    cells = {row[2].value: row[column] for row in sheet.iter_rows(min_row=2)}
    assert cells["N1"].value == 125.04  # a number, shown with its decimals (not 125.0)
    assert cells["N1"].number_format == "0.0####"


def test_the_page_shows_the_figures_as_the_list_does(night: Path) -> None:
    page = html.unescape((night / "review_list.html").read_text(encoding="utf-8"))
    row = page[page.index('class="pid">N1') :]
    row = row[: row.index("</tr>")]
    assert '<span class="na" data-col="corrected">125.04</span>' in row
    assert "125.04 mmol/L (index)" in row  # the trajectory's point
    row = page[page.index('class="pid">N4') :]
    assert "Δ from previous (≤ 48 h) -4.96 (falling)" in row[: row.index("</tr>")]


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (125.04, 125.04),  # mild: not 125.0
        (125.05, 125.1),  # half away from zero already keeps it mild
        (125.0, 125.0),  # moderate, at the edge
        (124.96, 125.0),  # moderate either way
        (119.96, 119.96),  # severe: not 120.0
        (119.94, 119.9),
        (119.95, 119.95),  # severe: half away from zero alone gives 120.0
        (105.04, 105.04),  # no correction risk: not 105.0 (<= 105 is one)
        (135.04, 135.04),  # not hyponatremic: not 135.0
        (134.2 + 0.8, 135.0),  # judged as 135 (9 decimals), as the screen judges it
        (125.00001, 125.00001),  # the decimals it takes, to at most 5
        (125.000001, 125.0),  # beyond 5 (no laboratory reports so): one decimal
        (np.nan, np.nan),
    ],
)
def test_sodium_figures_under_the_seed_profile(value: float, shown: float) -> None:
    got = sodium_figures(np.array([value]), load_rules(), "seed")[0]
    assert got == shown or (np.isnan(got) and np.isnan(shown))


def test_eu2014_bands_and_delta_cuts() -> None:
    rules = load_rules()
    # eu2014: mild 130 <= Na < 135, so 129.96 (moderate) is not printed 130.0
    assert sodium_figures(np.array([129.96, 134.96]), rules, "eu2014").tolist() == [
        129.96,
        134.96,
    ]
    # -5.04 is <= -5 either way; -1.96 is 'stable' (|delta| < 2), not printed -2.0
    assert delta_figures(np.array([-4.96, -5.04, -1.96, 1.96]), rules).tolist() == [
        -4.96,
        -5.0,
        -1.96,
        1.96,
    ]
