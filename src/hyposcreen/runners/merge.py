"""The merge of a partitioned run: one screen result, reconciliation and quarantine from the
partitions' (global ranking and tie-breaks by `order_cases`, the quarantine in read order,
summed counts), then the recipe's own history and publish stages."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import pandas as pd

from hyposcreen import recipe
from hyposcreen.clean import reconcile
from hyposcreen.context import RunContext, RunSummary
from hyposcreen.delivery_counts import add_counts
from hyposcreen.ingest.canonical import IngestedTable
from hyposcreen.recipe_publish import write_results
from hyposcreen.report.attrition import sum_result_steps
from hyposcreen.report.coverage import combine as combine_coverage
from hyposcreen.report.quarantine import order_quarantine
from hyposcreen.runners.executors import release_free_memory
from hyposcreen.runners.partition_work import PartitionResult
from hyposcreen.screen.cases import ScreenResult, order_cases


def merge_and_publish(
    ctx: RunContext,
    tables: dict[str, IngestedTable],
    parts: Sequence[PartitionResult],
    validation: dict[str, Any],
) -> RunSummary:
    """Merge the partitions' results (a list is emptied once merged) and publish them."""
    for part in parts:
        ctx.add_timings(part.timings)
    with ctx.timed("merge"):
        results = [p.result for p in parts]
        result = ScreenResult(
            cases=order_cases(_concat([r.cases for r in results])),
            sodium_results=_concat([r.sodium_results for r in results]),
            medication_evidence=_concat([r.medication_evidence for r in results]),
            condition_evidence=_concat([r.condition_evidence for r in results]),
            cofactor_evidence=_concat([r.cofactor_evidence for r in results]),
            attrition=sum_result_steps([r.attrition for r in results]),
        )
        reconciliation = {}
        for name in ("labs", "medications", "diagnoses"):
            sizes: Counter[tuple[str, str]] = Counter()
            for part in parts:
                sizes.update(part.sizes[name])
            table = tables[name]
            reconciliation[name] = reconcile(dict(sizes), table.not_relevant, table.rows_in)
        quarantine = order_quarantine(_concat([p.quarantine for p in parts]))
        contract: Counter[str] = Counter()
        for part in parts:
            contract.update(part.contract_quarantined)
        validation["rows_quarantined_by_contract"] = {
            name: int(contract[name]) for name in ("labs", "medications", "diagnoses")
        }
        seen = [p.seen_results for p in parts if p.seen_results is not None]
        seen_results = _concat(seen) if seen else None
        coverage = combine_coverage([p.coverage for p in parts if p.coverage is not None])
        names = [p.drug_names for p in parts if p.drug_names is not None]
        drug_names = (
            (sum(n[0] for n in names), sum(n[1] for n in names), sum(n[2] for n in names))
            if names
            else None
        )
        counted = [p.delivery_counts for p in parts if p.delivery_counts is not None]
        delivery_counts = add_counts(counted)
        del seen, results
        if isinstance(parts, list):  # the partitions' own frames are not kept while writing
            parts.clear()
        release_free_memory()
    listing = recipe.history(ctx, result)
    patients = tables["patients"].frame if "patients" in tables else None
    return write_results(
        ctx,
        tables,
        listing,
        validation,
        patients,
        quarantine,
        reconciliation,
        seen_results,
        coverage,
        drug_names,
        release_free_memory,  # a merged list is long: each writer starts from a trimmed heap
        delivery_counts,
    )


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    rows = [f for f in frames if len(f)]
    return pd.concat(rows, ignore_index=True) if rows else frames[0]
