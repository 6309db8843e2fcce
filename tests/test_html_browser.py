"""review_list.html in a real headless Chromium: it loads cleanly, lists every case, sorts and
filters without a server, and fetches nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from browser import CHROMIUM_ARGS, require_chromium
from hyposcreen.config import RunSettings, parse_window
from hyposcreen.runners.in_process import run_pipeline

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "canonical"
WINDOW = ("2026-11-20T00:00:00", "2026-11-21T00:00:00")
pytestmark = [pytest.mark.slow]


@pytest.fixture(scope="module")
def sample_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("html")
    run_pipeline(RunSettings(input_dir=SAMPLE, out_dir=out, window=parse_window(*WINDOW)))
    return out


@pytest.fixture(scope="module")
def browser_page(sample_out: Path) -> Iterator[tuple[Any, list[str], list[str]]]:
    chromium = require_chromium()  # skipped on a workstation without one, failed under CI
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    requests: list[str] = []
    with sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=chromium, headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1500, "height": 1100})
        page.on(
            "console",
            lambda m: (
                problems.append(f"console {m.type}: {m.text}")
                if m.type in ("error", "warning")
                else None
            ),
        )
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on("request", lambda r: requests.append(r.url))
        page.goto((sample_out / "review_list.html").as_uri(), wait_until="load")
        yield page, problems, requests
        browser.close()


def _csv(sample_out: Path) -> pd.DataFrame:
    return pd.read_csv(sample_out / "review_list.csv", dtype=str, keep_default_na=False)


def _visible(page: Any, attribute: str) -> list[str]:
    return page.eval_on_selector_all(
        "#cases tr.case:not([hidden])", f"rows => rows.map(r => r.getAttribute('{attribute}'))"
    )


def test_page_loads_without_console_errors_or_network(browser_page: Any) -> None:
    page, problems, requests = browser_page
    assert problems == []
    assert all(url.startswith(("file:", "data:")) for url in requests), requests
    assert page.title().startswith("Hyponatremia review list")
    assert "not an order set" in page.inner_text("body")


def test_page_shows_one_row_per_csv_row_in_rank_order(browser_page: Any, sample_out: Path) -> None:
    page, _, _ = browser_page
    review = _csv(sample_out)
    assert page.locator("#cases tr.case").count() == len(review) > 0
    pids = page.eval_on_selector_all(
        "#cases tr.case .pid", "cells => cells.map(c => c.textContent)"
    )
    assert pids == list(review["patient_id"])
    assert page.locator("#cases tr.case svg.spark").count() == len(review)


def test_clicking_sodium_sorts_rows_by_corrected_sodium(
    browser_page: Any, sample_out: Path
) -> None:
    page, problems, _ = browser_page
    page.click("button[data-sort=sodium]")
    ascending = [float(v) for v in _visible(page, "data-sodium")]
    expected = sorted(float(v) for v in _csv(sample_out)["corrected_sodium"])
    assert ascending == pytest.approx(expected, abs=0.05)
    assert page.get_attribute("th[data-key=sodium]", "aria-sort") == "ascending"
    page.click("button[data-sort=sodium]")
    descending = [float(v) for v in _visible(page, "data-sodium")]
    assert descending == sorted(descending, reverse=True)
    page.click("button[data-sort=rank]")
    assert [int(v) for v in _visible(page, "data-rank")] == list(range(1, len(ascending) + 1))
    assert problems == []


def test_tier_and_risk_factor_filters_hide_other_rows(browser_page: Any, sample_out: Path) -> None:
    page, problems, _ = browser_page
    review = _csv(sample_out)
    page.select_option("#tier-filter", "1")
    assert set(_visible(page, "data-tier")) == {"1"}
    assert len(_visible(page, "data-tier")) == int((review["tier"] == "1").sum())
    assert page.inner_text("#shown-count") == f"Showing {(review['tier'] == '1').sum()} of 35"
    page.select_option("#tier-filter", "")
    page.select_option("#factor-filter", "loop_diuretic")
    with_loop = review["risk_factors"].str.split(";").map(lambda f: "loop_diuretic" in f)
    assert len(_visible(page, "data-rank")) == int(with_loop.sum())
    page.select_option("#factor-filter", "")
    assert len(_visible(page, "data-rank")) == len(review)
    assert problems == []


def test_screenshot_of_the_list_is_saved(browser_page: Any, sample_out: Path) -> None:
    page, _, _ = browser_page
    shot = sample_out / "review_list.png"
    page.screenshot(path=str(shot), full_page=False)
    assert shot.stat().st_size > 20_000
    print(f"screenshot: {shot}")


def test_print_layout_hides_the_controls(browser_page: Any, sample_out: Path) -> None:
    page, _, _ = browser_page
    page.emulate_media(media="print")
    assert not page.is_visible("form.controls")
    assert page.locator("#cases tr.case:not([hidden])").count() == len(_csv(sample_out))
    page.emulate_media(media="screen")
