"""Partitioned runs: the same screen, one patient-hash partition at a time (issue #6).

A stable hash of the patient id (SipHash with a fixed key through `pandas.util.hash_array`:
the same partition in every process and on every machine, unlike Python's `hash`) puts a
patient's whole history - labs, medications, diagnoses - in one partition. The run:

1. **spill**: each table is read once, as a stream of projected batches, and its rows are
   written to per-partition Parquet files in a spill folder (the row's number in the whole
   table travels with it);
2. **clean** each partition (independent: duplicates and every §3 rule are per patient), and
   keep the columns the data contracts read;
3. **contracts** (Great Expectations) on those columns of the *whole* tables, in the order of a
   single-partition run, so rates (duplicates, non-numeric sodium) and row-level outcomes are
   the ones a single run computes;
4. **screen** each partition (cases are per patient);
5. **merge**: global ranking and tie-breaks (`order_cases`), the evidence, the quarantine in
   read order, summed counts; then the writers of a single run.

The outputs are byte-identical to a single-partition run (tests/test_partition.py). Steps 2
and 4 run on an executor: `local` (in this process, one partition at a time: memory grows
with the largest partition) or `dask` (a Dask cluster through `distributed.Client`; a
`LocalCluster` when no scheduler address is given).
"""

from __future__ import annotations

import ctypes
import dataclasses
import gc
import gzip
import math
import os
import pickle
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pandas.api.types import union_categoricals

from hyposcreen.clean import bucket_sizes, reconcile
from hyposcreen.errors import ConfigError
from hyposcreen.ingest.canonical import REQUIRED_TABLES, SCHEMAS, IngestedTable
from hyposcreen.ingest.tabular import TableStream, TooLargeForMemory, empty_frame
from hyposcreen.pipeline import (
    CleanedInputs,
    RunContext,
    RunSummary,
    apply_contract_warnings,
    clean_inputs,
    discard_outputs,
    ingest_table,
    lab_filter,
    run_contracts,
    screen_inputs,
    table_files,
    validation_frames,
    write_outputs,
    write_results,
)
from hyposcreen.report.coverage import combine as combine_coverage
from hyposcreen.report.folders import remove_dead_debris
from hyposcreen.report.quarantine import order_quarantine, quarantine_rows
from hyposcreen.screen.cases import ScreenResult, order_cases

EXECUTORS = ("local", "dask")
SPILL_PREFIX = ".hyposcreen-partitions-"  # + <pid>-<random>: the next run removes dead ones
# --partitions auto: one partition (the in-memory run) up to this many lab rows, above it one
# partition per this many lab rows (CSV rows are estimated from the file size).
AUTO_ROWS_PER_PARTITION = 2_000_000
_SEQ = "__hyposcreen_seq"
_CSV_SAMPLE_BYTES = 1 << 20
MEMORY_ROW_CAP = 4 * AUTO_ROWS_PER_PARTITION  # rows an estimated-small table may really have
_GZIP_RATIO = 6.0  # typical text compression of an extract, for the row estimate


def partition_of(patient_id: pd.Series, partitions: int) -> np.ndarray:
    """The partition (0..n-1) of each row: a stable hash of the patient id without surrounding
    spaces, as cleaning keys patients (missing ids hash like the empty id)."""
    if partitions == 1:
        return np.zeros(len(patient_id), dtype=np.int64)
    key = patient_id.astype("str").str.strip().fillna("")
    hashed = pd.util.hash_array(key.to_numpy(dtype=object), categorize=True)
    return (hashed % np.uint64(partitions)).astype(np.int64)


def estimate_lab_rows(ctx: RunContext) -> int:
    """Lab rows of the input: exact for Parquet (footer), estimated from the size for CSV."""
    rows = 0.0
    for path in table_files(ctx, "labs"):
        if path.name.endswith(".parquet"):
            rows += pq.ParquetFile(path).metadata.num_rows
            continue
        size = _uncompressed_size(path)
        if path.name.endswith(".gz"):
            with gzip.open(path, "rb") as handle:
                sample = handle.read(_CSV_SAMPLE_BYTES)
        else:
            with path.open("rb") as handle:
                sample = handle.read(_CSV_SAMPLE_BYTES)
        lines = max(sample.count(b"\n"), 1)
        rows += size / (len(sample) / lines) if sample else 0
    return int(rows)


def _uncompressed_size(path: Path) -> float:
    """Bytes of a CSV as text: a .gz's trailer holds its size (mod 4 GiB, of the last member),
    so a highly compressed extract is not taken for a small one; the typical ratio is a floor."""
    size = path.stat().st_size
    if not path.name.endswith(".gz"):
        return float(size)
    with path.open("rb") as handle:
        handle.seek(max(0, size - 4))
        trailer = int.from_bytes(handle.read(4), "little")
    return max(size * _GZIP_RATIO, float(trailer))


def resolve_partitions(ctx: RunContext, requested: int | None) -> int:
    """`requested`, or with None (auto) one per AUTO_ROWS_PER_PARTITION lab rows."""
    if requested is not None:
        if requested < 1:
            raise ConfigError(f"--partitions must be 1 or more (got {requested}).")
        return requested
    count = max(1, math.ceil(estimate_lab_rows(ctx) / AUTO_ROWS_PER_PARTITION))
    if count == 1:  # counted while reading: an underestimate never grows memory unbounded
        ctx.memory_row_cap = MEMORY_ROW_CAP
    return count


# --- the run ---------------------------------------------------------------------------------


def run_screen(
    ctx: RunContext,
    partitions: int | None = None,
    executor: str = "local",
    dask_address: str | None = None,
) -> RunSummary:
    """One run: in memory when it is one partition on the local executor, else partitioned."""
    if executor not in EXECUTORS:
        raise ConfigError(f"Unknown --executor '{executor}'; use one of {', '.join(EXECUTORS)}.")
    count = resolve_partitions(ctx, partitions)
    try:
        if count == 1 and executor == "local":
            from hyposcreen.pipeline import read_inputs, validate_inputs

            try:
                tables = read_inputs(ctx)
            except TooLargeForMemory as grown:
                ctx.memory_row_cap = None
                more = max(2, math.ceil(2 * grown.rows / AUTO_ROWS_PER_PARTITION))
                return run_partitioned(ctx, more, executor, dask_address)
            cleaned = clean_inputs(ctx, tables)
            validation = validate_inputs(ctx, cleaned)
            result = screen_inputs(ctx, cleaned)
            return write_outputs(ctx, tables, cleaned, result, validation)
        return run_partitioned(ctx, count, executor, dask_address)
    except BaseException:
        discard_outputs(ctx)  # the previous outputs stay; the half-built folder goes
        raise


def run_partitioned(
    ctx: RunContext,
    partitions: int,
    executor: str = "local",
    dask_address: str | None = None,
    spill_root: Path | None = None,
) -> RunSummary:
    """The partitioned run (module docstring). The spill folder is made under `spill_root`
    (default: $HYPOSCREEN_SPILL_DIR, else beside the output folder: Dask workers must see it)
    and removed at the end."""
    # beside the window's folder, never inside it: that folder is swapped in whole at the end
    root = spill_root or Path(os.environ.get("HYPOSCREEN_SPILL_DIR") or ctx.settings.out_dir.parent)
    root.mkdir(parents=True, exist_ok=True)
    ctx.partitions, ctx.executor = partitions, executor
    remove_dead_debris(root, SPILL_PREFIX)  # spill folders of killed runs hold patient rows
    folder = Path(tempfile.mkdtemp(prefix=f"{SPILL_PREFIX}{os.getpid()}-", dir=root))  # 0700
    try:
        tables = {name: spill_table(ctx, name, folder, partitions) for name in REQUIRED_TABLES}
        patients = ingest_table(ctx, "patients")
        if patients.rows_in:
            tables["patients"] = patients
        with _executor(executor, dask_address) as run_all:
            cleaned = run_all(clean_partition, ctx, folder, range(partitions))
            for timings in cleaned:
                _add_timings(ctx, timings)
            with ctx.timed("validate"):
                _release_free_memory()
                report = run_contracts(ctx, _whole_validation_frames(folder, partitions, tables))
                _dump(folder / "warnings.pkl", _ContractWarnings.of(report))
                validation = report.summary()
                del report
                _release_free_memory()
            screened = run_all(screen_partition, ctx, folder, range(partitions))
        return _merge(ctx, tables, screened, validation)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# --- 1. spill --------------------------------------------------------------------------------


def spill_table(ctx: RunContext, name: str, folder: Path, partitions: int) -> IngestedTable:
    """Stream one table into `<folder>/<name>-<partition>-<chunk>.parquet`; return its counts
    and file records (with an empty frame)."""
    schema = SCHEMAS[name]
    with ctx.timed(f"read_{name}"):
        if ctx.settings.source == "canonical":
            stream = TableStream(
                ctx.settings.input_dir,
                schema,
                ctx.mapping,
                lab_filter(ctx, name),
                name in REQUIRED_TABLES,
            )
            _spill_frames(stream.frames(), name, folder, partitions)
            return stream.ingested(empty_frame(schema))
        # source adapters build a whole table; it is split here (not memory-bound)
        table = ingest_table(ctx, name)
        _spill_frames(iter([table.frame]), name, folder, partitions)
        return dataclasses.replace(table, frame=empty_frame(schema))


def _spill_frames(frames: Iterator[pd.DataFrame], name: str, folder: Path, partitions: int) -> None:
    offset = 0
    for chunk, frame in enumerate(frames):
        if not len(frame):
            continue
        part = partition_of(frame["patient_id"], partitions)
        order = np.argsort(part, kind="stable")
        table = pa.Table.from_pandas(frame, preserve_index=False)
        seq = np.arange(offset, offset + len(frame), dtype=np.int64)
        table = table.append_column(_SEQ, pa.array(seq)).take(pa.array(order))
        offset += len(frame)
        bounds = np.searchsorted(part[order], np.arange(partitions + 1))
        for p in range(partitions):
            if bounds[p + 1] > bounds[p]:
                piece = table.slice(bounds[p], bounds[p + 1] - bounds[p])
                pq.write_table(piece, folder / f"{name}-{p:04d}-{chunk:06d}.parquet")


def load_partition(folder: Path, name: str, part: int) -> pd.DataFrame:
    """One table's rows of one partition, in read order, indexed by their row number in the
    whole table (as a single run's frame is)."""
    files = sorted(folder.glob(f"{name}-{part:04d}-*.parquet"))
    if not files:
        return empty_frame(SCHEMAS[name])
    tables = [pq.read_table(path) for path in files]
    table = pa.concat_tables(tables, promote_options="permissive")
    frame = table.to_pandas()
    frame.index = pd.Index(frame.pop(_SEQ).to_numpy(), dtype="int64")
    return frame


# --- 2. clean --------------------------------------------------------------------------------


def clean_partition(ctx: RunContext, folder: Path, part: int) -> dict[str, float]:
    """Clean one partition; keep it and its contract columns in the spill folder."""
    ctx = dataclasses.replace(ctx, timings={})
    _release_free_memory()
    with ctx.timed("partition_io"):
        tables = {
            name: IngestedTable(name, load_partition(folder, name, part), rows_in=0)
            for name in REQUIRED_TABLES
        }
    cleaned = clean_inputs(ctx, tables)
    with ctx.timed("partition_io"):
        for name, frame in validation_frames(cleaned).items():
            _dump(folder / f"contract-{name}-{part}.pkl", _as_categories(frame))
        _dump(folder / f"cleaned-{part}.pkl", cleaned)
    return ctx.timings


def _whole_validation_frames(
    folder: Path, partitions: int, tables: dict[str, IngestedTable]
) -> dict[str, pd.DataFrame]:
    frames = {}
    for name in REQUIRED_TABLES:  # one table's partitions in memory at a time
        paths = [folder / f"contract-{name}-{p}.pkl" for p in range(partitions)]
        frames[name] = _concat_in_read_order([_load(path) for path in paths])
        for path in paths:
            path.unlink()
        _release_free_memory()
    if "patients" in tables:
        from hyposcreen.validate.gx import project_for_validation

        frames["patients"] = project_for_validation("patients", tables["patients"].frame)
    return frames


def _as_categories(frame: pd.DataFrame) -> pd.DataFrame:
    """Text columns as categoricals: the whole tables' contract columns stay small in memory
    (validation reads the same values; it turns text into categoricals anyway)."""
    out = frame.copy(deep=False)
    for column in out.columns:
        if column != "source_row" and pd.api.types.is_string_dtype(out[column].dtype):
            out[column] = out[column].astype("str").astype("category")
    return out


def _concat_in_read_order(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The partitions' rows of one table, back in the order of the whole table."""
    rows = [f for f in frames if len(f)] or frames[:1]
    index = np.concatenate([f.index.to_numpy() for f in rows])
    order = np.argsort(index, kind="stable")
    columns: dict[str, Any] = {}
    for column in rows[0].columns:
        parts = [f[column] for f in rows]
        if all(isinstance(p.dtype, pd.CategoricalDtype) for p in parts):
            try:
                merged = union_categoricals([p.array for p in parts])
            except TypeError:  # categories of different types (an all-empty column)
                merged = pd.Categorical(pd.concat([p.astype("str") for p in parts]))
            columns[column] = pd.Series(merged.take(order))
        else:
            columns[column] = pd.concat(parts, ignore_index=True).take(order)
        columns[column].index = pd.RangeIndex(len(index))
    return pd.DataFrame(columns).set_axis(pd.Index(index[order], dtype="int64"), axis=0)


@dataclass
class _ContractWarnings:
    """The warning rows of the contract report (a picklable digest with the two methods
    `pipeline.apply_contract_warnings` reads; each partition takes the rows it holds)."""

    rows: dict[str, dict[int, str]]
    reasons: dict[str, dict[int, str]]

    @classmethod
    def of(cls, report: Any) -> _ContractWarnings:
        return cls(
            {name: report.warning_rows(name) for name in REQUIRED_TABLES},
            {name: report.warning_reasons(name) for name in REQUIRED_TABLES},
        )

    def warning_rows(self, table: str) -> dict[int, str]:
        return self.rows[table]

    def warning_reasons(self, table: str) -> dict[int, str]:
        return self.reasons[table]


# --- 4. screen -------------------------------------------------------------------------------


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
    with ctx.timed("partition_io"):
        cleaned: CleanedInputs = _load(folder / f"cleaned-{part}.pkl")
    with ctx.timed("validate"):
        quarantined = apply_contract_warnings(_load(folder / "warnings.pkl"), cleaned)
    result = screen_inputs(ctx, cleaned)
    listed = result.cases.loc[result.cases["listed"], "patient_id"]
    result.sodium_results = result.sodium_results.loc[
        result.sodium_results["patient_id"].isin(listed)
    ]
    _release_free_memory()
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


# --- 5. merge --------------------------------------------------------------------------------


def _merge(
    ctx: RunContext,
    tables: dict[str, IngestedTable],
    parts: Sequence[PartitionResult],
    validation: dict[str, Any],
) -> RunSummary:
    for part in parts:
        _add_timings(ctx, part.timings)
    with ctx.timed("merge"):
        results = [p.result for p in parts]
        result = ScreenResult(
            cases=order_cases(_concat([r.cases for r in results])),
            sodium_results=_concat([r.sodium_results for r in results]),
            medication_evidence=_concat([r.medication_evidence for r in results]),
            condition_evidence=_concat([r.condition_evidence for r in results]),
            cofactor_evidence=_concat([r.cofactor_evidence for r in results]),
            attrition=_sum_attrition([r.attrition for r in results]),
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
    patients = tables["patients"].frame if "patients" in tables else None
    seen = [p.seen_results for p in parts if p.seen_results is not None]
    names = [p.drug_names for p in parts if p.drug_names is not None]
    return write_results(
        ctx,
        tables,
        result,
        validation,
        patients,
        quarantine,
        reconciliation,
        _concat(seen) if seen else None,
        combine_coverage([p.coverage for p in parts if p.coverage is not None]),
        (sum(n[0] for n in names), sum(n[1] for n in names)) if names else None,
    )


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    rows = [f for f in frames if len(f)]
    return pd.concat(rows, ignore_index=True) if rows else frames[0]


def _sum_attrition(parts: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    merged = [dict(step) for step in parts[0]]
    for other in parts[1:]:
        for step, extra in zip(merged, other, strict=True):
            step["count"] = int(step["count"]) + int(extra["count"])
    return merged


def _add_timings(ctx: RunContext, timings: dict[str, float]) -> None:
    for step, seconds in timings.items():
        ctx.timings[step] = round(ctx.timings.get(step, 0.0) + seconds, 3)


def _release_free_memory() -> None:
    """Hand freed heap pages back to the OS (glibc keeps them otherwise), so the memory of
    one stage is not still counted in the next one's peak. A no-op off glibc."""
    gc.collect()
    pa.default_memory_pool().release_unused()  # Arrow's allocator (mimalloc) keeps pages too
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _dump(path: Path, value: object) -> None:
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as handle:
        pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)


def _load(path: Path) -> Any:
    with path.open("rb") as handle:
        return pickle.load(handle)  # noqa: S301 - our own spill files of this run


# --- executors -------------------------------------------------------------------------------

MapPartitions = Callable[[Callable[..., Any], RunContext, Path, range], list[Any]]


@contextmanager
def _executor(executor: str, dask_address: str | None) -> Iterator[MapPartitions]:
    if executor == "local":
        yield lambda fn, ctx, folder, parts: [fn(ctx, folder, p) for p in parts]
        return
    from distributed import Client, LocalCluster

    cluster = None
    if dask_address:
        client = Client(dask_address)
    else:
        cluster = LocalCluster(
            n_workers=min(2, os.cpu_count() or 1),
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        )
        client = Client(cluster)
    try:

        def run_all(fn: Callable[..., Any], ctx: RunContext, folder: Path, parts: range) -> list:
            shared = client.scatter(ctx, broadcast=True)
            futures = client.map(
                fn, [shared] * len(parts), [folder] * len(parts), list(parts), pure=False
            )
            return list(client.gather(futures))

        yield run_all
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
