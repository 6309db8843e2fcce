"""A screened partition's longest frames, kept in the spill folder until the merge.

A partitioned run screens each partition as it is cleaned, then validates the whole tables
(runners/partitioned.py): every partition's result waits in memory while Great Expectations
runs, the run's memory peak. Its two long frames, the listed patients' sodium results and the
quarantined rows (at 20M lab rows ~8 and ~6 MB a partition of 10), wait as Arrow IPC files in
the run's spill folder instead (handoff.write_frame: 0600, removed with the folder; dtypes,
categories and row labels come back as written), written on the partition's writing thread,
and are read back just before the merge (`taken_back`).
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from hyposcreen.runners.handoff import FRAME_SUFFIX, read_frame, write_frame

if TYPE_CHECKING:
    from hyposcreen.runners.partition_work import PartitionResult


def screened_path(folder: Path, part: int, name: str) -> Path:
    """A screened partition's frame `name` (sodium_results or quarantine)."""
    return folder / f"screened-{part}-{name}{FRAME_SUFFIX}"


def set_aside(
    screened: PartitionResult, folder: Path, part: int, pool: ThreadPoolExecutor
) -> Future[None]:
    """`screened`'s long frames written on `pool`'s thread; the result holds them no longer
    (empty frames of the same columns stand in until `taken_back`)."""
    frames = {"sodium_results": screened.result.sodium_results, "quarantine": screened.quarantine}
    paths = {name: screened_path(folder, part, name) for name in frames}
    written = pool.submit(_write, frames, paths)
    screened.result.sodium_results = frames["sodium_results"].iloc[:0]
    screened.quarantine = frames["quarantine"].iloc[:0]
    screened.on_disk = paths
    return written


def taken_back(screened: PartitionResult) -> None:
    """`screened`'s frames set aside (`set_aside`), read back into it."""
    paths, screened.on_disk = screened.on_disk, {}
    if "sodium_results" in paths:
        screened.result.sodium_results = read_frame(paths["sodium_results"])
    if "quarantine" in paths:
        screened.quarantine = read_frame(paths["quarantine"])


def _write(frames: dict[str, pd.DataFrame], paths: dict[str, Path]) -> None:
    for name, frame in frames.items():
        write_frame(paths[name], frame)
