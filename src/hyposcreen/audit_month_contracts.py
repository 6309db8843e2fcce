"""The share contracts of `hyposcreen audit`, judged month by month from counts.

The run's data contracts judge each read of the audit once, over all the months cut from it
(audit_contracts): a share contract (a suite's `rate` expectation: duplicate results,
non-numeric sodium values) is then judged over the whole period, where one broken month among
six or twelve is diluted below its limit and the audit would finish quiet with that month's
rates silently wrong. So each month of a read that holds several months is judged too, on the
rows of the read's validated labs (the frame Great Expectations judges) whose specimen time
falls in the month:

- the rows' flags are the ones the contracts' view derives (validate.derived.derived_columns,
  from the clean stage's reason), counted per month with NumPy; Great Expectations is not run
  again per month (it still judges the whole read, which stops the audit on a critical
  failure, exit 3, as before);
- the limits are the numbers the suites are given: `validate.suites.share_parameters` of
  rules.yaml `contracts:` (`max_duplicate_rate`, `max_non_numeric_sodium_rate`), each check's
  `mostly` its suite parameter, compared as Great Expectations compares it (a month passes when
  at least `mostly` of its judged rows hold a value of the check's set);
- a month over a limit on fewer rows than rules.yaml `contracts: min_rows_to_judge` warns as
  a run of it warns (its breach demoted, `judged on 15 row(s), fewer than 20`), never called a
  broken delivery's share; a month with no row to judge is not judged (listed in
  audit_manifest.json as not judged), as Great Expectations passes a check of no rows;
- rows whose specimen time did not read belong to no month (the read's judgement counts them).

A month over a limit warns (`contract_<reason>`, labelled with its month: `[2026-03] …`, exit
4), naming the share and the rows judged; it never stops the audit, even at a broken delivery's
share (the message says so). A read of one month (a one-month audit, or a month read for
itself) is judged by the contracts alone, already that month's. Counts only, never a value,
and no count the audit's tables would suppress: the sodium rows a month's non-numeric share is
judged on are the month's `sodium_results_in_window`, and the rows breaking it part of the
results its funnel loses, so in the message and the manifest a count from 1 to min_cell-1 is
written `<11` and the share of such a count (which gives it back) is left out. So are the
rows breaking it when the rows keeping it are that few (`hidden`): 20 non-numeric of 21 give
back a month's single usable result.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from hyposcreen.audit_warning_text import shown_count
from hyposcreen.config import Window
from hyposcreen.context import RunContext
from hyposcreen.recipe_contracts import contract_limits
from hyposcreen.run_warnings import RunWarning
from hyposcreen.validate.derived import CLEAN_REASON, derived_columns
from hyposcreen.validate.suites import (
    detail_text,
    load_suite_spec,
    share_parameters,
    substitute,
)

TABLE, TIME = "labs", "specimen_time"  # every share contract is on labs, judged by their time
HIDDEN = "hidden"  # as the tables mark a complementary cell
JUDGED = (
    "each month of a read holding several: the rows whose specimen time falls in it, counted "
    "against the share contracts' limits (rules.yaml contracts:)"
)


@dataclass(frozen=True)
class MonthShare:
    """One share contract over one month's rows: `rows` judged, `unexpected` of them breaking
    it; `judged`: any row to judge; `breached`: judged and over the limit; `few`: judged on
    fewer than `min_rows_to_judge` rows."""

    period: str
    reason: str
    column: str
    detail: str
    rows: int
    unexpected: int
    judged: bool
    breached: bool
    broken: bool  # breached at a broken delivery's share (at which a run stops)
    few: bool = False


def judge_months(
    ctx: RunContext, labs: pd.DataFrame, months: Sequence[tuple[str, Window]]
) -> list[MonthShare]:
    """The share contracts over each of `months` (label, window: contiguous, in order) of the
    read whose validated labs are `labs`; none when the read holds one month or fewer."""
    if len(months) < 2 or TIME not in labs.columns:
        return []
    thresholds, min_rows, broken_share = contract_limits(ctx)
    return month_shares(
        labs, months, share_parameters(thresholds), load_suite_spec(TABLE), min_rows, broken_share
    )


def month_shares(
    labs: pd.DataFrame,
    months: Sequence[tuple[str, Window]],
    params: Mapping[str, Any],
    spec: Mapping[str, Any],
    min_rows: int,
    broken_share: float,
) -> list[MonthShare]:
    """The suite's `rate` expectations (`expect_column_values_to_be_in_set` with a `mostly`)
    counted per month: for each, month by month, in suite order."""
    bounds = np.array([w.start for _, w in months] + [months[-1][1].end], dtype="datetime64[us]")
    times = labs[TIME].to_numpy(dtype="datetime64[us]")
    position = np.searchsorted(bounds, times, side="right") - 1  # NaT sorts last: no month
    in_month = (position >= 0) & (position < len(months)) & ~np.isnat(times)
    have = [c for c in (CLEAN_REASON, "analyte") if c in labs.columns]
    derived = derived_columns(TABLE, labs, have, None)
    found: list[MonthShare] = []
    for expectation in spec["expectations"]:
        meta, kwargs = expectation.get("meta", {}), expectation.get("kwargs", {})
        column = kwargs.get("column")
        if not meta.get("rate") or column not in derived or "row_condition" in kwargs:
            continue
        if expectation["type"] != "expect_column_values_to_be_in_set":
            continue
        kwargs = substitute(kwargs, params)  # its {"$PARAMETER": name}s, as the suites fill them
        mostly = float(kwargs.get("mostly", 1.0))
        flags = derived[column]
        held = flags.notna().to_numpy() & in_month
        broke = held & ~flags.isin(kwargs["value_set"]).to_numpy()
        rows = np.bincount(position[held], minlength=len(months))
        unexpected = np.bincount(position[broke], minlength=len(months))
        detail = detail_text(str(meta.get("detail", expectation["type"])), params)
        for (label, _), n, bad in zip(months, rows.tolist(), unexpected.tolist(), strict=True):
            judged, few = n > 0, n < min_rows  # as a run demotes a breach of few rows
            breached = judged and (n - bad) / n < mostly
            broken = breached and not few and bad / n >= broken_share
            reason = str(meta["reason"])
            found.append(
                MonthShare(label, reason, column, detail, n, bad, judged, breached, broken, few)
            )
    return found


def _rows(share: MonthShare, min_cell: int, hidden: Collection[str]) -> int | str:
    """The rows judged as the audit may show them: `hidden` when the tables hide the month's
    sodium rows (complementary: 123 shown here would give back a `<11` month from the
    total), else shown_count."""
    shown = shown_count(share.rows, min_cell)
    return HIDDEN if share.period in hidden and not isinstance(shown, str) else shown


def _unexpected(share: MonthShare, min_cell: int) -> int | str:
    """The rows breaking the contract as the audit may show them: shown_count, but `hidden`
    when the rows keeping it are from 1 to min_cell-1: 20 non-numeric of 21 sodium rows leave
    1 numeric, and the month's usable results (`<11`) are at most that, so exactly 1."""
    kept = share.rows - share.unexpected
    shown = shown_count(share.unexpected, min_cell)
    return HIDDEN if 0 < kept < min_cell and not isinstance(shown, str) else shown


def _share_text(share: MonthShare, min_cell: int, hidden: Collection[str]) -> str:
    """The month's share and rows judged, without a count the tables would suppress."""
    rows = _rows(share, min_cell, hidden)
    if isinstance(rows, str) or isinstance(_unexpected(share, min_cell), str):
        return f"over the limit on {rows} row(s)"  # a share of a hidden count gives it back
    return f"{100 * share.unexpected / share.rows:.1f}% of {rows} row(s)"


def month_warnings(
    shares: Sequence[MonthShare],
    limits: tuple[int, float],
    went: str,
    min_cell: int = 0,
    hidden: Collection[str] = (),
) -> list[tuple[RunWarning, str]]:
    """A warning per month over a share contract's limit, with the month's label, in the
    months' order; `limits`: rules.yaml `contracts: min_rows_to_judge, broken_share`; `went`:
    where the breaching rows went (run_warnings.AUDIT_SETS_ASIDE); counts from 1 to
    `min_cell`-1 written `<k` (shown_count), the rows of the `hidden` months (whose
    `sodium_results_in_window` the tables hide) not told."""
    min_rows, broken_share = limits
    found = []
    for s in sorted(shares, key=lambda share: share.period):  # stable: contracts in order
        if not s.breached:
            continue
        broken = (
            f"; at least the {broken_share:.0%} that means a broken delivery, at which a run stops"
            if s.broken
            else f" (judged on {_rows(s, min_cell, hidden)} row(s), fewer than {min_rows})"
            if s.few
            else ""
        )
        message = (
            f"data contract breached by the rows of this month, judged month by month: {TABLE}: "
            f"{s.detail}: {_share_text(s, min_cell, hidden)}{broken}; {went}"
        )
        found.append((RunWarning(f"contract_{s.reason}", message), s.period))
    return found


def month_outcome(
    shares: Sequence[MonthShare], min_rows: int, min_cell: int = 0, hidden: Collection[str] = ()
) -> dict[str, Any]:
    """What audit_manifest.json's `contracts` says of the months (counts only, those from 1
    to `min_cell`-1 written `<k`, the rows judged of the `hidden` months `hidden`)."""

    def entry(s: MonthShare) -> dict[str, Any]:
        return {
            "period": s.period,
            "table": TABLE,
            "reason": s.reason,
            "column": s.column,
            "unexpected_count": _unexpected(s, min_cell),
            "rows_judged": _rows(s, min_cell, hidden),
        }

    return {
        "judged": JUDGED,
        "min_rows": min_rows,
        "months": len({s.period for s in shares}),
        "breached": [entry(s) for s in shares if s.breached],
        "not_judged": [entry(s) for s in shares if not s.judged],
    }
