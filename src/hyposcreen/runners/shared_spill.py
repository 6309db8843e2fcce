"""Many windows, one spill: the partitioned runner's read done once for several windows.

`spill_once` streams each table once into a spill folder (`runners.spill`), the labs over the
union of the windows' read ranges (as `recipe_read.read_once` reads them in memory). For each
window, `cut_spill` makes that window's spill folder from it: medications and diagnoses files
linked (read whole, they are the same for every window), the lab files rewritten with only the
rows of the window's read range (and undated rows), each row renumbered with its number in a
lone read of that window; the counts are a lone read's (`recipe_read.window_counts`). The
partitioned run then goes on from that folder as from its own spill.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hyposcreen.config import Window
from hyposcreen.context import RunContext
from hyposcreen.ingest.canonical import REQUIRED_TABLES, IngestedTable
from hyposcreen.recipe_read import (
    check_in_range,
    ingest_table,
    remove_dead_row_copies,
    union_filter,
    window_counts,
)
from hyposcreen.runners.handoff import FRAME_SUFFIX, count_rows, read_table, write_table
from hyposcreen.runners.spill import _SEQ, SPILL_PREFIX, spill_table
from hyposcreen.scratch import spill_parent


@dataclass
class SharedSpill:
    """The union's spill folder (removed by `close`), its partitions and the tables' counts
    (labs over `lab_range`; patients with their frame, read whole as a partitioned run does)."""

    folder: Path
    partitions: int
    tables: dict[str, IngestedTable]
    lab_range: tuple[str, pd.Timestamp, pd.Timestamp]
    windows: int
    timings: dict[str, float] = field(default_factory=dict)

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def spill_root(ctx: RunContext) -> Path:
    """Where spill folders go: $HYPOSCREEN_SPILL_DIR, else beside the window's output folder."""
    return spill_parent(ctx.settings.out_dir)


def spill_once(ctx: RunContext, windows: Sequence[Window], partitions: int) -> SharedSpill:
    """Every table spilled once for all `windows` into `partitions` patient-hash partitions."""
    root = spill_root(ctx)
    root.mkdir(parents=True, exist_ok=True)
    remove_dead_row_copies(root)  # and the spill folders of killed runs there
    folder = Path(tempfile.mkdtemp(prefix=f"{SPILL_PREFIX}{os.getpid()}-", dir=root))  # 0700
    reader = dataclasses.replace(ctx, timings={}, peak_rss_mb={})
    try:
        labs = union_filter(reader, windows)
        assert labs.window is not None
        tables = {
            name: spill_table(reader, name, folder, partitions, labs if name == "labs" else None)
            for name in REQUIRED_TABLES
        }
        patients = ingest_table(reader, "patients")
        if patients.rows_in:
            tables["patients"] = patients
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return SharedSpill(folder, partitions, tables, labs.window, len(windows), reader.timings)


def cut_spill(shared: SharedSpill, ctx: RunContext, folder: Path) -> dict[str, IngestedTable]:
    """The context's window's spill files in `folder` (its own spill folder) and its tables'
    counts, as a lone spill of that window gives them."""
    column, start, end = check_in_range(shared.lab_range, ctx)
    tables = {}
    for name, table in shared.tables.items():
        if name == "labs":
            outside = _cut_labs(shared.folder, folder, column, start, end)
            tables[name] = window_counts(table, table.frame, outside)
        else:
            for path in sorted(shared.folder.glob(f"{name}-*{FRAME_SUFFIX}")):
                _link(path, folder / path.name)
            tables[name] = window_counts(table, table.frame.copy(deep=False), 0)
    return tables


def _cut_labs(
    source: Path, target: Path, column: str, start: pd.Timestamp, end: pd.Timestamp
) -> int:
    """Rewrite the union's lab files into `target` with the rows of [start, end) and the
    undated ones, numbered as in a lone read; return how many dated rows fell outside."""
    files = sorted(source.glob(f"labs-*{FRAME_SUFFIX}"))
    keeps = []
    total = sum(count_rows(path) for path in files)
    in_range = np.zeros(total, dtype=bool)
    for path in files:
        times = read_table(path, [column, _SEQ])
        time = times.column(column)
        inside = pc.and_(pc.greater_equal(time, pa.scalar(start, time.type)),
                         pc.less(time, pa.scalar(end, time.type)))  # fmt: skip
        keep = pc.fill_null(inside, True).to_numpy(zero_copy_only=False)
        in_range[times.column(_SEQ).to_numpy()] = keep
        keeps.append(keep)
    renumbered = np.cumsum(in_range, dtype=np.int64) - 1  # a row's number among the kept rows
    for path, keep in zip(files, keeps, strict=True):
        if keep.any():
            table = read_table(path).filter(pa.array(keep))
            seq = renumbered[table.column(_SEQ).to_numpy()]
            index = table.schema.get_field_index(_SEQ)
            write_table(target / path.name, table.set_column(index, _SEQ, pa.array(seq)))
    return int(total - in_range.sum())


def _link(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:  # another file system: copy (0600 like every spill file)
        shutil.copyfile(source, target)
        target.chmod(0o600)
