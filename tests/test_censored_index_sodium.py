"""A censored index sodium keeps its mark on the review list (spec §3 "used, marked"): the
sample with P005's sodium written `<120` instead of `120.0` is banded as 120 (moderate under
`seed`, docs/clinical.md), and the list says the value was reported as below 120, so a
reviewer does not read 120.0 as the measured value when the true one is lower (severe)."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd
import pytest

from hyposcreen.config import RunSettings, parse_window
from hyposcreen.runners.in_process import run_pipeline

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "canonical"
WINDOW = ("2026-11-20T00:00:00", "2026-11-21T00:00:00")


@pytest.fixture(scope="module")
def censored_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("censored_index")
    inputs = folder / "in"
    inputs.mkdir()
    for name in ("labs", "medications", "diagnoses", "patients"):
        frame = pd.read_csv(SAMPLE / f"{name}.csv", dtype=str, keep_default_na=False)
        if name == "labs":  # P005's only sodium, 120.0 at 2026-11-20T10:00 (S005-01)
            frame.loc[frame["specimen_id"] == "S005-01", "value_raw"] = "<120"
        frame.to_csv(inputs / f"{name}.csv", index=False)
    out = folder / "out"
    run_pipeline(RunSettings(input_dir=inputs, out_dir=out, window=parse_window(*WINDOW)))
    return next(out.rglob("review_list.csv")).parent


def test_the_csv_and_parquet_say_the_index_sodium_was_censored(censored_out: Path) -> None:
    listed = pd.read_csv(censored_out / "review_list.csv", dtype=str, keep_default_na=False)
    rows = listed.set_index("patient_id")
    assert rows.loc["P005", "index_sodium"] == "120.0"
    assert rows.loc["P005", "severity"] == "moderate"  # banded as 120, as docs/clinical.md says
    assert rows.loc["P005", "index_censored"] == "<"
    assert set(listed.loc[listed["patient_id"] != "P005", "index_censored"]) == {""}
    typed = pd.read_parquet(censored_out / "review_list.parquet").set_index("patient_id")
    assert typed.loc["P005", "index_censored"] == "<"


def test_the_page_marks_the_censored_index_sodium(censored_out: Path) -> None:
    page = (censored_out / "review_list.html").read_text(encoding="utf-8")
    row = page[page.index('class="pid">P005') :]
    row = html.unescape(row[: row.index("</tr>")])
    assert "reported <120.0" in row
