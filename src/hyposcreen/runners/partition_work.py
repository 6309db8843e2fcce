"""What one patient-hash partition runs: the recipe's own clean and screen stages.

`clean_and_screen_partition` runs `recipe.clean` on a partition's spilled rows, keeps the
cleaned tables' contract columns in the spill folder (runners.contract_gather: the partitioned
runner validates the *whole* tables once, gathered from those files, so rates and row-level
outcomes are a single run's) and runs `recipe.screen` on the frames it holds, as if no
contract warning flagged a row. Once the contracts are done, a partition holding a row a
warning flagged that cleaning had kept (`screened_again`) is cleaned again from its spilled
rows by `screen_partition`, which quarantines the flagged rows it holds and screens it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hyposcreen import recipe
from hyposcreen.arrow_columns import is_listed
from hyposcreen.clean import USED, bucket_sizes
from hyposcreen.context import CleanedInputs, ReadTables, RunContext
from hyposcreen.ingest.canonical import REQUIRED_TABLES, IngestedTable
from hyposcreen.recipe_contracts import apply_contract_warnings, label_positions
from hyposcreen.report.quarantine import quarantine_rows
from hyposcreen.runners.contract_gather import (
    WholeContractTables,
    cleaned_path,
    contract_columns,
    write_contract_columns,
)
from hyposcreen.runners.executors import release_free_memory
from hyposcreen.runners.handoff import (
    frame_columns,
    read_frame,
    read_json,
    read_row_labels,
    write_json,
)
from hyposcreen.runners.screened_files import set_aside
from hyposcreen.runners.spill import load_partition
from hyposcreen.screen.cases import ScreenResult

__all__ = [
    "ContractWarnings",
    "PartitionResult",
    "WholeContractTables",
    "clean_and_screen_partition",
    "screen_partition",
    "screened_again",
    "warnings_path",
]


def clean_and_screen_partition(ctx: RunContext, folder: Path, part: int) -> PartitionResult | None:
    """Clean one partition, keep its cleaned frames in the spill folder (the contracts gather
    from them), and screen the frames still held as if no contract warning flagged a row of
    it: what `screen_partition` gives once the contracts passed unless a warning flagged a row
    the partition uses (`screened_again`). None when that screen failed: the partition is
    screened after the contracts, so their stop, if any, is the run's (as before the screen)."""
    ctx = dataclasses.replace(ctx, timings={})
    cleaned = _cleaned(ctx, folder, part)
    # written on a thread while the partition is screened (Arrow's conversion and compression
    # let go of the interpreter), from projections the screen's changes do not reach
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="contract-columns") as pool:
        written = pool.submit(write_contract_columns, folder, part, contract_columns(cleaned))
        try:
            screened: PartitionResult | None = _screened(ctx, cleaned, ContractWarnings.none())
        except Exception:  # an interrupt is not held up by the contracts
            screened = None
        del cleaned
        set_apart = set_aside(screened, folder, part, pool) if screened is not None else None
        with ctx.timed("partition_io"):
            written.result()  # the gather reads them once every partition returned
            if set_apart is not None:
                set_apart.result()
    return screened


def _cleaned(ctx: RunContext, folder: Path, part: int) -> CleanedInputs:
    """A partition's spilled rows, cleaned (the same frames every time: `recipe.clean`)."""
    release_free_memory(collect=False)  # a partition's frames are freed by their references
    with ctx.timed("partition_io"):
        tables = {
            name: IngestedTable(name, load_partition(folder, name, part), rows_in=0)
            for name in REQUIRED_TABLES
        }
    return recipe.clean(ctx, ReadTables(tables))


def screened_again(folder: Path, part: int) -> bool:
    """Whether a partition screened before the contracts (`clean_and_screen_partition`) must
    be screened again with their warnings (`screen_partition`): a warning flagged a row it
    holds that cleaning had kept (`apply_contract_warnings` quarantines it), or a flagged
    table's rows cannot be told by their bucket (no such column, or labels that repeat). A
    row cleaning had set aside already (a medication without a start time) is not one."""
    warnings = ContractWarnings.read(warnings_path(folder, part))
    for table in ("labs", "medications", "diagnoses"):
        flagged = warnings.warning_rows(table)
        if not flagged:
            continue
        path = cleaned_path(folder, part, table)
        if "bucket" not in frame_columns(path):  # written with the contract columns, if held
            return True
        labels = pd.Index(read_row_labels(path), copy=False)
        if not labels.is_unique:
            return True
        at = label_positions(labels, pd.Index(list(flagged), dtype="int64"))
        if (at >= 0).any():
            buckets = read_frame(path, ["bucket"], rows=np.unique(at[at >= 0]))["bucket"]
            if (buckets == USED).any():
                return True
    return False


@dataclass
class ContractWarnings:
    """The warning rows of the contract report (a digest with the two methods
    `recipe_contracts.apply_contract_warnings` reads; each partition takes the rows it holds),
    kept in the spill folder as JSON: row label -> failed expectation / reason, per table."""

    rows: dict[str, dict[int, str]]
    reasons: dict[str, dict[int, str]]

    @classmethod
    def none(cls) -> ContractWarnings:
        """No row of any table flagged."""
        return cls({name: {} for name in REQUIRED_TABLES}, {name: {} for name in REQUIRED_TABLES})

    @classmethod
    def of(cls, report: Any) -> ContractWarnings:
        return cls(
            {name: report.warning_rows(name) for name in REQUIRED_TABLES},
            {name: report.warning_reasons(name) for name in REQUIRED_TABLES},
        )

    def write_parts(
        self,
        folder: Path,
        partitions: int,
        row_labels: Callable[[str], list[np.ndarray]] | None = None,
    ) -> None:
        """Each partition's rows in its own file (`warnings_path`), told by the row labels of
        its cleaned frames (`row_labels`: a table's, per partition, when they were read
        already): a partition reads and looks up only the rows it holds, not every flagged
        row of the whole tables."""
        cut = [ContractWarnings({}, {}) for _ in range(partitions)]
        for table in REQUIRED_TABLES:
            if row_labels is not None:
                held = row_labels(table)
            else:
                held = [read_row_labels(cleaned_path(folder, p, table)) for p in range(partitions)]
            for by, kept in ((self.rows[table], "rows"), (self.reasons[table], "reasons")):
                for warnings, rows in zip(cut, _split(by, held), strict=True):
                    getattr(warnings, kept)[table] = rows
        for part, warnings in enumerate(cut):
            warnings.write(warnings_path(folder, part))

    def write(self, path: Path) -> None:
        saved = {
            key: {t: {int(k): str(v) for k, v in by.items()} for t, by in held.items()}
            for key, held in (("rows", self.rows), ("reasons", self.reasons))
        }
        write_json(path, saved)

    @classmethod
    def read(cls, path: Path) -> ContractWarnings:
        """JSON keys are text: the row labels come back as ints."""
        saved = read_json(path)
        return cls(
            *(
                {t: {int(k): v for k, v in by.items()} for t, by in saved[key].items()}
                for key in ("rows", "reasons")
            )
        )

    def warning_rows(self, table: str) -> dict[int, str]:
        return self.rows[table]

    def warning_reasons(self, table: str) -> dict[int, str]:
        return self.reasons[table]


def warnings_path(folder: Path, part: int) -> Path:
    """A partition's warning rows (`ContractWarnings.write_parts`)."""
    return folder / f"warnings-{part}.json"


def _split(by_label: dict[int, str], held: list[np.ndarray]) -> list[dict[int, str]]:
    """`by_label` cut into one dict per partition (`held`: each partition's row labels, the
    rows' numbers in the whole table), each in `by_label`'s order; a label no partition holds
    is left out."""
    if not by_label:
        return [{} for _ in held]
    labels = np.fromiter(by_label, dtype=np.int64, count=len(by_label))
    size = max([int(labels.max()) + 1, *(int(rows.max()) + 1 for rows in held if len(rows))])
    owner = np.full(size, -1, dtype=np.int64)
    for part, rows in enumerate(held):
        owner[rows] = part
    owners = np.where(labels >= 0, owner[labels.clip(0)], -1)
    order = np.argsort(owners, kind="stable")
    bounds = np.searchsorted(owners[order], np.arange(len(held) + 1))
    texts = np.array(list(by_label.values()), dtype=object)
    return [
        dict(zip(labels[at].tolist(), texts[at].tolist(), strict=True))
        for at in (order[bounds[p] : bounds[p + 1]] for p in range(len(held)))
    ]


@dataclass
class PartitionResult:
    """What one partition contributes to the merged outputs (no per-result sodium table)."""

    result: ScreenResult  # sodium_results: the listed patients' results only (for the page)
    sizes: dict[str, dict[tuple[str, str], int]]  # (bucket, reason) -> rows, per table
    quarantine: pd.DataFrame  # unordered, with labels (quarantine_rows keep_labels)
    contract_quarantined: dict[str, int]
    timings: dict[str, float]
    seen_results: pd.DataFrame | None = None  # nightly state: sodium results seen
    coverage: pd.DataFrame | None = None  # seen but not recognised (report.coverage)
    drug_names: tuple[int, int, int] | None = None  # (matching no drug, names, of digits)
    delivery_counts: dict[str, dict[str, tuple[int, int]]] | None = None  # delivery_counts
    on_disk: dict[str, Path] = dataclasses.field(default_factory=dict)  # screened_files


def screen_partition(ctx: RunContext, folder: Path, part: int) -> PartitionResult:
    """Clean one partition again (from its spilled rows), apply the contract warnings to it
    and screen it."""
    ctx = dataclasses.replace(ctx, timings={})
    # the previous partition's frames are gone (freed by their references: a garbage collection
    # here found nothing to free and cost ~0.25 s a call once GX is loaded): hand their pages
    # back (`_cleaned`)
    cleaned = _cleaned(ctx, folder, part)
    with ctx.timed("partition_io"):
        warnings = ContractWarnings.read(warnings_path(folder, part))
    return _screened(ctx, cleaned, warnings)


def _screened(
    ctx: RunContext, cleaned: CleanedInputs, warnings: ContractWarnings
) -> PartitionResult:
    """`cleaned` screened once the rows `warnings` flag are quarantined."""
    with ctx.timed("validate"):
        quarantined = apply_contract_warnings(warnings, cleaned)
    result = recipe.screen(ctx, cleaned)
    # the nightly history (after the merge) only holds listed cases back: the results of the
    # cases listed before it are all the page can show
    listed = result.cases.loc[result.cases["listed"], "patient_id"]
    results = result.sodium_results  # looked up by Arrow, not pandas' isin
    result.sodium_results = results.loc[is_listed(results["patient_id"], listed)]
    release_free_memory(collect=False)
    with ctx.timed("write"):
        frames = {n: getattr(cleaned, n) for n in ("labs", "medications", "diagnoses")}
        quarantine = quarantine_rows(frames, True, ctx.mapping.timezone, ctx.mapping.decimal)
        sizes = {name: bucket_sizes(frame) for name, frame in frames.items()}
    return PartitionResult(
        result,
        sizes,
        quarantine,
        quarantined,
        ctx.timings,
        cleaned.seen_results,
        cleaned.coverage,
        cleaned.drug_names,
        cleaned.delivery_counts,
    )
