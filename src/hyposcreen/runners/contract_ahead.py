"""The whole tables of a partitioned run's contracts, each gathered while the one before it is
validated, when a second core is free.

Validation takes the tables one at a time, in order (validate.run.validate_tables: labs,
medications, diagnoses, then the patients held in memory). Gathering a table from the
partitions' files (runners/contract_gather.py) is mostly Arrow's and numpy's work, which
release the interpreter, while Great Expectations validates the table before it; so
`GatheredAhead` gathers the next table on a thread meanwhile, and Great Expectations is
imported on that thread while the first table is gathered. The tables are the ones
`WholeContractTables` gives (the same values; the order they are looked up in does not
matter: a table not gathered ahead is gathered when asked for). At most the table validated
and the next one's gathered columns are held at once. All of it is the run's `validate` step:
the thread starts and ends within it.

A thread only helps beside a free core: on a machine whose cores are taken, two threads of
one interpreter take turns and each waits for the other. Whether the run gathers ahead is
decided as validate/warm_up.py decides the import beside the read, by
``HYPOSCREEN_GX_WARM_UP``: ``1`` always, ``0`` never, ``auto`` (the default) when the other
processes left at least `CPUS_NEEDED` CPUs free while the partitions were cleaned
(`Watch`: the machine's busy time less this process's own, over that time).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from hyposcreen.runners.contract_gather import WholeContractTables
from hyposcreen.validate import warm_up

CPUS_NEEDED = 1.5  # this process's thread, and half a CPU more for the one beside it
SHORTEST_WATCH_S = 0.5  # a shorter watch says nothing: the tables are gathered one by one


@dataclass(frozen=True)
class Watch:
    """The machine's CPU times (warm_up.cpu_times), this process's CPU time and the clock."""

    machine: tuple[int, int, int] | None
    own: float
    at: float

    @classmethod
    def start(cls) -> Watch:
        return cls(warm_up.cpu_times(), time.process_time(), time.monotonic())

    def free_cpus(self) -> float | None:
        """CPUs the other processes left free since the watch started (None: unknown)."""
        after, own, now = warm_up.cpu_times(), time.process_time(), time.monotonic()
        if self.machine is None or after is None or now - self.at < SHORTEST_WATCH_S:
            return None
        ticks = os.sysconf("SC_CLK_TCK") or 100
        busy = ((after[1] - self.machine[1]) - (after[0] - self.machine[0])) / ticks
        others = max(0.0, busy - (own - self.own)) / (now - self.at)
        return min(after[2], warm_up.usable_cpus()) - others


def gathers_ahead(watched: Watch | None) -> bool:
    """Whether to gather ahead (module docstring), the machine watched since `watched`."""
    mode = warm_up.setting(os.environ.get(warm_up.SETTING))
    if mode != "auto":
        return mode == "on"
    free = watched.free_cpus() if watched is not None else None
    return free is not None and free >= CPUS_NEEDED


class GatheredAhead(Mapping[str, Any]):
    """`tables`' tables, the next gathered table (in `tables`' order) made on a thread while
    one is in use (with `ahead`; else each gathered when asked for, here); `close()` ends the
    thread (waiting for a gather under way)."""

    def __init__(self, tables: WholeContractTables, ahead: bool = True) -> None:
        self.tables = tables
        self.gathered = [name for name in tables if name != "patients"]
        self.ahead: dict[str, Future[Any]] = {}
        self.pool: ThreadPoolExecutor | None = None
        self.imported: Future[Any] | None = None
        if ahead:
            from hyposcreen.validate.gx_import import import_gx

            self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="contract-gather")
            self.imported = self.pool.submit(import_gx)  # while the first table is gathered

    def __getitem__(self, name: str) -> Any:
        held = self.ahead.pop(name, None)
        table = held.result() if held is not None else self.tables[name]
        if self.imported is not None:  # GX in place (its patches too) before it is used here
            self.imported.result()
            self.imported = None
        if self.pool is not None and name in self.gathered:
            after = self.gathered[self.gathered.index(name) + 1 :]
            if after and after[0] not in self.ahead:
                self.ahead[after[0]] = self.pool.submit(self.tables.__getitem__, after[0])
        return table

    def close(self) -> None:
        for held in self.ahead.values():
            held.cancel()
        self.ahead.clear()
        if self.pool is not None:
            self.pool.shutdown(wait=True)

    def __contains__(self, name: object) -> bool:
        return name in self.tables

    def __iter__(self) -> Iterator[str]:
        return iter(self.tables)

    def __len__(self) -> int:
        return len(self.tables)
