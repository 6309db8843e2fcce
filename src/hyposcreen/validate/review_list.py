"""The review list's output contract (columns, tiers, ranks 1..n, risk-factor vocabulary),
checked with the ``review_list`` suite before the list is published."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from hyposcreen.validate.context import PASS_OR_FAIL, run_jobs
from hyposcreen.validate.outcomes import ROW_ID, ExpectationOutcome, ValidationReport, plain_outcome
from hyposcreen.validate.results import read_outcomes
from hyposcreen.validate.suites import (
    REVIEW_LIST,
    Job,
    build_job,
    contract_columns,
    load_suite_spec,
    risk_factor_regex,
)

# the severity labels of the packaged profiles (seed, eu2014); a run names its profile's own
SEVERITY_LABELS = ("mild", "moderate", "severe", "profound")


def validate_review_list(
    review: pd.DataFrame,
    vocabulary: Sequence[str],
    severities: Sequence[str] = SEVERITY_LABELS,
    *,
    suites_dir: Path | None = None,
) -> ValidationReport:
    """Check the review list's contract: columns, tiers, ranks 1..n, risk-factor vocabulary,
    severities among `severities` (the labels of the run's profile's bands). A run with a
    contracts worker has it checked there (this process then never imports GX); here when
    the worker fails."""
    if suites_dir is None:
        return review_list_check(review, vocabulary, severities)()
    return _checked_here(review, vocabulary, severities, suites_dir)


def review_list_check(
    review: pd.DataFrame, vocabulary: Sequence[str], severities: Sequence[str] = SEVERITY_LABELS
) -> Callable[[], ValidationReport]:
    """The review list's contract (validate_review_list), asked now and answered when the
    returned function is called: with a contracts worker the list is sent to it now (a loop's
    next windows are then read ahead: worker_client.review_asked), and the run writes its
    other outputs while the worker checks it; without one, or when the worker fails, it is
    checked in this process (now, or once the worker failed). `review` must not change before
    the answer is taken."""
    from hyposcreen.validate.remembered import remembering
    from hyposcreen.validate.worker_client import WorkerFailed, current, review_asked

    worker = current()
    if worker is not None:
        try:
            told = {
                "kind": "review_list",
                "vocabulary": list(vocabulary),
                "severities": list(severities),
            }
            number = worker.ask(told, {"review": review}, remember=remembering())
            review_asked()  # a loop's next windows read ahead while the worker checks it
        except (WorkerFailed, KeyError, TypeError, ValueError):
            pass
        else:

            def answered() -> ValidationReport:
                try:
                    return ValidationReport.from_message(worker.answer(number))
                except (WorkerFailed, KeyError, TypeError, ValueError):
                    return _checked_here(review, vocabulary, severities)

            return answered
    report = _checked_here(review, vocabulary, severities)
    return lambda: report


def _checked_here(
    review: pd.DataFrame,
    vocabulary: Sequence[str],
    severities: Sequence[str],
    suites_dir: Path | None = None,
) -> ValidationReport:
    started = time.perf_counter()
    spec = load_suite_spec(REVIEW_LIST, suites_dir)
    view = review.iloc[:, : len(contract_columns(spec))].reset_index(drop=True)
    view.index = view.index.rename(ROW_ID)
    outcomes = _integer_dtype_outcomes(view, spec)
    # max(…, 1): GX rejects the bounds [1, 0]; an empty list has no rank to check anyway
    params = {
        "n_rows": max(len(view), 1),
        "risk_factor_regex": risk_factor_regex(vocabulary),
        "severity_labels": sorted(set(severities)),
    }
    skipped: list[dict[str, str]] = []
    # n_rows stays a GX suite parameter (substituted by GX): the suite is the same every
    # night, so a loop of windows builds its GX suite once (validate/remembered.suite_once)
    job = build_job(REVIEW_LIST, view, view, spec, params, skipped, gx_parameters=("n_rows",))
    outcomes.extend(_suite_outcomes(job))
    return ValidationReport(outcomes, skipped, time.perf_counter() - started)


def _suite_outcomes(job: Job) -> list[ExpectationOutcome]:
    """The suite's outcomes. A list that passes every expectation (every night's) is told by
    GX's pass/fail-only result, which skips the metrics of failing rows (half the work); its
    outcomes are those of the full result: success, no unexpected rows, no examples. Only
    when an expectation fails, or one could pass with unexpected rows (`mostly`) or reports a
    rate, is the suite run again for the full result."""
    if _all_or_nothing(job.suite):
        outcomes = read_outcomes(job, run_jobs([job], PASS_OR_FAIL)[0].result)
        if all(o.success for o in outcomes):  # an expectation that raised did not succeed
            return outcomes
    return read_outcomes(job, run_jobs([job])[0].result)


def _all_or_nothing(suite: dict[str, Any]) -> bool:
    """Whether a passing expectation of `suite` always has no unexpected rows and no rate."""
    return not any(
        "mostly" in e.get("kwargs", {}) or e.get("meta", {}).get("rate")
        for e in suite["expectations"]
    )


def _integer_dtype_outcomes(view: pd.DataFrame, spec: dict[str, Any]) -> list[ExpectationOutcome]:
    outcomes = []
    for column in spec.get("meta", {}).get("integer_columns", []):
        if column in view.columns and len(view):
            ok = pd.api.types.is_integer_dtype(view[column].dtype)
            detail = f"column {column} has dtype {view[column].dtype}, expected integers"
            outcomes.append(
                plain_outcome(REVIEW_LIST, "hyposcreen.column_dtype", column, detail, "dtype", ok)
            )
    return outcomes
