"""Where results and patients leave the funnel (spec §7), in two parts.

The result steps (sodium rows in the window -> hyponatremic results) are counted when a set of
patients is screened and add up over patient-hash partitions; the case steps are counted once
the listing is final (after the nightly history held cases back).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from hyposcreen.clean import USED
from hyposcreen.config import Window

RESULT_STEPS = 4  # the steps `result_steps` counts; the rest come from the cases


def result_steps(
    labs: pd.DataFrame, sodium_results: pd.DataFrame, window: Window
) -> list[dict[str, Any]]:
    """The funnel of the sodium results (additive over partitions). `labs`: every cleaned row
    (analyte, specimen_time, bucket); `sodium_results`: the screen's (in_window,
    hyponatremic, hyperglycemia_related). Counted on masks: no row is copied."""
    time = labs["specimen_time"]
    in_window = (labs["analyte"] == "sodium") & (time >= window.start) & (time < window.end)
    usable = in_window & (labs["bucket"] == USED)
    results = sodium_results["in_window"].astype(bool)
    steps = [
        (
            "sodium_results_in_window",
            int(in_window.sum()),
            "serum/plasma/blood sodium rows dated in the window",
        ),
        ("usable_results", int(usable.sum()), "numeric, right unit, plausible, not duplicate"),
        (
            "hyperglycemia_related_results",
            int((results & sodium_results["hyperglycemia_related"].astype(bool)).sum()),
            "low only before glucose correction (not cases)",
        ),
        (
            "hyponatremic_results",
            int((results & sodium_results["hyponatremic"].astype(bool)).sum()),
            "hyponatremic after correction",
        ),
    ]
    return _as_rows(steps)


def with_case_steps(results: list[dict[str, Any]], cases: pd.DataFrame) -> list[dict[str, Any]]:
    """The whole funnel: the result steps, then the cases and the listing."""
    steps = [
        ("cases", len(cases), "patients with >= 1 hyponatremic result in the window"),
        (
            "cases_with_risk_factor",
            int((cases["n_risk_factors"] > 0).sum()) if len(cases) else 0,
            ">= 1 risk factor of spec §6",
        ),
    ]
    if "relisted_because" in cases:
        held_back = int((cases["relisted_because"] == "not_worse").sum())
        steps.append(
            ("held_back_listed_before", held_back, "listed in an earlier night, not worse since")
        )
    steps.append(
        (
            "listed",
            int(cases["listed"].sum()) if len(cases) else 0,
            "risk factor, or severe, or over-rapid correction (and, nightly, new or worse)",
        )
    )
    return [dict(step) for step in results[:RESULT_STEPS]] + _as_rows(steps)


def sum_result_steps(parts: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The result steps of several partitions, added up step by step."""
    merged = [dict(step) for step in parts[0]]
    for other in parts[1:]:
        for step, extra in zip(merged, other, strict=True):
            step["count"] = int(step["count"]) + int(extra["count"])
    return merged


def _as_rows(steps: list[tuple[str, int, str]]) -> list[dict[str, Any]]:
    return [{"step": s, "count": int(c), "meaning": m} for s, c, m in steps]
