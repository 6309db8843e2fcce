"""The data contracts of `hyposcreen audit`, run once over the read its months share.

A run validates its window's cleaned tables with Great Expectations (recipe_contracts): a
critical failure stops it (exit 3, naming file, column and example rows; results all written
with decimal commas say so), and a share contract breached by less than a broken delivery
warns (`contract_*`, exit 4). The audit runs the same contracts with the run's functions,
once per read: the months cut from one read are validated together, as one run over the
whole period would validate them (the read's cleaned labs, from the context before the first
month to the period's end, and the medications, diagnoses and patients, which every month
holds whole; window_end is the period's end); a month read for itself, on its own tables.
The contracts go to the contracts worker when the audit has one (sent once the first month
is cleaned, answered after the months are screened, so GX works beside the screen), else
they run in this process. Their stop and warnings are the run's, with the run's messages;
`outcome` gives what audit_manifest.json says of them (counts, no value, no row). The rows a
warning expectation flags that cleaning had kept stay in the months' counts (a run quarantines
them); no Data Docs are written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from hyposcreen.audit_warning_text import shown_count
from hyposcreen.config import Window
from hyposcreen.context import CleanedInputs, RunContext
from hyposcreen.decimal_commas import decimal_comma_count, hinting_decimal_commas
from hyposcreen.recipe_contracts import (
    AskedWorker,
    ask_worker,
    read_frames,
    read_labs,
    run_contracts,
    worker_report,
)


@dataclass
class SentContracts:
    """The contracts of one read: the context they judge (its window: the read's period), the
    tables, and the worker they were sent to (None: validated in this process when taken)."""

    ctx: RunContext
    frames: Callable[[], Mapping[str, pd.DataFrame]]
    decimal_commas: Callable[[], int]
    asked: AskedWorker | None


def send_contracts(ctx: RunContext, cleaned: CleanedInputs, period: Window) -> SentContracts:
    """The contracts of the read of `ctx`'s window, over `period` (the months that read
    holds), sent to the worker when there is one."""
    judged = replace(ctx, settings=replace(ctx.settings, window=period), timings={})
    labs = read_labs(ctx, cleaned)
    frames = read_frames(labs, cleaned)
    asked = ask_worker(judged, lambda: frames, data_docs=False)
    return SentContracts(
        judged,
        lambda: frames,
        lambda: decimal_comma_count(labs, ctx.mapping.decimal),
        asked,
    )


def take_contracts(sent: SentContracts) -> dict[str, Any]:
    """The validation summary of `sent` (the worker's answer, else validated here); a critical
    failure raises the run's InputError, hinted as a run hints it when results are written with
    decimal commas."""
    with hinting_decimal_commas(sent.decimal_commas):
        if sent.asked is not None:
            report = worker_report(sent.ctx, sent.asked, sent.frames)
        else:
            report = run_contracts(sent.ctx, sent.frames(), data_docs=False)
    summary: dict[str, Any] = report.summary()
    return summary


def outcome(summaries: list[dict[str, Any]], min_cell: int = 0) -> dict[str, Any]:
    """What audit_manifest.json says of the contracts: whether every read passed, the failed
    expectations by read (`period`: the month a read holds alone, `total` for the months
    sharing one), table and kind, and the Great Expectations version (counts only; one
    from 1 to `min_cell`-1 written `<k`, as the tables write it: a read's rows breaking a
    contract are results its months' funnel loses, and a one-month read is that month's)."""
    failed = [
        {
            "period": summary.get("period", ""),  # the read's months: its label, or `total`
            "table": o["table"],
            "expectation": o["expectation"],
            "column": o["column"],
            "severity": o["severity"],
            "reason": o["reason"],
            "unexpected_count": shown_count(int(o["unexpected_count"]), min_cell),
        }
        for summary in summaries
        for o in summary["outcomes"]
        if not o["success"]
    ]
    return {
        "judged": "once per read of the input (the months cut from one read together)",
        "reads": len(summaries),
        "passed": all(s["passed"] for s in summaries),
        "failed_warnings": sum(int(s["failed_warnings"]) for s in summaries),
        "failed": failed,
        "great_expectations": summaries[0]["great_expectations"] if summaries else None,
    }
