"""Two things the sample's golden output must show, from the report layer:

- a censored co-factor result keeps its mark (spec §3 "used, marked"): P013's potassium `<3.0`
  reads "potassium < 3.0 mmol/L", never "potassium 3 mmol/L";
- a completed/stopped order without end date says until when the rules count it as active
  (start + medication_stopped_active_days = 30): P026's Mirtazapine started 2026-11-01 reads
  "no end date, active until 2026-12-01", never "end ongoing".

The page also writes medication dates in the same day-month-year form as its times.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pandas as pd
import pytest

from hyposcreen.config import RunSettings, parse_window
from hyposcreen.report.clinical_times import clinical_times_in
from hyposcreen.report.display import lab_label
from hyposcreen.report.review_list import _end_text, _lab_value_text
from hyposcreen.runners.in_process import run_pipeline

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "canonical"
WINDOW = ("2026-11-20T00:00:00", "2026-11-21T00:00:00")


@pytest.fixture(scope="module")
def sample_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("censored")
    run_pipeline(RunSettings(input_dir=SAMPLE, out_dir=out, window=parse_window(*WINDOW)))
    return next(out.rglob("review_list.csv")).parent


def _page_text(folder: Path) -> str:
    page = (folder / "review_list.html").read_text(encoding="utf-8")
    page = re.sub(r"<script.*?</script>|<style.*?</style>|<svg.*?</svg>", "", page, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def test_censored_value_keeps_its_mark_at_clinical_precision() -> None:
    rows = pd.DataFrame(
        {"analyte": ["potassium", "potassium", "magnesium"], "value": [3.0, 3.2, 1.2],
         "censored": ["<", "", "<="]}
    )  # fmt: skip
    assert _lab_value_text(rows).tolist() == ["< 3.0", "3.2", "≤ 1.20"]
    assert lab_label("potassium < 3.0 mmol/L at x") == "potassium < 3.0 mmol/L at x"
    assert lab_label("magnesium 1.58015 mg/dL at x") == "magnesium 1.58 mg/dL at x"


def test_a_stopped_order_without_end_names_its_active_until_date() -> None:
    meds = pd.DataFrame(
        {
            "end_time": pd.to_datetime([None, "2026-11-15 09:00", None]),
            "active_until": pd.to_datetime(["2026-12-01 09:00", None, None]),
        }
    )
    assert _end_text(meds).tolist() == [
        ", no end date, active until 2026-12-01",
        ", end 2026-11-15",
        ", end ongoing",
    ]


def test_medication_dates_read_like_the_times() -> None:
    text = "x (start 2026-05-12, end ongoing) at 2026-11-20T08:00:00"
    assert (
        clinical_times_in(text, "UTC")
        == "x (start 12 May 2026, end ongoing) at 20 Nov 2026 08:00 UTC"
    )


def test_the_sample_evidence_keeps_the_mark_and_the_active_until_date(sample_out: Path) -> None:
    evidence = pd.read_csv(sample_out / "evidence.csv", dtype=str, keep_default_na=False)
    p013 = evidence.loc[(evidence["patient_id"] == "P013") & (evidence["source"] == "lab"), "text"]
    assert p013.tolist() == ["potassium < 3.0 mmol/L at 2026-11-20T08:00:00 (< 3.5 mmol/L)"]
    p026 = evidence.loc[evidence["patient_id"] == "P026", "text"]
    assert p026.tolist() == [
        "Mirtazapine 15 mg (start 2026-11-01, no end date, active until 2026-12-01, day 18, "
        "new start)"
    ]
    review = pd.read_csv(sample_out / "review_list.csv", dtype=str, keep_default_na=False)
    assert "potassium < 3.0 mmol/L" in review.set_index("patient_id").at["P013", "evidence"]


def test_the_page_shows_the_mark_the_active_until_date_and_one_date_form(
    sample_out: Path,
) -> None:
    text = _page_text(sample_out)
    assert "potassium < 3.0 mmol/L at 20 Nov 2026 08:00 UTC" in text
    assert "potassium 3 mmol/L" not in text and "potassium 3.0 mmol/L" not in text
    assert "Mirtazapine 15 mg (start 01 Nov 2026, no end date, active until 01 Dec 2026" in text
    assert not re.search(r"\b\d{4}-\d{2}-\d{2}\b", text)  # no ISO date left on the page


def test_an_albumin_corrected_calcium_is_named_so_on_the_page() -> None:
    """The evidence value of a total calcium is the corrected one; the measured follows."""
    text = "calcium_total 8.2 mg/dL at x (total 7.8 mg/dL, albumin 3.5 g/dL)"
    assert lab_label(text) == (
        "calcium (albumin-corrected) 8.2 mg/dL at x (total 7.8 mg/dL, albumin 3.5 g/dL)"
    )
    plain = "calcium_total 8.2 mg/dL at x (total 8.2 mg/dL, no albumin correction)"
    assert lab_label(plain).startswith("calcium total 8.2 mg/dL")
