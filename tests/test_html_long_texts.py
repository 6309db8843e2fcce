"""review_list.html in a real headless Chromium with a very long drug name as written (one
word of 270 letters, as an extract that glues a product's description together writes it):
the text wraps inside its evidence cell and the page stays as wide as the window, so the
over-correction, workup and considerations columns stay on screen."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from browser import CHROMIUM_ARGS, require_chromium
from hyposcreen.config import RunSettings, parse_window
from hyposcreen.runners.in_process import run_pipeline

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "canonical"
WINDOW = ("2026-11-20T00:00:00", "2026-11-21T00:00:00")
LONG_WORD = "carbamazepineextendedreleaseformulation" * 7  # 273 letters, no space
pytestmark = [pytest.mark.slow]


def test_a_long_drug_name_wraps_and_keeps_every_column_on_screen(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    for name in ("labs", "medications", "diagnoses", "patients"):
        frame = pd.read_csv(SAMPLE / f"{name}.csv", dtype=str, keep_default_na=False)
        if name == "medications":  # P016 is listed (antiepileptic, Tegretol): now a long name
            frame.loc[frame["patient_id"] == "P016", "drug_name"] = "Tegretol " + LONG_WORD
        frame.to_csv(inputs / f"{name}.csv", index=False)
    out = tmp_path / "out"
    run_pipeline(RunSettings(input_dir=inputs, out_dir=out, window=parse_window(*WINDOW)))
    page_file = next(out.rglob("review_list.html"))
    assert LONG_WORD in page_file.read_text(encoding="utf-8")
    chromium = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=chromium, headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(page_file.as_uri(), wait_until="load")
        widths = page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth,"
            " Math.max(...Array.from(document.querySelectorAll('#cases td:last-child'),"
            " td => td.getBoundingClientRect().right))]"
        )
        browser.close()
    page_width, window_width, considerations_right = widths
    assert page_width <= window_width, widths  # no sideways scrolling
    assert considerations_right <= window_width, widths  # the last column is on screen
