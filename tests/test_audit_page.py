"""audit.html read as a QI committee reads it: a suppressed rate or median says what it is
(a fraction with its shown part, a median with its n), never a bare `<11` that reads as a
percentage or as hours; a plot names the months it does not draw; a month the data cover in
part (or not at all) is marked so, beside its counts and in the plots, and a month the audit's
period cuts says which days it holds."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pandas as pd
import pytest

from browser import CHROMIUM_ARGS, require_chromium
from hyposcreen.audit import AuditSettings, run_audit
from hyposcreen.report.pseudonyms import KEY_ENV

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "canonical"


@pytest.fixture(scope="module")
def sample_audit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample from 15 October to November's end: October has no sodium result, November's
    are dated on 4 of its days; 39 cases, with most risk factors, the over-corrections and the
    severe follow-ups below 11."""
    out = tmp_path_factory.mktemp("audit_page")
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv(KEY_ENV, raising=False)
        run_audit(
            AuditSettings(
                input_dir=SAMPLE,
                out_dir=out,
                start=pd.Timestamp("2026-10-15"),
                end=pd.Timestamp("2026-12-01"),
            )
        )
    return out


def _tables(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "audit_tables.csv", dtype=str, keep_default_na=False)


def _row_cells(page: str, measure: str) -> list[str]:
    """The texts of a table row's cells (months, then the whole period)."""
    found = re.search(rf'<th scope="row">{re.escape(measure)}</th>(.*?)</tr>', page)
    assert found, measure
    return [html.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", found.group(1))]


def test_a_suppressed_rate_shows_its_denominator_not_a_bare_mark(sample_audit: Path) -> None:
    page = (sample_audit / "audit.html").read_text(encoding="utf-8")
    # thiazide diuretic in November: fewer than 11 of the 39 cases (audit_tables.csv: 39)
    assert _row_cells(page, "thiazide diuretic") == ["– (0/0)", "– (<11/39)", "– (<11/39)"]
    assert _row_cells(page, "overcorrection rate")[1:] == ["– (<11/39)", "– (<11/39)"]
    assert _row_cells(page, "workup complete rate")[1] == "– (<11/39)"
    # a median over fewer than 11 severe results: its n is suppressed, not its hours
    assert _row_cells(page, "median hours to next sodium") == ["– (n=0)", "– (n <11)", "– (n <11)"]
    # the class that colours a suppressed cell still marks it
    assert '<td class="supp">– (&lt;11/39)</td>' in page
    # counts keep their mark alone
    assert _row_cells(page, "tier 1") == ["0", "<11", "<11"]
    # the notice says how to read such a cell
    notice = re.search(r'<p class="notice"[^>]*>(.*?)</p>', page)
    assert notice is not None
    text = html.unescape(re.sub(r"<[^>]+>", "", notice.group(1)))
    assert "– (<11/120): fewer than 11 of 120 cases, not a percentage" in text


def test_a_plot_names_the_months_it_does_not_draw_with_their_mark(sample_audit: Path) -> None:
    page = (sample_audit / "audit.html").read_text(encoding="utf-8")
    rates = page[page.index('id="over_rapid_correction"') :]
    rates = rates[: rates.index("</figure>")]
    texts = " ".join(html.unescape(t) for t in re.findall(r"<text[^>]*>(.*?)</text>", rates))
    assert "not drawn (suppressed): over-rapid correction: <11 cases in 1 month(s)" in texts
    assert "hidden" not in texts  # `hidden` is the complementary mark: these months are `<11`
    factors = page[page.index('id="risk_factors"') :]
    factors = factors[: factors.index("</figure>")]
    labels = [html.unescape(t) for t in re.findall(r"<text[^>]*>(.*?)</text>", factors)]
    assert "<11 cases" in labels and "<11" not in labels  # beside a "% of cases" axis


def test_months_the_data_cover_in_part_are_marked_where_their_counts_are(
    sample_audit: Path,
) -> None:
    tables = _tables(sample_audit)
    coverage = tables.loc[tables["table"] == "coverage"].set_index("period")
    assert list(coverage["measure"].unique()) == ["days_with_sodium_rows"]
    assert coverage[["numerator", "denominator", "value", "unit", "suppressed"]].to_dict(
        "index"
    ) == {
        "2026-10": {"numerator": "0", "denominator": "17", "value": "0", "unit": "days",
                    "suppressed": ""},
        "2026-11": {"numerator": "4", "denominator": "30", "value": "4", "unit": "days",
                    "suppressed": ""},
        "total": {"numerator": "4", "denominator": "47", "value": "4", "unit": "days",
                  "suppressed": ""},
    }  # fmt: skip
    page = (sample_audit / "audit.html").read_text(encoding="utf-8")
    assert _row_cells(page, "days with sodium rows") == ["0 of 17 days", "4 of 30 days",
                                                         "4 of 47 days"]  # fmt: skip
    cases = page[page.index('id="cases_by_tier"') :]
    head = html.unescape(cases[cases.index("<thead>") : cases.index("</thead>")])
    heads = [re.sub(r"<[^>]+>", " ", h).split() for h in re.findall(r"<th[^>]*>(.*?)</th>", head)]
    assert heads[1:] == [
        ["2026-10", "15", "Oct–31", "Oct", "no", "data"],
        ["2026-11", "partial", "data"],
        ["whole", "period", "partial", "data"],
    ]
    plot = cases[: cases.index("</figure>")]
    texts = [html.unescape(t) for t in re.findall(r"<text[^>]*>(.*?)</text>", plot)]
    assert "no data" in texts and "partial data" in texts  # under the months' ticks


def _few_cases_delivery(folder: Path, months: dict[str, int]) -> Path:
    """Per month, that many patients with one mild sodium result each, on its first days."""
    folder.mkdir()
    labs = ["patient_id,encounter_id,specimen_id,specimen_time,result_time,loinc,lab_name,"
            "value_raw,unit,status,specimen_type"]  # fmt: skip
    patients = ["patient_id,mrn,name,birth_date,sex,unit"]
    for month, size in months.items():
        for i in range(size):
            pid, day = f"Q{month[-2:]}{i}", f"{month}-{1 + i % 28:02d}"
            labs.append(f"{pid},E{pid},S{pid},{day}T08:00:00,{day}T09:00:00,2951-2,Sodium,132,"
                        "mmol/L,final,Serum")  # fmt: skip
            patients.append(f"{pid},M{pid},Patient {pid},1950-01-01,F,Ward")
    tables = {"labs": labs, "patients": patients,
              "medications": ["patient_id,encounter_id,drug_name,rxnorm,atc,start_time,"
                              "end_time,status,route"],
              "diagnoses": ["patient_id,encounter_id,code,code_system,recorded_time,status,"
                            "description"]}  # fmt: skip
    for name, lines in tables.items():
        (folder / f"{name}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def test_the_coverage_of_a_month_with_few_sodium_rows_is_hidden_with_them(tmp_path: Path) -> None:
    """January: 3 sodium rows, on 3 days. `3 of 31 days` would tell January's sodium rows (`<11`)
    are 3 to 10, and the whole period's days less February's would give January's 3 days."""
    inputs = _few_cases_delivery(tmp_path / "in", {"2026-01": 3, "2026-02": 40, "2026-03": 40})
    settings = AuditSettings(
        input_dir=inputs,
        out_dir=tmp_path / "out",
        start=pd.Timestamp("2026-01-01"),
        end=pd.Timestamp("2026-04-01"),
    )
    run_audit(settings)
    tables = _tables(tmp_path / "out")
    sodium = tables.loc[tables["measure"] == "sodium_results_in_window"].set_index("period")
    coverage = tables.loc[tables["table"] == "coverage"].set_index("period")
    assert sodium.loc["2026-01", "suppressed"] == "primary"
    assert coverage.loc["2026-01", ["numerator", "value", "suppressed"]].tolist() == [
        "",
        "",
        "primary",
    ]
    for month in ("2026-02", "2026-03"):  # hidden with the month's sodium rows, shown else
        hidden = sodium.loc[month, "suppressed"]
        assert coverage.loc[month, "suppressed"] == hidden
        assert coverage.loc[month, "numerator"] == ("" if hidden else "28")  # days 1 to 28
    # the months' days add up to the whole period's: with January's hidden, so is the total's
    assert coverage.loc["total", ["numerator", "value", "suppressed"]].tolist() == [
        "",
        "",
        "complementary",
    ]
    assert coverage.loc["total", "denominator"] == "90"  # the period's days: not the data's
    page = (tmp_path / "out" / "audit.html").read_text(encoding="utf-8")
    cells = _row_cells(page, "days with sodium rows")
    assert cells[0] == "<11" and cells[-1] == "hidden"
    assert "3 of 31" not in page


def test_each_attrition_step_is_defined_beside_the_table(sample_audit: Path) -> None:
    """`listed` above `cases with risk factor` reads as an error without its definition."""
    page = (sample_audit / "audit.html").read_text(encoding="utf-8")
    section = page[page.index('id="attrition"') :]
    note = html.unescape(re.search(r'<p class="note">(.*?)</p>', section).group(1))  # type: ignore[union-attr]
    for step in ("Sodium results in window:", "usable:", "hyperglycemia related:",
                 "hyponatremic:", "cases:", "with risk factor:", "listed:"):  # fmt: skip
        assert step in note, step
    assert "listed can exceed the cases with a risk factor" in note


def test_the_whole_period_s_cases_are_said_to_be_patient_months(sample_audit: Path) -> None:
    """The whole-period column adds the months up: 2700 `cases` are not 2700 patients."""
    page = (sample_audit / "audit.html").read_text(encoding="utf-8")
    for section in ("cases_by_tier", "risk_factors"):
        text = page[page.index(f'id="{section}"') :]
        note = re.search(r'<p class="note">(.*?)</p>', text)
        assert note is not None and "patient-months" in note.group(1), section


@pytest.mark.slow
def test_the_page_in_chromium_marks_the_months_and_fetches_nothing(sample_audit: Path) -> None:
    """As the committee opens it: no console error, nothing fetched, the coverage marks and a
    suppressed rate's fraction read in the rendered text, the plots drawn."""
    chromium = require_chromium()  # skipped on a workstation without one, failed under CI
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    requests: list[str] = []
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=chromium, headless=True,
                                         args=CHROMIUM_ARGS)  # fmt: skip
        page = browser.new_page(viewport={"width": 1400, "height": 3000})
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto((sample_audit / "audit.html").as_uri(), wait_until="load")
        heads = page.eval_on_selector_all(
            "#cases_by_tier thead th", "cells => cells.map(c => c.innerText)"
        )
        rate = page.inner_text("#over_rapid_correction tbody tr")
        drawn = page.locator("figure svg").count()
        browser.close()
    assert problems == [] and all(u.startswith(("file:", "data:")) for u in requests), requests
    assert [h.split("\n") for h in heads[1:]] == [
        ["2026-10", "15 Oct–31 Oct", "no data"],
        ["2026-11", "partial data"],
        ["whole period", "partial data"],
    ]
    assert rate.split("\t")[1:] == ["– (0/0)", "– (<11/39)", "– (<11/39)"]
    assert drawn == 4


def test_a_period_starting_inside_a_day_counts_calendar_dates_as_its_days_text_names(
    tmp_path: Path,
) -> None:
    """--start 2026-02-03T18:00 --end 2026-02-10T06:00 holds the dates 3 to 10 February (`3 Feb–10
    Feb`, 8 days). February's sodium rows are dated at 08:00 on each day, two a day from the 1st
    to the 12th: 12 rows here, on the 4th to the 9th. Counted in 24 h steps from 18:00 the table
    said `6 of 7 days`, a denominator the days' text does not give; the dates say 6 of 8."""
    inputs = _few_cases_delivery(tmp_path / "in", {"2026-02": 40})
    settings = AuditSettings(
        input_dir=inputs,
        out_dir=tmp_path / "out",
        start=pd.Timestamp("2026-02-03T18:00"),
        end=pd.Timestamp("2026-02-10T06:00"),
    )
    run_audit(settings)
    tables = _tables(tmp_path / "out")
    sodium = tables.loc[tables["measure"] == "sodium_results_in_window"].set_index("period")
    assert sodium.loc["2026-02", ["value", "suppressed"]].tolist() == ["12", ""]
    coverage = tables.loc[tables["table"] == "coverage"].set_index("period")
    assert coverage.loc["2026-02", ["value", "denominator"]].tolist() == ["6", "8"]
    page = (tmp_path / "out" / "audit.html").read_text(encoding="utf-8")
    assert "3 Feb–10 Feb" in page
    assert _row_cells(page, "days with sodium rows")[0] == "6 of 8 days"


def test_the_notes_name_the_rules_copy_s_windows_and_codes(tmp_path: Path) -> None:
    """An audit with a site rules copy (over-correction window 12 h and limit 10 mmol/L,
    workup 12 h before to 72 h after, E87.11 added to the hyponatremia codes): the notes beside
    the tables say so, where they said 24 h, 24 h / 48 h and (E87.1, ICD-9 276.1) whatever the
    rules."""
    import shutil

    from hyposcreen.rules.loader import RULES_DIR

    rules = tmp_path / "rules"
    shutil.copytree(RULES_DIR, rules, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    text = (rules / "rules.yaml").read_text(encoding="utf-8")
    for old, new in [
        ("overcorrection_window_hours: 24", "overcorrection_window_hours: 12"),
        ("overcorrection_mmol_per_24h: 8", "overcorrection_mmol_per_24h: 10"),
        ("workup_hours_before: 24", "workup_hours_before: 12"),
        ("workup_hours_after: 48", "workup_hours_after: 72"),
        ('ICD-10-CM: ["E87.1"]', 'ICD-10-CM: ["E87.1", "E87.11"]'),
    ]:
        assert old in text
        text = text.replace(old, new, 1)
    (rules / "rules.yaml").write_text(text, encoding="utf-8")
    out = tmp_path / "audit"
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv(KEY_ENV, raising=False)
        run_audit(
            AuditSettings(
                input_dir=SAMPLE,
                out_dir=out,
                start=pd.Timestamp("2026-11-01"),
                end=pd.Timestamp("2026-12-01"),
                rules_dir=rules,
            )
        )
    page = html.unescape((out / "audit.html").read_text(encoding="utf-8"))
    assert "Cases with a rise of more than 10 mmol/L within 12 h from a hyponatremic" in page
    assert "urine sodium from 12 h before to 72 h after the index result." in page
    assert "cases with a hyponatremia code (E87.1, E87.11, ICD-9 276.1) recorded" in page
    assert "within 24 h" not in page and "48 h after" not in page


def test_the_page_title_names_the_period_in_the_site_zone(sample_audit: Path) -> None:
    """The browser tab and a printed page's header show the title: its period reads as the
    page's does, with the zone, not as bare ISO times a reader takes for any clock."""
    page = (sample_audit / "audit.html").read_text(encoding="utf-8")
    title = page[page.index("<title>") + len("<title>") : page.index("</title>")]
    assert title == "Hyponatremia screening audit · 15 Oct 2026 00:00 to 01 Dec 2026 00:00 UTC"


def _note(page: str, section: str) -> str:
    text = page[page.index(f'id="{section}"') :]
    found = re.search(r'<p class="note">(.*?)</p>', text)
    assert found is not None, section
    return html.unescape(found.group(1))


def test_the_notes_say_what_each_tier_and_the_over_correction_limit_are(
    sample_audit: Path,
) -> None:
    """A QI lead who never read the spec reads `tier 2` and `over-rapid correction` beside the
    numbers: the notes say what puts a case in each tier and which rise is too fast (the
    packaged rules: 8 mmol/L in 24 h, 6 with a correction risk), that a rise may start in the
    72 h a run of the month reads before it, and name the coding rows as the table shows them
    (`cases coded share`, not `cases_coded_share`); the risk factors' shares may add up to
    more than 100 %, and a severe value's follow-up is counted within its month."""
    page = (sample_audit / "audit.html").read_text(encoding="utf-8")
    tiers = _note(page, "cases_by_tier")
    assert "tier 1 urgent: a severe value or an over-rapid correction" in tiers
    assert "mild with 2 or more risk factors" in tiers
    assert "a fall of 5 mmol/L or more within 48 h; tier 3 routine" in tiers
    rise = _note(page, "over_rapid_correction")
    assert "a rise of more than 8 mmol/L within 24 h from a hyponatremic result" in rise
    assert "(6 mmol/L with a correction risk" in rise and "from 72 h before the month" in rise
    coding = _note(page, "coding_gap")
    assert (
        coding.startswith("Cases coded share: ") and "; coded without low sodium share: " in coding
    )
    assert "_" not in coding
    assert "the whole-period column sums the months" in _note(page, "attrition")
    assert "the shares add up to more than 100 %" in _note(page, "risk_factors")
    assert "before the month's end" in _note(page, "severe_follow_up")


def test_the_notice_says_overlapping_audits_give_suppressed_cells_back(sample_audit: Path) -> None:
    """The limit the README states, on the page a committee reads: two audits sharing months
    (October to November, then October to December) give cells back by subtraction, also a
    month's cell one hides and the other shows, and a median a value."""
    page = (sample_audit / "audit.html").read_text(encoding="utf-8")
    found = re.search(r'<p class="notice"[^>]*>(.*?)</p>', page)
    assert found is not None
    notice = html.unescape(re.sub(r"<[^>]+>", "", found.group(1)))
    assert "The protection holds within this audit only." in notice
    assert "October to November, then October to December" in notice
    assert "a month's cell hidden here to protect another may be shown there" in notice
    assert "a median over a few more values gives one of those values back" in notice
    assert "Publish audits of disjoint periods under one profile" in notice


def test_the_notes_numbers_without_a_run_s_rules_are_the_packaged_rules() -> None:
    """A page rendered without the run's numbers (section_tables alone) states the packaged
    rules' thresholds, not a stale copy of them."""
    from hyposcreen.audit import DEFAULT_CODES
    from hyposcreen.report.audit_rule_numbers import PACKAGED_NUMBERS, rule_numbers
    from hyposcreen.rules.loader import load_rules

    assert rule_numbers(load_rules(), DEFAULT_CODES) == PACKAGED_NUMBERS
