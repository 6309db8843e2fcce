"""Patient-hash partitions of the input: how many, which one a row belongs to, and the spill
folder each table is streamed into (one Arrow IPC file per partition and chunk).

A stable hash of the patient id (runners.partition_hash: the same partition in every
process and on every machine, unlike Python's `hash`) puts a
patient's whole history - labs, medications, diagnoses - in one partition. The row's number in
the whole table travels with it, so a partition's frame is indexed as a single run's is.
"""

from __future__ import annotations

import dataclasses
import functools
import gzip
import math
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from hyposcreen.context import RunContext, lab_filter, max_row_bytes, table_files
from hyposcreen.errors import ConfigError
from hyposcreen.ingest.batches import parquet_file
from hyposcreen.ingest.canonical import REQUIRED_TABLES, SCHEMAS, IngestedTable
from hyposcreen.ingest.csv_parser import DEFAULT_MAX_ROW_BYTES
from hyposcreen.ingest.linescan import decompressed_size
from hyposcreen.ingest.suffixes import gzipped, parquet
from hyposcreen.ingest.tabular import RowFilter, TableStream, empty_frame
from hyposcreen.recipe import ingest_table
from hyposcreen.runners.background_writes import BackgroundWrites
from hyposcreen.runners.handoff import FRAME_SUFFIX, read_table, write_table
from hyposcreen.runners.partition_hash import TablePartitions
from hyposcreen.runners.partition_hash import partition_of as partition_of  # the tests' name
from hyposcreen.scratch import SPILL_PREFIX as SPILL_PREFIX  # + <pid>-<random>: see scratch

# --partitions auto: one partition (the in-memory run) up to IN_MEMORY_ROWS lab rows, above it
# one partition per AUTO_ROWS_PER_PARTITION lab rows (CSV rows are estimated from the file
# size). The in-memory run of 5M rows takes ~1.45 GB and about half the time of 3 partitions
# (docs/scaling.md); a partition stays 2.5M rows: its own peak about that of the whole
# tables' contracts (20M rows: 8 partitions), and each partition costs ~0.3 s of fixed work.
IN_MEMORY_ROWS = 5_000_000
AUTO_ROWS_PER_PARTITION = 2_500_000
MEMORY_ROW_CAP = 8_000_000  # rows an estimated-small table may really have
_SEQ = "__hyposcreen_seq"
_CSV_SAMPLE_BYTES = 1 << 20


def estimate_lab_rows(ctx: RunContext) -> int:
    """Lab rows of the input: exact for Parquet (footer), estimated from the size for CSV."""
    rows = 0.0
    for path in table_files(ctx, "labs"):
        if parquet(path):
            rows += parquet_file(path).metadata.num_rows  # damaged: InputError
            continue
        size = _uncompressed_size(path)
        if gzipped(path):
            with gzip.open(path, "rb") as handle:
                sample = handle.read(_CSV_SAMPLE_BYTES)
        else:
            with path.open("rb") as handle:
                sample = handle.read(_CSV_SAMPLE_BYTES)
        lines = max(sample.count(b"\n"), 1)
        rows += size / (len(sample) / lines) if sample else 0
    return int(rows)


def _uncompressed_size(path: Path) -> float:
    """Bytes of a CSV as text: a .gz is counted by streaming it (the read reuses that pass)."""
    return float(decompressed_size(path, DEFAULT_MAX_ROW_BYTES))


def resolve_partitions(ctx: RunContext, requested: int | None) -> int:
    """`requested`, or with None (auto) 1 up to IN_MEMORY_ROWS lab rows, else one per
    AUTO_ROWS_PER_PARTITION lab rows."""
    if requested is not None:
        if requested < 1:
            raise ConfigError(f"--partitions must be 1 or more (got {requested}).")
        return requested
    rows = estimate_lab_rows(ctx)
    count = 1 if rows <= IN_MEMORY_ROWS else math.ceil(rows / AUTO_ROWS_PER_PARTITION)
    if count == 1:  # counted while reading: an underestimate never grows memory unbounded
        ctx.memory_row_cap = MEMORY_ROW_CAP
    return count


def spill_table(
    ctx: RunContext, name: str, folder: Path, partitions: int, row_filter: RowFilter | None = None
) -> IngestedTable:
    """Stream one table into `<folder>/<name>-<partition>-<chunk>.arrow`; return its counts
    and file records (with an empty frame). `row_filter`: the canonical reader's, instead of
    the window's (several windows spilled at once: runners.shared_spill)."""
    schema = SCHEMAS[name]
    with ctx.timed(f"read_{name}"):
        if ctx.settings.source == "canonical":
            stream = TableStream(
                ctx.settings.input_dir,
                schema,
                ctx.mapping,
                row_filter or lab_filter(ctx, name),
                name in REQUIRED_TABLES,
                max_row_bytes(ctx),
            )
            _spill_frames(stream.frames(), name, folder, partitions)
            return stream.ingested(empty_frame(schema))
        # source adapters build a whole table; it is split here (not memory-bound)
        table = ingest_table(ctx, name)
        _spill_frames(iter([table.frame]), name, folder, partitions)
        return dataclasses.replace(table, frame=empty_frame(schema))


def _spill_frames(frames: Iterator[pd.DataFrame], name: str, folder: Path, partitions: int) -> None:
    """Each frame's rows cut into its partitions' files; a frame's rows are put in partition
    order and written on a thread while the next frame is read (runners.background_writes)."""
    offset = 0
    partition_of_rows = TablePartitions(partitions)
    with BackgroundWrites(pending=1) as writes:
        for chunk, frame in enumerate(frames):
            if not len(frame):
                continue
            part = partition_of_rows(frame["patient_id"])
            order = np.argsort(part, kind="stable")
            bounds = np.searchsorted(part[order], np.arange(partitions + 1))
            table = pa.Table.from_pandas(frame, preserve_index=False)
            taken = order if partitions > 1 else None  # one partition: in order already
            piece_of = functools.partial(_piece_path, folder, name, chunk=chunk)
            writes.submit(_write_pieces, table, taken, bounds, offset, piece_of)
            offset += len(frame)
            del frame, part, order, taken, table


def _piece_path(folder: Path, name: str, part: int, chunk: int) -> Path:
    """The spill file of one input chunk's rows of table `name` in partition `part`."""
    return folder / f"{name}-{part:04d}-{chunk:06d}{FRAME_SUFFIX}"


def _write_pieces(
    table: pa.Table,
    order: np.ndarray | None,
    bounds: np.ndarray,
    offset: int,
    piece_of: Callable[[int], Path],
) -> None:
    """`table`'s rows numbered from `offset`, taken in `order`, the rows of each partition p
    (`bounds[p]` to `bounds[p + 1]`) in their own file (`piece_of(p)`)."""
    seq = np.arange(offset, offset + table.num_rows, dtype=np.int64)
    table = table.append_column(_SEQ, pa.array(seq))
    if order is not None:
        table = table.take(pa.array(order))
    for p in range(len(bounds) - 1):
        if bounds[p + 1] > bounds[p]:
            piece = table.slice(bounds[p], bounds[p + 1] - bounds[p])
            write_table(piece_of(p), piece)


def load_partition(folder: Path, name: str, part: int) -> pd.DataFrame:
    """One table's rows of one partition, in read order, indexed by their row number in the
    whole table (as a single run's frame is)."""
    files = sorted(folder.glob(f"{name}-{part:04d}-*{FRAME_SUFFIX}"))
    if not files:
        return empty_frame(SCHEMAS[name])
    tables = [read_table(path) for path in files]
    table = pa.concat_tables(tables, promote_options="permissive")
    frame = table.to_pandas()
    frame.index = pd.Index(frame.pop(_SEQ).to_numpy(), dtype="int64")
    return frame


WORKER_MIN_LAB_ROWS = 200_000  # below, the contracts are done before a worker could start


def worth_a_worker(ctx: RunContext) -> bool:
    """Whether the input is large enough for a contracts worker (validate/worker_client.py;
    lab rows: Parquet's footers, CSV estimated from a sample); when that cannot be told, yes
    (the read says what is wrong)."""
    try:
        return estimate_lab_rows(ctx) >= WORKER_MIN_LAB_ROWS
    except Exception:
        return True
