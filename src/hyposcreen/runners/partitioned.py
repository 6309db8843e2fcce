"""The partitioned runner: the recipe's stages per patient-hash partition, then one merge.

1. **spill** (`spill`): each table is read once, as a stream of projected batches, into
   per-partition Arrow IPC files in a spill folder;
2. **clean** each partition with `recipe.clean` (duplicates and every §3 rule are per patient),
   its cleaned frames kept in the spill folder, and **screen** the frames still held with
   `recipe.screen` (cases are per patient), as the in-memory run screens while its contracts
   worker validates: as if no contract warning flagged a row;
3. **contracts** (Great Expectations) on the contract columns of the *whole* tables, in the
   order of a single-partition run, so rates and row-level outcomes are a single run's; in the
   rare night a warning flagged a row a partition used, that partition is screened again from
   its cleaned files, the flagged rows quarantined (`partition_work.screened_again`);
4. **merge**, then the recipe's `history` and `publish` stages (`merge`).

The outputs are byte-identical to the in-process run (tests/test_partition.py). Steps 2 and 3
run on an executor (`executors`): `local` (this process, one partition at a time: memory grows
with the largest partition) or `dask` (a Dask cluster).
"""

from __future__ import annotations

import dataclasses
import math
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from hyposcreen.context import RunContext, RunSummary, discard_outputs
from hyposcreen.decimal_commas import decimal_comma_count, hinting_decimal_commas
from hyposcreen.errors import ConfigError
from hyposcreen.ingest.canonical import REQUIRED_TABLES, IngestedTable
from hyposcreen.ingest.tabular import TooLargeForMemory
from hyposcreen.recipe import ingest_table
from hyposcreen.recipe_contracts import run_contracts
from hyposcreen.recipe_read import remove_dead_row_copies
from hyposcreen.rules.sql_engine import close_shared_connection
from hyposcreen.run_progress import contracts_line, partitions_line, read_line
from hyposcreen.runners.contract_ahead import GatheredAhead, Watch, gathers_ahead
from hyposcreen.runners.contract_gather import cleaned_path
from hyposcreen.runners.executors import EXECUTORS, executor_for, release_free_memory
from hyposcreen.runners.handoff import FRAME_SUFFIX, read_frame, write_frame
from hyposcreen.runners.in_process import run_recipe
from hyposcreen.runners.merge import merge_and_publish
from hyposcreen.runners.partition_work import (
    ContractWarnings,
    WholeContractTables,
    clean_and_screen_partition,
    screen_partition,
    screened_again,
)
from hyposcreen.runners.screened_files import taken_back
from hyposcreen.runners.spill import (
    AUTO_ROWS_PER_PARTITION,
    SPILL_PREFIX,
    resolve_partitions,
    spill_table,
)
from hyposcreen.scratch import spill_parent

# writes a window's spill files into the folder given and returns its tables' counts
Spilled = Callable[[RunContext, Path], dict[str, IngestedTable]]
PATIENTS_FILE = f"patients{FRAME_SUFFIX}"


def run_screen(
    ctx: RunContext,
    partitions: int | None = None,
    executor: str = "local",
    dask_address: str | None = None,
    spilled: Spilled | None = None,
) -> RunSummary:
    """One window: in process when it is one partition on the local executor, else
    partitioned (also when an in-memory read finds more rows than estimated). `spilled`: the
    window's tables are cut from a spill of several windows (runners.shared_spill)."""
    if executor not in EXECUTORS:
        raise ConfigError(f"Unknown --executor '{executor}'; use one of {', '.join(EXECUTORS)}.")
    count = resolve_partitions(ctx, partitions)
    if count == 1 and executor == "local" and spilled is None:
        try:
            return run_recipe(ctx)
        except TooLargeForMemory as grown:
            count = partitions_after(ctx, grown)
    try:
        return run_partitioned(ctx, count, executor, dask_address, spilled=spilled)
    except BaseException:
        discard_outputs(ctx)  # the previous outputs stay; the half-built folder goes
        raise


def partitions_after(ctx: RunContext, grown: TooLargeForMemory) -> int:
    """The partitions for a table that outgrew its in-memory read (its rows counted while they
    streamed); the context reads without a row cap from now on."""
    ctx.memory_row_cap = None
    return max(2, math.ceil(2 * grown.rows / AUTO_ROWS_PER_PARTITION))


def run_partitioned(
    ctx: RunContext,
    partitions: int,
    executor: str = "local",
    dask_address: str | None = None,
    spill_root: Path | None = None,
    spilled: Spilled | None = None,
) -> RunSummary:
    """The partitioned run (module docstring). The spill folder is made under `spill_root`
    (default: $HYPOSCREEN_SPILL_DIR, else beside the output folder: Dask workers must see it)
    and removed at the end."""
    # beside the window's folder, never inside it: that folder is swapped in whole at the end
    root = spill_root or spill_parent(ctx.settings.out_dir)
    root.mkdir(parents=True, exist_ok=True)
    ctx.partitions, ctx.executor = partitions, executor
    # spill folders of killed runs hold patient rows, and so do their copies of CSVs in $TMPDIR
    remove_dead_row_copies(root)
    folder = Path(tempfile.mkdtemp(prefix=f"{SPILL_PREFIX}{os.getpid()}-", dir=root))  # 0700
    try:
        if spilled is not None:  # cut from the spill of several windows
            tables = spilled(ctx, folder)
        else:
            tables = {name: spill_table(ctx, name, folder, partitions) for name in REQUIRED_TABLES}
            patients = ingest_table(ctx, "patients")
            if patients.rows_in:
                tables["patients"] = patients
            del patients  # held whole only until hold_on_disk: its columns are ~0.1 GB at 1M
        if "patients" in tables:
            tables["patients"] = hold_on_disk(ctx, tables["patients"], folder)
        ctx.say(read_line(tables.values(), partitions))
        with executor_for(executor, dask_address) as run_all:
            started, watched = time.perf_counter(), Watch.start()
            screened = run_all(clean_and_screen_partition, ctx, folder, range(partitions))
            took = time.perf_counter() - started
            ctx.say(partitions_line("cleaned and screened", partitions, took))
            with ctx.timed("validate"):
                close_shared_connection()  # DuckDB's cached pages: the screen opens it again
                release_free_memory()
                gathered = WholeContractTables(folder, partitions, tables)
                whole = GatheredAhead(gathered, gathers_ahead(watched))
                decimal = ctx.mapping.decimal
                try:  # results all written with decimal commas: the stop says so
                    with hinting_decimal_commas(lambda: _commas(folder, partitions, decimal)):
                        report = run_contracts(ctx, whole)
                finally:
                    whole.close()
                warned = ContractWarnings.of(report)
                warned.write_parts(folder, partitions, gathered.row_labels)  # labels read once
                validation = report.summary()
                del report, warned, whole, gathered  # and the row labels with them
                release_free_memory()
            ctx.say(contracts_line(validation))
            # a warning flagged rows these partitions used, or their first screen failed
            again = [p for p, s in enumerate(screened) if s is None or screened_again(folder, p)]
            if again:
                started = time.perf_counter()
                for part, result in zip(again, run_all(screen_partition, ctx, folder, again)):
                    if screened[part] is not None:
                        ctx.add_timings(screened[part].timings)  # the first screen's work
                    screened[part] = result
                ctx.say(
                    partitions_line("screened again", len(again), time.perf_counter() - started)
                )
        with ctx.timed("partition_io"):
            for result in screened:
                taken_back(result)  # the frames set aside while the contracts ran
        if "patients" in tables:
            with ctx.timed("partition_io"):
                whole = read_frame(folder / PATIENTS_FILE)
            tables["patients"] = dataclasses.replace(tables["patients"], frame=whole)
        return merge_and_publish(ctx, tables, screened, validation)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def hold_on_disk(ctx: RunContext, patients: IngestedTable, folder: Path) -> IngestedTable:
    """The patients table (one row per patient, read whole) waits in the spill folder until the
    publish stage; until then only the columns its contract reads stay in memory."""
    from hyposcreen.validate.gx import project_for_validation

    with ctx.timed("partition_io"):
        write_frame(folder / PATIENTS_FILE, patients.frame)
    return dataclasses.replace(patients, frame=project_for_validation("patients", patients.frame))


def _commas(folder: Path, partitions: int, decimal: str) -> int:
    """The cleaned partitions' lab results written with decimal commas (counted on a stop)."""
    return sum(
        decimal_comma_count(
            read_frame(cleaned_path(folder, part, "labs"), ["value_raw", "reason"]), decimal
        )
        for part in range(partitions)
    )
