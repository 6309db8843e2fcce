"""What one patient-hash partition runs: the recipe's own clean and screen stages.

`clean_partition` runs `recipe.clean` on a partition's spilled rows and keeps the columns the
contracts read; the partitioned runner validates those of the *whole* tables once (rates and
row-level outcomes are a single run's); `screen_partition` quarantines the flagged rows it
holds and runs `recipe.screen`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from pandas.api.types import union_categoricals

from hyposcreen import recipe
from hyposcreen.clean import bucket_sizes
from hyposcreen.context import CleanedInputs, ReadTables, RunContext
from hyposcreen.ingest.canonical import REQUIRED_TABLES, IngestedTable
from hyposcreen.recipe_contracts import apply_contract_warnings, validation_frames
from hyposcreen.report.quarantine import quarantine_rows
from hyposcreen.runners.executors import release_free_memory
from hyposcreen.runners.handoff import (
    FRAME_SUFFIX,
    frame_columns,
    read_cleaned,
    read_frame,
    read_json,
    read_row_labels,
    write_cleaned,
    write_frame,
    write_json,
)
from hyposcreen.runners.spill import load_partition
from hyposcreen.screen.cases import ScreenResult
from hyposcreen.validate.views import as_ns

WARNINGS_FILE = "warnings.json"


def clean_partition(ctx: RunContext, folder: Path, part: int) -> dict[str, float]:
    """Clean one partition; keep it and its contract columns in the spill folder."""
    ctx = dataclasses.replace(ctx, timings={})
    release_free_memory()
    with ctx.timed("partition_io"):
        tables = {
            name: IngestedTable(name, load_partition(folder, name, part), rows_in=0)
            for name in REQUIRED_TABLES
        }
    cleaned = recipe.clean(ctx, ReadTables(tables))
    with ctx.timed("partition_io"):
        for name, frame in validation_frames(cleaned).items():
            write_frame(folder / f"contract-{name}-{part}{FRAME_SUFFIX}", _as_categories(frame))
        write_cleaned(folder, part, cleaned)
    return ctx.timings


class WholeContractTables(Mapping[str, Any]):
    """The contract columns of every partition, back in the whole tables' order, one table at a
    time: a table is gathered from its partitions' files when it is looked up and not kept
    here, so validation holds one whole table (and its view) at a time, not all four. Only the
    columns validation reads row by row are gathered (a validate.tables.PartialTable); the
    rows a failing check quotes are read from the files when asked for."""

    def __init__(self, folder: Path, partitions: int, tables: dict[str, IngestedTable]):
        self.folder, self.partitions = folder, partitions
        self.patients = tables["patients"].frame if "patients" in tables else None
        self.names = (*REQUIRED_TABLES, *(("patients",) if self.patients is not None else ()))

    def __getitem__(self, name: str) -> Any:
        if name not in self.names:
            raise KeyError(name)
        from hyposcreen.validate.tables import PartialTable, columns_read

        if name == "patients":
            from hyposcreen.validate.gx import project_for_validation

            return project_for_validation("patients", self.patients)
        paths = [self.folder / f"contract-{name}-{p}{FRAME_SUFFIX}" for p in range(self.partitions)]
        held = [path for path in paths if len(read_row_labels(path))] or paths[:1]
        names = frame_columns(held[0])
        read = [c for c in names if c in columns_read(name, names)]
        release_free_memory()  # the previous table's frames are gone: hand their pages back
        gathered = _gather_in_read_order(paths, read)
        release_free_memory(collect=False)  # and the partitions' columns the gather read
        unread = read_frame(held[0], [c for c in names if c not in read]).iloc[:0]
        columns = pd.DataFrame(
            {c: gathered[c].iloc[:0] if c in read else unread[c] for c in names}, copy=False
        )
        return PartialTable(
            gathered, columns, lambda labels, wanted: _rows_at(held, labels, wanted)
        )

    def __contains__(self, name: object) -> bool:  # Mapping's own would gather the table
        return name in self.names

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)


def _as_categories(frame: pd.DataFrame) -> pd.DataFrame:
    """Text columns as categoricals: the whole tables' contract columns stay small in memory
    (validation reads the same values; it turns text into categoricals anyway)."""
    out = frame.copy(deep=False)
    for column in out.columns:
        if column != "source_row" and pd.api.types.is_string_dtype(out[column].dtype):
            out[column] = out[column].astype("str").astype("category")
    return out


def _rows_at(paths: list[Path], labels: list[int], columns: list[str]) -> pd.DataFrame:
    """The `columns` of the rows labelled `labels`, read from the partitions' files (each
    partition's rows of these columns in memory one partition at a time), indexed by label."""
    wanted = np.asarray(labels, dtype=np.int64)
    parts = []
    for path in paths:
        held = read_row_labels(path)
        found = np.isin(held, wanted)
        if found.any():
            rows = read_frame(path, columns).iloc[np.flatnonzero(found)]
            parts.append(rows.set_axis(pd.Index(held[found], dtype="int64"), axis=0))
    if not parts:
        return pd.DataFrame({c: pd.Series([], dtype="object") for c in columns})
    rows = pd.concat([p.astype("object") for p in parts]) if len(parts) > 1 else parts[0]
    return rows.loc[[label for label in labels if label in rows.index]]


def _gather_in_read_order(paths: list[Path], wanted: list[str] | None = None) -> pd.DataFrame:
    """One table's rows from its partitions' files, back in the order of the whole table
    (the `wanted` columns, default all). Built one column at a time (only that column of every
    partition is in memory besides the result): the partitions' frames are never all held at
    once."""
    labels = [read_row_labels(path) for path in paths]
    held = [i for i, rows in enumerate(labels) if len(rows)] or [0]
    index = np.concatenate([labels[i] for i in held])
    order = np.argsort(index, kind="stable")
    columns: dict[str, Any] = {}
    names = frame_columns(paths[held[0]])
    for column in names if wanted is None else [c for c in names if c in wanted]:
        parts = [read_frame(paths[i], [column])[column] for i in held]
        if all(isinstance(p.dtype, pd.CategoricalDtype) for p in parts):
            try:
                merged = union_categoricals([p.array for p in parts])
            except TypeError:  # categories of different types (an all-empty column)
                merged = pd.Categorical(pd.concat([p.astype("str") for p in parts]))
            columns[column] = pd.Series(merged.take(order))
        else:
            columns[column] = pd.concat(parts, ignore_index=True).take(order)
            if pd.api.types.is_datetime64_dtype(columns[column].dtype):
                columns[column] = as_ns(columns[column])  # as the contracts' view holds times
        columns[column].index = pd.RangeIndex(len(index))
        del parts
        pa.default_memory_pool().release_unused()  # the partitions' Arrow buffers of it
    # copy=False: the columns as gathered, not copied again into one 2-D block per dtype
    frame = pd.DataFrame(columns, copy=False)
    return frame.set_axis(pd.Index(index[order], dtype="int64"), axis=0)


@dataclass
class ContractWarnings:
    """The warning rows of the contract report (a digest with the two methods
    `recipe_contracts.apply_contract_warnings` reads; each partition takes the rows it holds),
    kept in the spill folder as JSON: row label -> failed expectation / reason, per table."""

    rows: dict[str, dict[int, str]]
    reasons: dict[str, dict[int, str]]

    @classmethod
    def of(cls, report: Any) -> ContractWarnings:
        return cls(
            {name: report.warning_rows(name) for name in REQUIRED_TABLES},
            {name: report.warning_reasons(name) for name in REQUIRED_TABLES},
        )

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
    drug_names: tuple[int, int] | None = None  # (names matching no drug, names)


def screen_partition(ctx: RunContext, folder: Path, part: int) -> PartitionResult:
    """Apply the contract warnings to one cleaned partition and screen it."""
    ctx = dataclasses.replace(ctx, timings={})
    release_free_memory()  # the previous partition's frames are gone: hand their pages back
    with ctx.timed("partition_io"):
        cleaned: CleanedInputs = read_cleaned(folder, part)
        warnings = ContractWarnings.read(folder / WARNINGS_FILE)
    with ctx.timed("validate"):
        quarantined = apply_contract_warnings(warnings, cleaned)
    result = recipe.screen(ctx, cleaned)
    # the nightly history (after the merge) only holds listed cases back: the results of the
    # cases listed before it are all the page can show
    listed = result.cases.loc[result.cases["listed"], "patient_id"]
    result.sodium_results = result.sodium_results.loc[
        result.sodium_results["patient_id"].isin(listed)
    ]
    release_free_memory()
    with ctx.timed("write"):
        frames = {n: getattr(cleaned, n) for n in ("labs", "medications", "diagnoses")}
        quarantine = quarantine_rows(frames, keep_labels=True)
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
    )
