"""The loop over the windows of a run, shared by `hyposcreen run --no-flow` and the Prefect
flow: each window in turn, in its own folder; a failed window is told to `on_failure` (its
FAILED.json, the state, alerts) and stops the loop, leaving later windows for the next run.

Several windows (a backfill, a catch-up of missed nights) share one read of the input
(`SharedInput`, `recipe_read`): it is read on the first window, over the union of the
windows' read ranges, and each window's tables are cut from it. The read is shared only when
the input fits the in-memory run (one partition on the local executor, `runners.spill`) and
the canonical reader reads it; otherwise every window reads for itself, as a lone run does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from hyposcreen.config import RunSettings, Window
from hyposcreen.context import RunContext, SharedRead
from hyposcreen.failures import FAILED_FILE  # a failed window's record; gone once it succeeds
from hyposcreen.ingest.tabular import TooLargeForMemory
from hyposcreen.recipe_read import can_share_read, read_once
from hyposcreen.runners.partitioned import partitions_after
from hyposcreen.runners.spill import resolve_partitions

ReadOnce = Callable[[RunContext, Sequence[Window]], SharedRead]


class SharedInput:
    """The input of a loop's windows, read once, on the first window (so a read that fails
    fails that window, as its own read would), when the windows may share it.

    `attach(ctx)` gives a window's context the shared read and returns True, or returns False:
    the window reads for itself with `partitions` (None: by size; after a shared read that
    outgrew memory, the partitions that read counted).
    """

    def __init__(
        self,
        windows: Sequence[Window],
        partitions: int | None = None,
        executor: str = "local",
        tell: Callable[[str], None] | None = None,
    ) -> None:
        self.windows = list(windows)
        self.partitions = partitions
        self.executor = executor
        self.tell = tell
        self.read: SharedRead | None = None
        self.decided = len(self.windows) < 2  # one window: nothing to share

    def attach(self, ctx: RunContext, read: ReadOnce = read_once) -> bool:
        if not self.decided:
            self.decided = True
            self.read = self._read_once(ctx, read)
            if self.read is not None:  # the first window pays for the read
                ctx.add_timings(self.read.timings)
        if self.read is None:
            return False
        ctx.shared_read = self.read
        return True

    def _read_once(self, ctx: RunContext, read: ReadOnce) -> SharedRead | None:
        if self.executor != "local" or not can_share_read(ctx):
            return None
        if resolve_partitions(ctx, self.partitions) > 1:
            return None
        try:
            shared = read(ctx, self.windows)
        except TooLargeForMemory as grown:  # counted while it streamed: read per window
            self.partitions = partitions_after(ctx, grown)
            return None
        if self.tell is not None:
            self.tell(read_once_text(shared))
        return shared


def read_once_text(shared: SharedRead) -> str:
    """The progress line of a shared read (counts only)."""
    counts = ", ".join(f"{t.name} {t.rows_in} row(s)" for t in shared.tables.values())
    seconds = sum(shared.timings.values())
    return f"read the input once for {shared.windows} windows: {counts} ({seconds:.1f} s)"


def screen_windows(
    windows: Sequence[Window],
    settings_for: Callable[[Window], RunSettings],
    screen_window: Callable[[RunSettings], dict[str, Any]],
    on_failure: Callable[[Window, RunSettings, BaseException], None],
    progress: Callable[[int, int, Window], None] | None = None,
) -> list[dict[str, Any]]:
    """Screen each window with `screen_window`; its outcomes in window order."""
    outcomes = []
    for number, window in enumerate(windows, start=1):
        if progress is not None:
            progress(number, len(windows), window)
        settings = settings_for(window)
        try:
            outcome = screen_window(settings)
        except BaseException as error:
            on_failure(window, settings, error)
            raise
        (settings.out_dir / FAILED_FILE).unlink(missing_ok=True)
        outcomes.append(outcome)
    return outcomes
