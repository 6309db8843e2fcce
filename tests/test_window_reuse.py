"""Many windows, one read, without doing the same work again: what a loop over windows
decides once and reuses (recipe.window_free_events, validate.context.remembering_results)
gives exactly what each window computes alone, and the review list's pass/fail-first GX run
gives the outcomes of the full result. Real GX throughout.

Whole backfills against lone nights: tests/test_shared_read.py; the screen's side:
tests/test_window_reuse_screen.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from gx_tables import VOCABULARY, make_review
from helpers import RULES, cleaned_dx, cleaned_meds
from hyposcreen.clean.events import (
    diagnoses_in_window,
    diagnosis_facts,
    medication_facts,
    medications_in_window,
)
from hyposcreen.config import Window
from hyposcreen.ingest.canonical import DIAGNOSES, MEDICATIONS
from hyposcreen.validate import context as gx_context
from hyposcreen.validate import review_list
from hyposcreen.validate.outcomes import ROW_ID
from hyposcreen.validate.review_list import SEVERITY_LABELS
from hyposcreen.validate.suites import REVIEW_LIST, build_job, load_suite_spec, risk_factor_regex

ONE_DAY = pd.Timedelta(days=1)
NIGHTS = [Window(pd.Timestamp(d), pd.Timestamp(d) + ONE_DAY) for d in ("2026-11-19", "2026-11-20")]


# ------------------------------------------------------------------ cleaning's window-free part


def _meds() -> list[dict[str, Any]]:
    """A loop diuretic started on the second night (after the first night's window: not
    relevant then, used on the second), one before both, an unlisted drug, an excluded
    status and a missing patient (reasons that come before the window's check)."""
    return [
        {"patient_id": "P1", "drug_name": "Furosemide 40 mg", "start_time": "2026-11-20 08:00"},
        {"patient_id": "P2", "drug_name": "Hydrochlorothiazide", "start_time": "2026-11-01 08:00"},
        {"patient_id": "P3", "drug_name": "Paracetamol 500 mg", "start_time": "2026-11-20 09:00"},
        {
            "patient_id": "P4",
            "drug_name": "Sertraline 50 mg",
            "start_time": "2026-11-20 10:00",
            "status": "entered-in-error",
        },
        {"patient_id": "", "drug_name": "Furosemide", "start_time": "2026-11-20 11:00"},
    ]


def _diagnoses() -> list[dict[str, Any]]:
    return [
        {"patient_id": "P1", "code": "N18.3", "code_system": "ICD-10-CM",
         "recorded_time": "2026-11-20 06:00"},
        {"patient_id": "P2", "code": "N18.4", "code_system": "ICD-10-CM",
         "recorded_time": "2026-10-01 06:00"},
        {"patient_id": "P3", "code": "Z99.9", "code_system": "ICD-10-CM",
         "recorded_time": "2026-11-20 07:00"},
        {"patient_id": "P4", "code": "E87.1", "code_system": "made-up",
         "recorded_time": "2026-11-20 07:00"},
    ]  # fmt: skip


def test_window_free_cleaning_decided_once_gives_each_windows_own_cleaning() -> None:
    """Facts decided once, then each night's window: the frame and matches each night's
    clean_medications / clean_diagnoses give, and the facts are not changed by a window."""
    from helpers import frame

    meds, diagnoses = frame(MEDICATIONS, _meds()), frame(DIAGNOSES, _diagnoses())
    med_facts, dx_facts = medication_facts(meds, RULES), diagnosis_facts(diagnoses, RULES)
    reasons = []
    for window in NIGHTS:
        got, matches = medications_in_window(med_facts, window)
        expected, expected_matches = cleaned_meds(_meds(), window)
        pd.testing.assert_frame_equal(got, expected, check_exact=True)
        pd.testing.assert_frame_equal(matches, expected_matches, check_exact=True)
        dx = diagnoses_in_window(dx_facts, window)
        pd.testing.assert_frame_equal(dx, cleaned_dx(_diagnoses(), window), check_exact=True)
        reasons.append((got["reason"].tolist(), dx["reason"].tolist()))
        assert "bucket" not in med_facts.frame.columns and "bucket" not in dx_facts.frame.columns
    # P1's diuretic starts after the first night's window: not relevant there, used the next
    assert reasons[0][0][0] == "after_window" and pd.isna(reasons[1][0][0])
    assert reasons[0][1][0] == "after_window" and pd.isna(reasons[1][1][0])
    assert reasons[0][0][2:] == reasons[1][0][2:] == ["unlisted_drug", "status", "missing_key"]


# ------------------------------------------------------------------ GX results reused


def _job(review: pd.DataFrame) -> Any:
    spec = load_suite_spec(REVIEW_LIST)
    view = review.iloc[:, :18].reset_index(drop=True)
    view.index = view.index.rename(ROW_ID)
    params = {
        "n_rows": max(len(view), 1),
        "risk_factor_regex": risk_factor_regex(VOCABULARY),
        "severity_labels": list(SEVERITY_LABELS),  # the packaged profiles' labels
    }
    return build_job(REVIEW_LIST, view, view, spec, params, [])


def test_a_result_is_reused_only_for_the_same_view_while_remembering() -> None:
    """Outside a window loop nothing is kept; inside, the same job reuses the GX result with
    this call's run id (the earlier one's meta untouched); a view with one value changed (same
    rows) or another suite parameter is validated afresh; leaving the loop forgets."""
    job = _job(make_review(4))
    first, second = gx_context.run_jobs([job])[0], gx_context.run_jobs([job])[0]
    assert first.result.results is not second.result.results
    with gx_context.remembering_results():
        kept = gx_context.run_jobs([job])[0]
        again = gx_context.run_jobs([job])[0]
        assert again.result.results is kept.result.results  # the same expectation results
        assert again.result.meta is not kept.result.meta
        assert again.result.meta["run_id"] != kept.result.meta["run_id"]
        assert (again.batch_id, again.suite) == (kept.batch_id, kept.suite)

        broken = make_review(4)
        broken.loc[1, "tier"] = 4  # same rows, one value: another view
        fresh = gx_context.run_jobs([_job(broken)])[0]
        assert fresh.result.results is not kept.result.results
        assert fresh.result.success is False and kept.result.success is True

        other = _job(make_review(4))
        other.suite["expectations"] = other.suite["expectations"][:-1]  # another suite
        assert gx_context.view_key(other) != gx_context.view_key(job)
        assert gx_context.run_jobs([other])[0].result.results is not kept.result.results

        longer = _job(make_review(5))  # another row count: not digested, no result kept
        gx_context.run_jobs([longer])
        assert gx_context._LAST_RESULT[REVIEW_LIST][1:3] == (None, None)
        digested = gx_context.run_jobs([longer])[0]  # the same count again: digested, kept
        assert gx_context.run_jobs([longer])[0].result.results is digested.result.results
    assert gx_context._LAST_RESULT == {}


def test_view_key_covers_values_dtypes_categories_and_index() -> None:
    base = _job(make_review(3))
    key = gx_context.view_key(base)
    assert gx_context.view_key(_job(make_review(3))) == key  # equal content, equal key
    changes = []
    for change in ("value", "dtype", "index", "categories"):
        job = _job(make_review(3))
        view = job.view
        if change == "value":
            view.loc[0, "index_sodium"] = view.loc[0, "index_sodium"] + 0.1
        elif change == "dtype":
            view["rank"] = view["rank"].astype("int32")
        elif change == "index":
            view.index = pd.Index([0, 1, 5], name=ROW_ID)
        else:
            view["severity"] = view["severity"].astype("category").cat.add_categories(["x"])
            base.view["severity"] = base.view["severity"].astype("category")
            key = gx_context.view_key(base)
        changes.append(gx_context.view_key(job) != key)
    assert changes == [True, True, True, True]


# ------------------------------------------------------------------ the review list's suite


@pytest.mark.parametrize("rows", [0, 5])
def test_a_passing_review_list_has_the_full_results_outcomes(
    rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pass/fail-only GX run of a passing list gives the outcomes (every field) of the
    full result, and is the only run."""
    formats: list[Any] = []
    run_jobs = gx_context.run_jobs

    def counted(jobs: list[Any], result_format: Any = None) -> Any:
        formats.append(result_format)
        return run_jobs(jobs, result_format)

    monkeypatch.setattr(review_list, "run_jobs", counted)
    quick = review_list.validate_review_list(make_review(rows), VOCABULARY)
    assert formats == [gx_context.PASS_OR_FAIL]
    monkeypatch.setattr(review_list, "_all_or_nothing", lambda suite: False)
    full = review_list.validate_review_list(make_review(rows), VOCABULARY)
    assert formats[1:] == [None]
    assert [o.as_dict() for o in quick.outcomes] == [o.as_dict() for o in full.outcomes]
    assert all(o.success for o in quick.outcomes) and len(quick.outcomes) > 15


def test_a_failing_review_list_is_told_by_the_full_result(monkeypatch: pytest.MonkeyPatch) -> None:
    """A list that breaks an expectation is run again for the full result: counts and the
    example rows of its failure."""
    review = make_review(4)
    review.loc[1, "tier"] = 4
    report = review_list.validate_review_list(review, VOCABULARY)
    tier = next(o for o in report.critical_failures() if o.reason == "tier")
    assert (tier.unexpected_count, tier.example_rows) == (1, ["review_list:2"])
    assert tier.unexpected_percent == pytest.approx(25.0)


# ------------------------------------------------------------------ the labs cleaned once


@pytest.mark.parametrize("with_state", [False, True], ids=["stateless", "nightly-state"])
def test_labs_cleaned_once_and_cut_are_each_windows_own_cleaning(
    tmp_path: Path, with_state: bool
) -> None:
    """On the extract with rows on every read-range edge, duplicates, unknown codes, a
    non-numeric value, an excluded status and an undated row: the shared read's labs cleaned
    once and cut give every night's lone cleaning (rows, order, numbering, every column), and
    so do the window-free medications and diagnoses; the union is cleaned once."""
    from dataclasses import replace

    from hyposcreen.clean import clean_labs
    from hyposcreen.clean.events import clean_diagnoses, clean_medications
    from hyposcreen.recipe_clean import window_free_events, window_labs
    from hyposcreen.recipe_read import read_once, read_tables, window_tables
    from hyposcreen.site_words import SiteWords
    from shared_read_runs import BERLIN, DST_NIGHTS, edge_extract, site_mapping, window_contexts

    extract = edge_extract(tmp_path / "in", DST_NIGHTS, BERLIN)
    state = tmp_path / "state" if with_state else None
    ctx, *nights = window_contexts(extract, site_mapping(tmp_path, BERLIN), DST_NIGHTS, state)
    shared = read_once(ctx, [n.settings.window for n in nights])
    kept = []
    for night in nights:
        lone = read_tables(night).tables
        words = night.words or SiteWords(frozenset(), ())
        expected = clean_labs(lone["labs"].frame, night.rules, words.decimal)
        cut_night = replace(night, shared_read=shared)
        got = window_labs(cut_night, None, words)  # every column cut from the cleaned read
        pd.testing.assert_frame_equal(got, expected, check_exact=True)
        # with the window's read: its columns as read, only cleaning's own columns cut
        read = window_tables(shared, cut_night)
        with_read = window_labs(cut_night, read, words)
        pd.testing.assert_frame_equal(with_read, expected, check_exact=True)
        assert shared.decided["labs"][3] == [
            "value_canonical",
            "value_num",
            "censored",
            "bucket",
            "reason",
        ]
        assert set(got["bucket"]) >= {"used", "duplicate", "quarantined"}
        events = window_free_events(cut_night, _Read(lone), words)
        meds, matches = medications_in_window(events.medications, night.settings.window)
        lone_meds, lone_matches = clean_medications(
            lone["medications"].frame, night.rules, night.settings.window
        )
        pd.testing.assert_frame_equal(meds, lone_meds, check_exact=True)
        pd.testing.assert_frame_equal(matches, lone_matches, check_exact=True)
        dx = diagnoses_in_window(events.diagnoses, night.settings.window)
        expected_dx = clean_diagnoses(lone["diagnoses"].frame, night.rules, night.settings.window)
        pd.testing.assert_frame_equal(dx, expected_dx, check_exact=True)
        kept.append((shared.decided["labs"][2], events))
    assert all(k[0] is kept[0][0] and k[1] is kept[0][1] for k in kept)  # decided once


class _Read:
    def __init__(self, tables: dict[str, Any]) -> None:
        self.tables = tables


def test_bucket_sizes_count_an_empty_reason_as_none() -> None:
    """5 rows: used without reason (NaN, None, ''), two quarantined for status."""
    from hyposcreen.clean.buckets import bucket_sizes

    frame = pd.DataFrame(
        {
            "bucket": pd.array(["used", "used", "used", "quarantined", "quarantined"], "str"),
            "reason": pd.Series([float("nan"), None, "", "status", "status"], dtype=object),
        }
    )
    sizes = bucket_sizes(frame)
    assert sizes == {("quarantined", "status"): 2, ("used", ""): 3}
    assert list(sizes) == [("quarantined", "status"), ("used", "")]  # sorted, as grouped
    assert bucket_sizes(frame.iloc[:0]) == {}


def test_quarantine_rows_of_events_built_once_are_each_windows_own(tmp_path: Path) -> None:
    """The sample over two nights from one read: each night's quarantine rows (a medication
    and a diagnosis among the labs') equal those built from its own cleaned tables; the
    medications' and diagnoses' rows are built on the first night only, and built again
    when a contract warning quarantines one more row."""
    from dataclasses import replace

    from hyposcreen import recipe
    from hyposcreen.recipe_quarantine import quarantined_rows
    from hyposcreen.recipe_read import read_once
    from hyposcreen.report.quarantine import quarantine_rows
    from shared_read_runs import SAMPLE, window_contexts

    mapping = tmp_path / "site.yaml"
    mapping.write_text("site: test\ntimezone: UTC\n", encoding="utf-8")
    ctx, *nights = window_contexts(SAMPLE, mapping, ["2026-11-19", "2026-11-20"], None)
    shared = read_once(ctx, [n.settings.window for n in nights])
    built = []
    for night in nights:
        night = replace(night, shared_read=shared)
        cleaned = recipe.clean(night, recipe.read(night))
        frames = {n: getattr(cleaned, n) for n in ("labs", "medications", "diagnoses")}
        expected = quarantine_rows(frames)
        assert set(expected["table"]) == {"labs", "medications", "diagnoses"}
        pd.testing.assert_frame_equal(quarantined_rows(night, cleaned), expected, check_exact=True)
        built.append(shared.decided["quarantine"][2])
    assert built[1] is built[0]
    used = cleaned.medications.index[cleaned.medications["bucket"] == "used"][0]
    cleaned.medications.loc[used, ["bucket", "reason"]] = ["quarantined", "end_before_start:1"]
    frames = {n: getattr(cleaned, n) for n in ("labs", "medications", "diagnoses")}
    again = quarantined_rows(night, cleaned)
    pd.testing.assert_frame_equal(again, quarantine_rows(frames), check_exact=True)
    assert shared.decided["quarantine"][2] is not built[0]
