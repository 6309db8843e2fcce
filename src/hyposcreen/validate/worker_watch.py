"""The watch on a contracts worker while the run writes to it or waits for its answer
(validate/worker_client.py): a worker that used no CPU for the stall time meanwhile (stopped,
hung; a long GX run keeps using it) is killed, so the write or the read fails and the run
validates in its own process.

One thread watches a worker for its whole life, each stretch the run spends on it
(`StallWatch.watching`), rather than a thread started and joined per request: a loop of
windows sends a few requests a night, and on a busy machine each new thread kept the run
waiting until the system first ran it.
"""

from __future__ import annotations

import contextlib
import subprocess
import threading
import time
from collections.abc import Callable, Iterator

CHECK_EVERY_S = 1.0  # at most: a shorter stall time is checked that often


class StallWatch:
    """Kills `process` once it used no CPU for `stall_s()` seconds within one stretch of
    `watching` (checked about every second, counted from the stretch's first check)."""

    def __init__(self, process: subprocess.Popen[bytes], stall_s: Callable[[], float]) -> None:
        self.process = process
        self.stall_s = stall_s  # asked at each check (a test shortens it)
        self._lock = threading.Lock()
        self._stretch = 0  # stretches begun
        self._since: float | None = None  # when the current stretch began (None: none)
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None

    @contextlib.contextmanager
    def watching(self) -> Iterator[None]:
        """A stretch the run spends writing to the worker or waiting for it."""
        if self._thread is None:  # started with the first stretch, once
            self._thread = threading.Thread(
                target=self._watch, name="contracts-worker-watch", daemon=True
            )
            self._thread.start()
        with self._lock:
            self._stretch += 1
            self._since = time.monotonic()
        try:
            yield
        finally:
            with self._lock:
                self._since = None

    def close(self) -> None:
        """The watch ends (its thread within a check)."""
        self._closed.set()

    def _watch(self) -> None:
        pid = self.process.pid
        seen, worked, still_since = 0, cpu_ticks(pid), 0.0
        while not self._closed.wait(min(CHECK_EVERY_S, self.stall_s())):
            with self._lock:
                stretch, watched = self._stretch, self._since is not None
            if not watched:
                continue
            ticks = cpu_ticks(pid)
            if stretch != seen:  # a new stretch: its stall counted from its first check
                seen, worked, still_since = stretch, ticks, time.monotonic()
            elif ticks is None or ticks != worked:
                worked, still_since = ticks, time.monotonic()
            elif time.monotonic() - still_since >= self.stall_s():
                with contextlib.suppress(OSError):
                    self.process.kill()
                return


def cpu_ticks(pid: int) -> int | None:
    """The CPU ticks process `pid` used so far (Linux /proc), None when that cannot be read."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime, stime
    except (OSError, IndexError, ValueError):
        return None
