"""The review list's output contract (columns, tiers, ranks 1..n, risk-factor vocabulary),
checked with the ``review_list`` suite before the list is published."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from hyposcreen.validate.context import run_jobs
from hyposcreen.validate.outcomes import ROW_ID, ExpectationOutcome, ValidationReport, plain_outcome
from hyposcreen.validate.results import read_outcomes
from hyposcreen.validate.suites import (
    REVIEW_LIST,
    build_job,
    contract_columns,
    load_suite_spec,
    risk_factor_regex,
)


def validate_review_list(
    review: pd.DataFrame, vocabulary: Sequence[str], *, suites_dir: Path | None = None
) -> ValidationReport:
    """Check the review list's contract: columns, tiers, ranks 1..n, risk-factor vocabulary."""
    started = time.perf_counter()
    spec = load_suite_spec(REVIEW_LIST, suites_dir)
    view = review.iloc[:, : len(contract_columns(spec))].reset_index(drop=True)
    view.index = view.index.rename(ROW_ID)
    outcomes = _integer_dtype_outcomes(view, spec)
    # max(…, 1): GX rejects the bounds [1, 0]; an empty list has no rank to check anyway
    params = {"n_rows": max(len(view), 1), "risk_factor_regex": risk_factor_regex(vocabulary)}
    skipped: list[dict[str, str]] = []
    job = build_job(REVIEW_LIST, view, view, spec, params, skipped)
    outcomes.extend(read_outcomes(job, run_jobs([job])[0].result))
    return ValidationReport(outcomes, skipped, time.perf_counter() - started)


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
