"""A forked copy of the run's process, for work that can go on beside the run (Linux).

`fork(serve)` starts a copy that runs `serve()` and exits: it sees the modules, rules and
settings the run has loaded (nothing is pickled or sent), runs no garbage collection over what
it inherited (`gc.freeze`: neither process then copies the other's pages for it), writes
nothing to the terminal (its stdout and stderr go to /dev/null; what it would report, the run
reports when it redoes the work) and leaves by `os._exit`, so no finaliser, `atexit` hook or
buffered output of the run runs twice. `answered_or_stalled` waits for a copy's word without
waiting forever on a copy that stopped using CPU (hung on a lock its fork copied, or stopped).

`HYPOSCREEN_FORK_WRITERS`: ``0`` never forks, ``1`` forks wherever Linux has `os.fork`,
unset or ``auto`` when the process may use at least two CPUs.
"""

from __future__ import annotations

import contextlib
import gc
import os
import select
import signal
import sys
import time
import traceback
from collections.abc import Callable

ENV = "HYPOSCREEN_FORK_WRITERS"
STALL_S = 30.0  # a copy that used no CPU this long without answering has hung or was stopped


def cpu_ticks(pid: int) -> int | None:
    """The CPU ticks process `pid` used so far (Linux /proc), None when that cannot be read."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime, stime
    except (OSError, IndexError, ValueError):
        return None


def copies_wanted() -> bool:
    """Whether the run may fork a copy here (the platform, the setting, the CPUs it may use)."""
    setting = os.environ.get(ENV, "auto").strip().lower()
    if setting == "0" or not sys.platform.startswith("linux") or not hasattr(os, "fork"):
        return False
    return setting == "1" or len(os.sched_getaffinity(0)) >= 2


def fork(serve: Callable[[], object]) -> int | None:
    """Start a copy of this process that runs `serve()` and exits (0 when it returned, 1 when
    it raised); its pid, or None when no copy could be made (the run then works alone)."""
    for stream in (sys.stdout, sys.stderr):  # nothing buffered is written twice
        with contextlib.suppress(Exception):
            stream.flush()
    gc.freeze()  # the inherited objects are never scanned, in the copy as in the run
    try:
        pid = os.fork()
    except OSError:  # no memory or process slot for a copy
        return None
    finally:
        gc.unfreeze()
    if pid:
        return pid
    status = 1
    try:
        gc.freeze()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        quiet = os.open(os.devnull, os.O_WRONLY)
        os.dup2(quiet, 1)
        if not debugging():
            os.dup2(quiet, 2)
        serve()
        status = 0
    except BaseException:  # the run redoes the work and reports any error
        if debugging():
            traceback.print_exc()
        status = 1
    finally:
        os._exit(status)


def debugging() -> bool:
    """HYPOSCREEN_DEBUG=1: a copy's errors are printed (on the run's stderr) as they happen."""
    return os.environ.get("HYPOSCREEN_DEBUG") == "1"


def stop(pid: int) -> None:
    """Kill copy `pid` and reap it."""
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def answered_or_stalled(reply_fd: int, pid: int, stall_s: float | None = None) -> bool:
    """Wait until `reply_fd` can be read (the copy answered, or closed it by exiting): True.
    False when copy `pid` used no CPU for `stall_s` (default STALL_S) meanwhile."""
    stall_s = STALL_S if stall_s is None else stall_s
    ticks, still_since = cpu_ticks(pid), time.monotonic()
    watch = select.poll()
    watch.register(reply_fd, select.POLLIN | select.POLLHUP | select.POLLERR)
    while not watch.poll(min(1.0, stall_s) * 1000):
        now_ticks = cpu_ticks(pid)
        if now_ticks is None or now_ticks != ticks:
            ticks, still_since = now_ticks, time.monotonic()
        elif time.monotonic() - still_since >= stall_s:
            return False
    return True
