"""Running a benchmark subprocess measured (wall time, peak RSS of its process tree) and
reading the step timings and case count from the run manifest it leaves."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
DATA_DIR = BENCH_DIR / "data"
RESULTS_DIR = BENCH_DIR / "results"
LOG_DIR = RESULTS_DIR / "logs"
POLL_WAIT_S = 0.01
POLL_RSS_S = 0.05


@dataclass
class ProcessRun:
    """What one measured subprocess did."""

    command: list[str]
    returncode: int | None
    wall_s: float
    maxrss_mb: float  # kernel high-water mark (largest single process)
    tree_rss_mb: float  # psutil, sum over the process tree, sampled
    timed_out: bool
    strays_stopped: bool  # the child left processes of its session running; we stopped them
    stdout_path: str
    stderr_path: str
    cpu_s: float = 0.0  # user+sys of the process itself (and of children it waited for)
    children_cpu_s: float = 0.0  # user+sys of the processes it left running (sampled, e.g. a
    # contracts worker it does not wait for), as last seen

    @property
    def peak_rss_mb(self) -> float:
        """Return the larger of the two RSS measurements."""
        return max(self.maxrss_mb, self.tree_rss_mb)

    @property
    def ok(self) -> bool:
        """Return True when the process exited 0 in time."""
        return self.returncode == 0 and not self.timed_out


def sample_tree_rss(pid: int, children_cpu: dict[int, float] | None = None) -> int:
    """Return the summed RSS in bytes of a process and all its descendants (0 if gone);
    `children_cpu` gets each descendant's user+sys seconds so far, by pid."""
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for process in processes:
        try:
            total += process.memory_info().rss
            if children_cpu is not None and process is not root:
                times = process.cpu_times()
                children_cpu[process.pid] = times.user + times.system
        except psutil.Error:
            continue
    return total


def stop_process_group(pid: int) -> None:
    """Terminate the process group this script started for ``pid`` (then kill it)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        time.sleep(2.0)


def stop_strays(pgid: int) -> bool:
    """Stop processes left in the session we started (e.g. a server); return True if any."""
    try:
        os.killpg(pgid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def run_measured(
    command: list[str], log_name: str, timeout_s: float, env: dict[str, str] | None = None
) -> ProcessRun:
    """Run ``command``; return its exit code, wall time and peak RSS (logs go to files)."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    stdout_path = LOG_DIR / f"{log_name}.stdout.log"
    stderr_path = LOG_DIR / f"{log_name}.stderr.log"
    with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            command, cwd=REPO_DIR, env=env, stdout=out, stderr=err, start_new_session=True
        )
        tree_peak, next_sample, timed_out = 0, 0.0, False
        children_cpu: dict[int, float] = {}
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            now = time.perf_counter()
            if pid == proc.pid:
                break
            if now >= next_sample:
                tree_peak = max(tree_peak, sample_tree_rss(proc.pid, children_cpu))
                next_sample = now + POLL_RSS_S
            if not timed_out and now - started > timeout_s:
                timed_out = True
                stop_process_group(proc.pid)
            time.sleep(POLL_WAIT_S)
        wall = now - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    strays = stop_strays(proc.pid)
    return ProcessRun(
        command=command,
        returncode=proc.returncode,
        wall_s=wall,
        maxrss_mb=usage.ru_maxrss / 1024.0,  # Linux reports KiB
        tree_rss_mb=tree_peak / 2**20,
        timed_out=timed_out,
        strays_stopped=strays,
        stdout_path=str(stdout_path.relative_to(REPO_DIR)),
        stderr_path=str(stderr_path.relative_to(REPO_DIR)),
        cpu_s=usage.ru_utime + usage.ru_stime,
        children_cpu_s=sum(children_cpu.values()),
    )


def read_tail(path: str, lines: int = 25) -> str:
    """Return the last ``lines`` lines of a log file (relative to the repository)."""
    try:
        text = (REPO_DIR / path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.rstrip().splitlines()[-lines:])


def read_step_timings(manifest: dict[str, Any]) -> dict[str, float]:
    """Return {step: seconds} from a run manifest's ``timings`` (numbers, or {"seconds": …})."""
    raw = manifest.get("timings")
    steps: dict[str, float] = {}
    if not isinstance(raw, dict):
        return steps
    for step, value in raw.items():
        if isinstance(value, dict):
            value = value.get("seconds")
        if isinstance(value, int | float) and not isinstance(value, bool):
            steps[str(step)] = float(value)
    return steps


def find_case_count(manifest: dict[str, Any]) -> int | None:
    """Return the number of cases (patients) from the manifest's attrition table, if found."""
    attrition = manifest.get("attrition")
    entries: list[tuple[str, Any]] = []
    if isinstance(attrition, dict):
        entries = [(str(k), v) for k, v in attrition.items()]
    elif isinstance(attrition, list):
        for item in attrition:
            if isinstance(item, dict):
                name = item.get("step") or item.get("stage") or item.get("name") or ""
                count = next(
                    (item[k] for k in ("count", "n", "patients", "value") if k in item), None
                )
                entries.append((str(name), count))
    for name, count in entries:
        if re.fullmatch(r"cases?(\s*\(patients\)|_patients)?", name.strip().lower()):
            if isinstance(count, int) and not isinstance(count, bool):
                return count
    return None
