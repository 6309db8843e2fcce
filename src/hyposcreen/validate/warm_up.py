"""Importing Great Expectations ahead of time, while the run reads and cleans its input.

`import great_expectations` costs ~0.55 s of pure Python even without the parts hyposcreen
never uses (validate/gx_import.py, gx_sources.py, gx_expectations.py), then the first run
builds a context and compiles GX's Data Docs templates (~0.1 s). For a run without the flow,
`warm_up_in_background` (cli.py) lets the in-memory run have a contracts worker: a second
process that does all of this on the other core and then validates the run's tables there
(validate/worker.py, worker_client.py), so the import never holds this process's interpreter;
`prepare_contracts` is what the worker runs first.

Whether it runs is decided here and nowhere else, by ``HYPOSCREEN_GX_WARM_UP``:

- ``1``: always; ``0`` (or any value but ``auto``): never, GX is imported in the validate step;
- unset, empty or ``auto`` (the default): when a second core is actually free. The process
  must be allowed at least two CPUs (``os.sched_getaffinity``, capped by a container's cgroup
  CPU quota); then at least half a CPU must have stayed idle (``/proc/stat``,
  `second_core_free`): for the worker from the run's start until its read begins
  (`core_free_since`: one thread runs then, while the read's own threads would make any
  machine look busy). Without a worker the contracts run in the run's own process. Without
  ``/proc/stat`` (or a sample shorter than `SAMPLE_S`): if the 1-minute load average is below
  the CPUs less one.

Why a process rather than a thread of this one: reading and cleaning run mostly in DuckDB and
Arrow, which release the GIL, so on a free core the import runs beside them and the validate
step keeps only its own work (1M Parquet: 0.35-0.55 s instead of 1.1-1.5 s, ~12 % of the run
instead of ~30 %). It is pure Python and holds the GIL, so the read waits up to the switch
interval to take it back after each Arrow or DuckDB call, and on a machine whose cores are all
taken the OS may not even run the thread that holds it. Alternating runs on the saturated
2-core machine (2026-12-05 18:23-18:26, load 2.8-3.9): 1M Parquet wall 5.8-7.0 s with the
warm-up against 4.5-6.8 s without, 2M 6.5 / 11.0 s against 6.3 / 10.2 s: no gain there, hence
no warm-up when the cores were watched busy (an earlier series at load 2.6-5 had favoured it,
18:02-18:05; runs that loaded vary ±50 %). The look costs the run nothing: /proc/stat is read
as the run starts and as its read begins.
"""

from __future__ import annotations

import os
from pathlib import Path

from hyposcreen.validate import context, gx_pages, worker_client
from hyposcreen.validate.gx_import import import_gx
from hyposcreen.validate.suites import REVIEW_LIST, TABLES

SETTING = "HYPOSCREEN_GX_WARM_UP"
SAMPLE_S = 0.1  # the shortest watch of the CPUs that decides (else the load average)
IDLE_CPUS_NEEDED = 0.5  # CPUs idle on average over the sample, the run's own thread running

_PROC_STAT = Path("/proc/stat")


def warm_up_in_background() -> None:
    """Let the run have a contracts worker as HYPOSCREEN_GX_WARM_UP says: the in-memory run
    starts it beside its read (validate/worker_client.py); with ``auto`` the worker watches
    the machine and declines when no second core is free."""
    mode = setting(os.environ.get(SETTING))
    if mode == "off" or (mode == "auto" and usable_cpus() < 2):
        return
    worker_client.allow(mode, cpu_times())


def core_free_since(before: tuple[int, int, int] | None) -> bool:
    """Whether a second core stayed free from `before` (a `cpu_times` reading) to now: the
    contracts worker's ``auto`` decision, taken as the read begins over the time the run took
    to get there (one thread: its imports and settings), before the read's own threads make
    the machine look busy. A reading of less than `SAMPLE_S` (or none) goes by the load."""
    after = cpu_times()
    idle = None
    if before and after:  # the ticks of every CPU: seconds x ticks a second x CPUs
        long_enough = SAMPLE_S * (os.sysconf("SC_CLK_TCK") or 100) * after[2]
        idle = idle_cpus(before, after) if after[1] - before[1] >= long_enough else None
    return second_core_free(idle, _load_average(), usable_cpus())


def setting(value: str | None) -> str:
    """The mode ("on", "off" or "auto") for a value of HYPOSCREEN_GX_WARM_UP (None: unset)."""
    value = (value or "").strip().lower()
    if value == "1":
        return "on"
    return "auto" if value in ("", "auto") else "off"


def second_core_free(idle_cpus: float | None, load_average: float | None, cpus: int) -> bool:
    """Whether to import beside the run: `idle_cpus` (CPUs idle on average while watched; None
    when they could not be) of at least IDLE_CPUS_NEEDED, else a 1-minute load average below
    `cpus` - 1 (the run's own thread takes one)."""
    if cpus < 2:
        return False
    if idle_cpus is not None:
        return idle_cpus >= IDLE_CPUS_NEEDED
    return load_average is not None and load_average < cpus - 1


def idle_cpus(before: tuple[int, int, int], after: tuple[int, int, int]) -> float | None:
    """CPUs idle on average between two readings of `cpu_times` (None if no time passed)."""
    idle = after[0] - before[0]
    total = after[1] - before[1]
    return None if total <= 0 else idle / total * after[2]


def cpu_times() -> tuple[int, int, int] | None:
    """(idle ticks, all ticks, CPUs) of the machine from /proc/stat; None without it."""
    try:
        lines = _PROC_STAT.read_text(encoding="ascii").splitlines()
        ticks = [int(t) for t in lines[0].split()[1:]]
        cpus = sum(1 for line in lines if line.startswith("cpu") and line[3:4].isdigit())
    except (OSError, ValueError, IndexError):
        return None
    if len(ticks) < 5 or cpus < 1:
        return None
    return ticks[3] + ticks[4], sum(ticks[:8]), cpus  # idle + iowait; guest is in user


_CGROUP_QUOTAS = (
    (Path("/sys/fs/cgroup/cpu.max"), None),  # cgroup v2: "<quota> <period>" or "max <period>"
    (Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"), Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us")),
)


def cpu_quota(quota_text: str, period_text: str | None = None) -> float | None:
    """CPUs a container's CPU quota allows (cgroup v2 `cpu.max`, or v1 quota and period
    files' texts); None when there is no quota (`max`, -1) or the text does not read."""
    try:
        parts = quota_text.split()
        quota = parts[0]
        period = float(period_text.strip() if period_text is not None else parts[1])
        if quota == "max" or float(quota) <= 0 or period <= 0:
            return None
        return float(quota) / period
    except (ValueError, IndexError):
        return None


def usable_cpus() -> int:
    """CPUs this process may use: its affinity, capped by a container's CPU quota (a 1-CPU
    container on a large host sees every CPU in /proc/stat and in its affinity)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        cpus = os.cpu_count() or 1
    for quota_file, period_file in _CGROUP_QUOTAS:
        try:
            quota_text = quota_file.read_text(encoding="ascii")
            period_text = period_file.read_text(encoding="ascii") if period_file else None
        except OSError:
            continue
        allowed = cpu_quota(quota_text, period_text)
        if allowed is not None:
            return max(1, min(cpus, int(allowed)))
    return cpus


def _load_average() -> float | None:
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def prepare_contracts() -> None:
    """Import GX, build the process context with the batch definitions of every table and the
    review list, and compile the Data Docs templates (the contracts worker's first step)."""
    import_gx()
    context.prepare((*TABLES, REVIEW_LIST))
    gx_pages.prepare()
