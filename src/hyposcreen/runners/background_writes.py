"""Spill files written on one thread beside the partitioned run's own work.

Writing a spill file is mostly Arrow's: LZ4 compression and the file's bytes, which release
the interpreter. `BackgroundWrites` runs such writes on one thread while the run goes on (the
spill reads the next batch of the input while the last batch's pieces are ordered and
written: runners/spill.py), so on a machine with a free core the writes cost the run no time.
At most `pending` writes wait at once: the frames a write holds are let go when it is done, so
memory grows by at most that many writes' frames. A write that fails raises its error where
the run next submits or waits; `close` waits for every write (a folder is never removed under
a write)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from types import TracebackType
from typing import Any


class BackgroundWrites:
    """Writes run in order on one thread, at most `pending` of them waiting or under way."""

    def __init__(self, pending: int = 1) -> None:
        self.pending = pending
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="spill-write")
        self.queued: deque[Future[None]] = deque()

    def submit(self, write: Callable[..., None], *args: Any) -> None:
        """Queue `write(*args)`, first waiting for the oldest writes beyond `pending`."""
        while len(self.queued) >= self.pending:
            self.queued.popleft().result()
        self.queued.append(self.pool.submit(write, *args))

    def wait(self) -> None:
        """Every queued write done (the first error raised)."""
        while self.queued:
            self.queued.popleft().result()

    def close(self) -> None:
        """Wait for every write (an error of one already failing is not raised again)."""
        try:
            self.wait()
        finally:
            for held in self.queued:
                held.cancel()
            self.queued.clear()
            self.pool.shutdown(wait=True)

    def __enter__(self) -> BackgroundWrites:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if kind is None:
            self.close()
            return
        with suppress(Exception):  # the run is failing already: its error is the one raised
            self.close()
