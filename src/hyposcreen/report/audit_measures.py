"""QI audit measures: the counts of each period (report.audit_counts) as a long table, after
small-cell suppression.

Every measure is a count (or a rate of two counts, or a median of n values, or the days of a
period with data), so one long table holds them all: table, period, measure, numerator,
denominator, value, unit, suppressed (audit_tables.csv adds what each row covers and was
judged by: shared_tables).
Counts from 1 to min_cell_size-1 are suppressed (0 is shown); a rate is shown when its
numerator and denominator are; a median needs n >= min_cell_size. Complementary suppression
(report.suppression) hides more cells until no hidden count can be recovered from the shown
ones; the `suppressed` column says which: "primary", "complementary" or "" (shown).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from hyposcreen.report.audit_counts import PeriodCounts
from hyposcreen.report.suppression import COMPLEMENTARY, Ordering, build_problem, suppress

TOTAL = "total"
TABLE_COLUMNS = [
    "table",
    "period",
    "measure",
    "numerator",
    "denominator",
    "value",
    "unit",
    "suppressed",
]


# Partitions (members, whole) within every period.
_PARTITIONS = [
    (("tier_1", "tier_2", "tier_3"), "listed"),
    (("listed", "not_listed"), "cases"),
]
# Attrition steps that are the same numbers as cells of the other tables.
_SHARED_STEPS = {"cases": "cases", "listed": "listed", "cases_with_risk_factor": "cases_any_rf"}
# (larger, smaller) published pairs whose difference counts patients or results: the results
# leaving the funnel between two steps, the cases without a measure's numerator, the urgent
# cases not over-corrected.
_FUNNEL_DIFFERENCES = [
    ("attrition_sodium_results_in_window", "attrition_usable_results"),
    ("attrition_usable_results", "attrition_hyponatremic_results"),
    ("cases", "cases_any_rf"),
    ("cases", "listed"),
    ("listed", "cases_any_rf"),  # listed for a severe value or over-correction alone
    ("tier_1", "overcorrection"),  # urgent for a severe value alone, not over-corrected
]
# (smaller, larger) cells a reader knows to be ordered within a period (a subset counted
# against its whole; either side may be several cells, summed); the suppression uses each one
# where the true counts obey it
_ORDERINGS: list[Ordering] = [
    ("attrition_usable_results", "attrition_sodium_results_in_window"),
    ("attrition_hyponatremic_results", "attrition_usable_results"),
    ("attrition_hyperglycemia_related_results", "attrition_usable_results"),
    # a result low only before the glucose correction is not hyponatremic after it
    (
        ("attrition_hyponatremic_results", "attrition_hyperglycemia_related_results"),
        "attrition_usable_results",
    ),
    ("cases", "attrition_hyponatremic_results"),
    ("cases_any_rf", "cases"),
    ("cases_any_rf", "listed"),
    ("overcorrection", "listed"),
    # tiers (spec §9): an over-corrected case is urgent; a tier 2 or 3 case is neither
    # severe nor over-corrected, so it is listed for a risk factor
    ("overcorrection", "tier_1"),
    (("tier_2", "tier_3"), "cases_any_rf"),
    ("workup_complete", "cases"),
    ("cases_coded", "cases"),
    ("coded_without_low_sodium", "coded_patients"),
    ("severe_with_next_sodium", "attrition_hyponatremic_results"),
]
_RATES = [  # table, measure, numerator cell, denominator cell
    ("over_rapid_correction", "overcorrection_rate", "overcorrection", "cases"),
    ("workup", "workup_complete_rate", "workup_complete", "cases"),
    ("coding_gap", "cases_coded_share", "cases_coded", "cases"),
    ("coding_gap", "coded_without_low_sodium_share", "coded_without_low_sodium", "coded_patients"),
]


def step_cell(step: str) -> str:
    return _SHARED_STEPS.get(step, f"attrition_{step}")


def _cells(data: PeriodCounts) -> dict[str, int]:
    return {**data.counts, **{step_cell(s): v for s, v in data.attrition}}


def hidden_cells(
    periods: list[PeriodCounts], vocabulary: tuple[str, ...], min_cell: int,
    protection_range: int = 0,
) -> dict[tuple[str, str], str]:  # fmt: skip
    """(period, cell) -> "primary" | "complementary" for every hidden cell of the audit;
    no hidden count can be narrowed to a range shorter than `protection_range`."""
    counts = {data.period: _cells(data) for data in periods}
    differences = _FUNNEL_DIFFERENCES + [("cases", f"rf_{name}") for name in vocabulary]
    # the cases with a risk factor other than this one
    differences += [("cases_any_rf", f"rf_{name}") for name in vocabulary]
    differences += [(den, num) for _, _, num, den in _RATES]
    factors = tuple(f"rf_{name}" for name in vocabulary)
    # a case with a risk factor has at least one of them
    orderings = [*_ORDERINGS, *[(rf, "cases_any_rf") for rf in factors], ("cases_any_rf", factors)]
    if "rf_cramp_documented" in factors:  # a case with a documented cramp is urgent or soon
        orderings.append(("rf_cramp_documented", ("tier_1", "tier_2")))
    problem = build_problem(
        counts, TOTAL, _PARTITIONS, differences, min_cell, orderings, protection_range
    )
    return suppress(problem, TOTAL)


def _rate_row(
    table: str, period: str, measure: str, numerator: int, denominator: int,
    numerator_hidden: str, denominator_hidden: str,
) -> dict[str, Any]:  # fmt: skip
    blocked = bool(numerator_hidden or denominator_hidden)
    return {
        "table": table,
        "period": period,
        "measure": measure,
        "numerator": None if numerator_hidden else numerator,
        "denominator": None if denominator_hidden else denominator,
        "value": None if blocked or denominator == 0 else round(numerator / denominator, 4),
        "unit": "share",
        "suppressed": numerator_hidden or denominator_hidden,
    }


def _count_row(table: str, period: str, measure: str, value: int, hide: str) -> dict[str, Any]:
    return {
        "table": table,
        "period": period,
        "measure": measure,
        "numerator": None if hide else value,
        "denominator": None,
        "value": None if hide else int(value),
        "unit": "count",
        "suppressed": hide,
    }


def _median_row(period: str, hours: list[float], hide: str, min_cell: int) -> dict[str, Any]:
    enough = len(hours) >= min_cell and not hide
    return {
        "table": "severe_follow_up",
        "period": period,
        "measure": "median_hours_to_next_sodium",
        "numerator": None,
        "denominator": None if hide else len(hours),
        "value": round(float(np.median(hours)), 2) if enough else None,
        "unit": "hours",
        "suppressed": hide,
    }


def _coverage_row(data: PeriodCounts, hide: str) -> dict[str, Any]:
    """The days of the period with a sodium row dated in them, of its days (from the audit's
    period, shown whatever the data): calendar days, not patients, so not suppressed for being
    few, but hidden with the period's `sodium_results_in_window`, which they bound from below."""
    return {
        "table": "coverage",
        "period": data.period,
        "measure": "days_with_sodium_rows",
        "numerator": None if hide else data.days_with_sodium_rows,
        "denominator": data.days_in_window,
        "value": None if hide else data.days_with_sodium_rows,
        "unit": "days",
        "suppressed": hide,
    }


def _coverage_hidden(label: str, hidden: dict[tuple[str, str], str]) -> str:
    """How a period's coverage is hidden: as its sodium rows are; the whole period's also when
    a month's are (the months' days add up to it)."""
    sodium = step_cell("sodium_results_in_window")
    own = hidden.get((label, sodium), "")
    if own or label != TOTAL:
        return own
    return COMPLEMENTARY if any(cell == sodium for _, cell in hidden) else ""


def period_rows(
    data: PeriodCounts, vocabulary: tuple[str, ...], hidden: dict[tuple[str, str], str],
    min_cell: int,
) -> list[dict]:  # fmt: skip
    """The suppressed rows of one period (or of the total)."""
    label = data.period
    counts = _cells(data)

    def kind(cell: str) -> str:
        return hidden.get((label, cell), "")

    def rate(table: str, measure: str, num: str, den: str) -> dict[str, Any]:
        return _rate_row(table, label, measure, counts[num], counts[den], kind(num), kind(den))

    rows = [_coverage_row(data, _coverage_hidden(label, hidden))]
    rows += [
        _count_row("cases_by_tier", label, name, counts[name], kind(name))
        for name in ("cases", "tier_1", "tier_2", "tier_3", "not_listed")
    ]
    rows += [rate("risk_factors", name, f"rf_{name}", "cases") for name in vocabulary]
    rows += [rate(*spec) for spec in _RATES[:2]]
    rows.append(
        _median_row(label, data.hours_to_next_sodium, kind("severe_with_next_sodium"), min_cell)
    )
    rows += [rate(*spec) for spec in _RATES[2:]]
    rows += [
        _count_row("attrition", label, step, value, kind(step_cell(step)))
        for step, value in data.attrition
    ]
    return rows


def audit_rows(
    periods: list[PeriodCounts], vocabulary: tuple[str, ...], min_cell: int,
    protection_range: int = 0,
) -> list[dict[str, Any]]:  # fmt: skip
    """The suppressed long table of every measure, per period and for the whole audit."""
    return audit_table(periods, vocabulary, min_cell, protection_range)[0]


def audit_table(
    periods: list[PeriodCounts], vocabulary: tuple[str, ...], min_cell: int,
    protection_range: int = 0,
) -> tuple[list[dict[str, Any]], dict[str, set[int]]]:  # fmt: skip
    """audit_rows, and per period (the total's under TOTAL) the true counts of its hidden
    cells, which no other text of the audit may tell (a warning's `120 sodium row(s)`)."""
    total = PeriodCounts(TOTAL)
    for data in periods:
        total.add(data)
    everything = [*periods, total]
    hidden = hidden_cells(everything, vocabulary, min_cell, protection_range)
    rows = [row for data in everything for row in period_rows(data, vocabulary, hidden, min_cell)]
    values = {data.period: _cells(data) for data in everything}
    secret: dict[str, set[int]] = {data.period: set() for data in everything}
    for period, cell in hidden:
        secret[period].add(int(values[period][cell]))
    return rows, secret


def audit_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The long table with integer counts (shares and hours stay decimal)."""
    frame = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    for column in ("numerator", "denominator"):
        frame[column] = frame[column].astype("Int64")
    frame["value"] = pd.Series(
        [
            None if pd.isna(v) else (int(v) if unit in ("count", "days") else float(v))
            for v, unit in zip(frame["value"], frame["unit"], strict=True)
        ],
        dtype=object,
        index=frame.index,
    )
    return frame


def shared_tables(
    frame: pd.DataFrame, bounds: dict[str, tuple[pd.Timestamp, pd.Timestamp]], about: list[str],
    min_cell: int,
) -> pd.DataFrame:  # fmt: skip
    """The long table as audit_tables.csv writes it, read without the page: beside `suppressed`
    the minimum cell size it was judged by (a `primary` count is 1 to min_cell_size - 1, a
    `complementary` one at least min_cell_size), each row's period start and end (site-local,
    the end excluded: a month the period cuts is the part in it, `total` the whole period,
    given in `bounds` by label) and `about` = [time zone, profile, rules version], which every
    output names (spec section 5)."""
    starts = frame["period"].map(lambda label: bounds[label][0].isoformat())
    ends = frame["period"].map(lambda label: bounds[label][1].isoformat())
    zone, profile, rules_version = about
    frame = frame.copy()
    frame.insert(frame.columns.get_loc("suppressed") + 1, "min_cell_size", min_cell)
    return frame.assign(
        period_start=starts,
        period_end=ends,
        time_zone=zone,
        profile=profile,
        rules_version=rules_version,
    )
