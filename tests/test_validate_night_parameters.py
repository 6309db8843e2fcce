"""The labs suite is the same every night: window_end is a GX suite parameter, substituted by
GX at validation (validate/run.NIGHT_PARAMETERS), so a backfill renders the suite's Data Docs
page once; each night still fails exactly its own rows, and a result is never reused for
another night's bound."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from gx_tables import make_frames
from hyposcreen.validate import context, gx_pages
from hyposcreen.validate import gx as v
from hyposcreen.validate.context import remembering_results
from hyposcreen.validate.remembered import suite_text
from hyposcreen.validate.suites import build_job, load_suite_spec

EARLY = pd.Timestamp("2026-11-20 10:00:00")  # make_labs: row i is taken at hour i (13 rows)
LATE = pd.Timestamp("2026-11-20 12:00:00")


def _outside_window(report: v.ValidationReport) -> list[int]:
    (outcome,) = [o for o in report.outcomes if o.reason == "outside_window"]
    return outcome.row_labels


def _validations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tables GX validates from now on (a reused result is not validated)."""
    seen: list[str] = []
    validate = context._validate_in_batches

    def counted(job: Any, *args: Any) -> Any:
        seen.append(job.table)
        return validate(job, *args)

    monkeypatch.setattr(context, "_validate_in_batches", counted)
    return seen


def test_each_night_fails_its_own_rows_with_the_same_suite() -> None:
    frames = make_frames()
    early = v.validate_tables(frames, window_end=EARLY)
    late = v.validate_tables(frames, window_end=LATE)
    assert _outside_window(early) == [10, 11, 12]  # taken at 10:00, 11:.., 12:.. >= 10:00
    assert _outside_window(late) == [12]
    (detail,) = [o.detail for o in late.outcomes if o.reason == "outside_window"]
    assert str(LATE) in detail
    spec = load_suite_spec("labs")
    jobs = [
        build_job("labs", frames["labs"], frames["labs"], spec, params, [], None, ("window_end",))
        for params in (_params(EARLY), _params(LATE))
    ]
    assert suite_text(jobs[0]) == suite_text(jobs[1])  # the same suite every night
    assert [job.suite_parameters for job in jobs] == [{"window_end": EARLY}, {"window_end": LATE}]
    medications = build_job(
        "medications",
        frames["medications"],
        frames["medications"],
        load_suite_spec("medications"),
        _params(EARLY),
        [],
        None,
        ("window_end",),
    )
    assert medications.suite_parameters == {}  # a suite that does not name it: none passed


def _params(window_end: pd.Timestamp) -> dict[str, Any]:
    from hyposcreen.validate.rule_values import packaged_rules, rule_parameters

    return {
        "window_end": window_end,
        "duplicate_mostly": 0.8,
        "numeric_sodium_mostly": 0.95,
        "max_duplicate_rate": 0.2,
        "max_non_numeric_sodium_rate": 0.05,
        **rule_parameters(packaged_rules()),
    }


def test_a_result_is_reused_for_the_same_night_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nights of one loop with the very same labs: the suite is the same, the bound is not, so
    the labs are validated again for another bound (their result would fail other rows) and
    reused only for the same bound."""
    frames = make_frames()
    validated = _validations(monkeypatch)
    with remembering_results():
        first = v.validate_tables(frames, window_end=EARLY)
        second = v.validate_tables(frames, window_end=LATE)
        third = v.validate_tables(frames, window_end=LATE)
    assert _outside_window(first) == [10, 11, 12]
    assert _outside_window(second) == [12]
    assert _outside_window(third) == [12]
    assert validated.count("labs") == 2  # early, late; the second late night reused late's
    assert validated.count("medications") == 1  # window_end is no parameter of its suite


def test_the_suite_page_is_rendered_once_and_each_night_shows_its_bound(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    frames = make_frames()
    rendered: list[str] = []
    render = gx_pages._render

    def counted(page: Path, view: Any, renderer: Any, resource: Any) -> Any:
        rendered.append(f"{type(renderer).__name__}:{page.stem}")
        return render(page, view, renderer, resource)

    monkeypatch.setattr(gx_pages, "_render", counted)
    with remembering_results():
        for name, end in (("early", EARLY), ("late", LATE)):
            v.validate_tables(frames, window_end=end, docs_dir=tmp_path / name)
    assert rendered.count("ExpectationSuitePageRenderer:labs") == 1
    suite_pages = [
        (tmp_path / n / "expectations" / "labs.html").read_text() for n in ("early", "late")
    ]
    assert suite_pages[0] == suite_pages[1]
    assert 'less than <span class="badge badge-secondary" >the run\'s window_end' in suite_pages[0]
    assert "$PARAMETER" not in suite_pages[0]
    for name, end in (("early", EARLY), ("late", LATE)):
        (page,) = (tmp_path / name / "validations" / "labs").rglob("*.html")
        text = page.read_text()
        assert f"{end}" in text and f"{LATE if end == EARLY else EARLY}" not in text


def test_a_gx_suite_is_reused_only_for_the_same_suite() -> None:
    """Within a loop the GX suite object (and so its page) is the one built for the same suite
    text; another plausible range makes another suite, built anew."""
    frames = make_frames()
    labs = frames["labs"]
    spec = load_suite_spec("labs")
    sodium = {"analyte": "sodium", "plausible_low": 100.0, "plausible_high": 130.0}
    strict = {**_params(EARLY), "plausible_range": [{**sodium, "canonical_unit": "mmol/L"}]}
    jobs = [
        build_job("labs", labs, labs, spec, params, [], None, ("window_end",))
        for params in (_params(EARLY), _params(LATE), strict)
    ]
    with remembering_results():
        suites = [context.run_jobs([job])[0].suite for job in jobs]
    assert suites[0] is suites[1]  # another night, the same suite
    assert suites[2] is not suites[0]
    highest = [
        e.configuration.kwargs.get("max_value")
        for e in suites[2].expectations
        if e.configuration.kwargs.get("row_condition")
        and e.configuration.kwargs.get("column") == "value_num"
    ]
    assert highest == [130.0]
