"""review_list.html and review_list.xlsx: written every run next to the CSV, private, stable,
and holding the same rows as the CSV."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from hyposcreen.config import RunSettings, parse_window
from hyposcreen.rules.loader import load_rules
from hyposcreen.runners.in_process import run_pipeline

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "canonical"
WINDOW = ("2026-11-20T00:00:00", "2026-11-21T00:00:00")


def _run(out: Path, **overrides: object) -> Path:
    run_pipeline(
        RunSettings(input_dir=SAMPLE, out_dir=out, window=parse_window(*WINDOW), **overrides)  # type: ignore[arg-type]
    )
    return out


@pytest.fixture(scope="module")
def sample_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _run(tmp_path_factory.mktemp("views"))


def _csv(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "review_list.csv", dtype=str, keep_default_na=False)


def test_html_and_xlsx_are_written_next_to_the_csv_and_private(sample_out: Path) -> None:
    for name in ("review_list.html", "review_list.xlsx"):
        assert (sample_out / name).is_file(), name
        assert (sample_out / name).stat().st_mode & 0o077 == 0, name


def test_html_states_rules_profile_window_and_notice(sample_out: Path) -> None:
    html = (sample_out / "review_list.html").read_text(encoding="utf-8")
    assert f"Rules</dt><dd>{load_rules().version}" in html
    assert "Profile</dt><dd>seed" in html
    assert "20 Nov 2026 00:00 UTC to 21 Nov 2026 00:00 UTC" in html
    assert "not an order set" in html
    assert "@media print" in html


def test_html_is_self_contained(sample_out: Path) -> None:
    """No external script, style, image or font: nothing is fetched when it opens."""
    html = (sample_out / "review_list.html").read_text(encoding="utf-8")
    for marker in ("http://", "https://", '<link rel="stylesheet"', "src=", "@import", "url("):
        assert marker not in html, marker
    assert html.count('<svg class="spark"') == len(_csv(sample_out))


def test_html_and_xlsx_are_byte_identical_for_the_same_inputs(
    sample_out: Path, tmp_path: Path
) -> None:
    again = _run(tmp_path / "again")
    for name in ("review_list.html", "review_list.xlsx"):
        assert (again / name).read_bytes() == (sample_out / name).read_bytes(), name


def test_html_shows_no_names_or_mrns_without_permission(sample_out: Path) -> None:
    html = (sample_out / "review_list.html").read_text(encoding="utf-8")
    patients = pd.read_csv(SAMPLE / "patients.csv", dtype=str)
    assert not any(v in html for v in patients["mrn"])
    assert not any(v in html for v in patients["name"])


def test_html_shows_names_and_mrns_when_the_site_allows_them(tmp_path: Path) -> None:
    mapping = tmp_path / "site.yaml"
    mapping.write_text("site: test\nallow_identifiers: true\n")
    out = _run(tmp_path / "out", mapping_path=mapping)
    html = (out / "review_list.html").read_text(encoding="utf-8")
    assert "MRN: MRN0043" in html and "Test Patient 43" in html


def _as_csv_text(value: object, column: str) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%dT%H:%M:%S")
    if column in (
        "index_sodium",
        "corrected_sodium",
        "latest_sodium",
        "delta_48h",
        "index_glucose",
    ):
        return f"{float(value):.1f}"  # type: ignore[arg-type]
    return str(value)


def test_xlsx_opens_with_pandas_and_has_the_csv_rows(sample_out: Path) -> None:
    csv = _csv(sample_out)
    from hyposcreen.report.column_headers import header_text

    sheet = pd.read_excel(sample_out / "review_list.xlsx", sheet_name="Review list")
    # human headers ("Glucose-corrected Na (mmol/L)"), one per CSV column, in its order
    from hyposcreen.report.display import drug_names, evidence_in_words

    times = {"index_time", "nadir_time", "window_start", "window_end"}
    times |= {"previously_listed", "last_reviewed"}  # the nightly state's: times too
    assert list(sheet.columns) == [header_text(c) + (" (UTC)" if c in times else "")
                                   for c in csv.columns]  # fmt: skip
    sheet.columns = list(csv.columns)
    rules = load_rules()
    # the evidence and the over-rapid correction's pair read in clinical words (drug names,
    # times with the zone); the rest as is
    for worded in ("evidence", "overcorrection_pair"):
        csv[worded] = csv[worded].map(
            lambda t: evidence_in_words(t, drug_names(rules), rules.atc_combinations, "UTC")
        )
    assert csv["evidence"].str.contains("torsemide (RxNorm 38413", regex=False).any()
    assert len(sheet) == len(csv) > 0
    for column in csv.columns:
        shown = [_as_csv_text(v, column) for v in sheet[column].astype(object)]
        assert shown == list(csv[column]), column


def test_xlsx_has_frozen_header_filters_tier_colours_and_wrapped_evidence(
    sample_out: Path,
) -> None:
    from openpyxl import load_workbook

    book = load_workbook(sample_out / "review_list.xlsx")
    sheet = book["Review list"]
    header = [c.value for c in sheet[1]]
    assert sheet.freeze_panes == "D2"
    assert sheet.auto_filter.ref == f"A1:{sheet.cell(1, len(header)).column_letter}36"
    tier_col = header.index("Tier") + 1
    fills = {
        sheet.cell(r, tier_col).value: sheet.cell(r, tier_col).fill.fgColor.rgb
        for r in range(2, sheet.max_row + 1)
    }
    assert len(set(fills.values())) == 3
    assert sheet.cell(2, header.index("Evidence") + 1).alignment.wrap_text
    about = {row[0].value: row[1].value for row in book["About this list"].iter_rows()}
    assert about["rules_version"] == load_rules().version and "order set" in about["notice"]


def test_a_window_without_cases_still_writes_both_views(tmp_path: Path) -> None:
    out = tmp_path / "quiet"
    run_pipeline(
        RunSettings(input_dir=SAMPLE, out_dir=out, window=parse_window("2020-01-01", "2020-01-02"))
    )
    assert "No case was listed" in (out / "review_list.html").read_text(encoding="utf-8")
    assert len(pd.read_excel(out / "review_list.xlsx")) == 0


def test_page_speaks_plain_clinical_words(sample_out: Path) -> None:
    """Code-only drugs named by ingredient, one time format with the zone, clinical precision,
    bands without overlap, no internal words, at most three short lines of advice per case."""
    html = (sample_out / "review_list.html").read_text(encoding="utf-8")
    assert "torsemide (RxNorm 38413" in html and "spironolactone (ATC C03DA01" in html
    assert not re.search(r"<div class=\"ev\">medication: (RxNorm|ATC) ", html)
    assert not re.search(r">[^<]*\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", html)  # no ISO time shown
    assert "20 Nov 2026 05:00 UTC" in html
    assert "magnesium 1.58 mg/dL" in html and "1.58015" not in html
    assert "mild 125 &lt; Na ≤ 135; moderate 120 ≤ Na ≤ 125; severe Na &lt; 120" in html
    assert "Seed 000" not in html
    cases = html.split('<tr class="case')[1:]
    for case in cases:
        advice = case.split('<ul class="considerations">')[1].split("</ul>")[0]
        assert advice.count("<li>") <= 3
    assert html.count("Check whether the diuretic") == 1  # the full text once, in the legend


def test_no_fluid_restriction_where_sodium_rose_too_fast(sample_out: Path) -> None:
    review = _csv(sample_out)
    over = review.loc[review["overcorrection"] == "true"]
    assert len(over) > 0 and "mild" in set(over["severity"])
    assert not over["considerations"].str.contains("restricting fluid").any()


def test_page_times_follow_the_site_zone(tmp_path: Path) -> None:
    mapping = tmp_path / "site.yaml"
    mapping.write_text("site: test\ntimezone: Europe/Berlin\n")
    out = _run(tmp_path / "out", mapping_path=mapping)
    html = (out / "review_list.html").read_text(encoding="utf-8")
    assert "Times are Europe/Berlin site time" in html and " CET" in html
