"""review_list.html in headless Chromium with JavaScript off (a hospital browser policy, a mail
client's viewer): every case is there in rank order, the filter form is not shown, and the
column heads offer no sorting they cannot do. With their buttons live, a reviewer clicking
'Sodium (index)' saw nothing change and could take the list for sorted by sodium."""

from __future__ import annotations

import pandas as pd
import pytest

from browser import CHROMIUM_ARGS, require_chromium
from test_golden_sample import screen_sample_once

pytestmark = [pytest.mark.slow]


def test_without_javascript_the_heads_offer_no_sorting(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    night = screen_sample_once(tmp_path_factory.getbasetemp())
    ranks = pd.read_csv(night / "review_list.csv", dtype=str)["rank"].tolist()
    chromium = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=chromium, headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_context(java_script_enabled=False).new_page()
        page.goto((night / "review_list.html").as_uri(), wait_until="load")
        shown = page.eval_on_selector_all(
            "#cases tr.case", "rows => rows.map(r => r.getAttribute('data-rank'))"
        )
        assert shown == ranks  # every case, in the list's order
        assert not page.is_visible("form.controls")
        sodium = page.locator("th button[data-sort='sodium']")
        assert sodium.is_disabled()
        assert sodium.evaluate("b => getComputedStyle(b).cursor") != "pointer"
        before = page.eval_on_selector_all(
            "#cases tr.case", "rows => rows.map(r => r.getAttribute('data-rank'))"
        )
        sodium.click(force=True)
        assert before == shown
        browser.close()
