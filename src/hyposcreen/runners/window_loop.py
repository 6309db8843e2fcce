"""The loop over the windows of a run, shared by `hyposcreen run --no-flow` and the Prefect
flow: each window in turn, in its own folder; a failed window is told to `on_failure` (its
FAILED.json, the state, alerts) and stops the loop, leaving later windows for the next run.

Several windows (a backfill, a catch-up of missed nights) share one read of the input
(`SharedInput`, `recipe_read`): it is read on the first window, over the union of the
windows' read ranges, and each window's tables are cut from it: in memory when the input fits
the in-memory run (one partition on the local executor, `runners.spill`), else spilled once
into patient-hash partitions (`runners.shared_spill`). Only the canonical reader is shared;
with a source adapter every window reads for itself, as a lone run does.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from hyposcreen.cli_signals import act_on_held_stop, release_stops
from hyposcreen.config import RunSettings, Window
from hyposcreen.context import RunContext, SharedRead, discard_outputs, prepare
from hyposcreen.failures import FAILED_FILE  # a failed window's record; gone once it succeeds
from hyposcreen.ingest.canonical import IngestedTable
from hyposcreen.ingest.tabular import TooLargeForMemory
from hyposcreen.recipe_read import can_share_read, read_once
from hyposcreen.recipe_screen_windows import WINDOWS
from hyposcreen.report.folders import parent_syncs_later, swaps_durable
from hyposcreen.runners.executors import EXECUTORS, heap_set_aside
from hyposcreen.runners.partitioned import Spilled, partitions_after
from hyposcreen.runners.read_span import read_texts
from hyposcreen.runners.shared_spill import SharedSpill, cut_spill, spill_once
from hyposcreen.runners.spill import resolve_partitions
from hyposcreen.validate import worker_client

ReadOnce = Callable[[RunContext, Sequence[Window]], SharedRead]
SpillOnce = Callable[[RunContext, Sequence[Window], int], SharedSpill]


class SharedInput:
    """The input of a loop's windows, read once, on the first window (so a read that fails
    fails that window, as its own read would), when the windows may share it: in memory when
    it fits the in-memory run (`attach` gives the window's context the shared read and says
    True), else, with `spill`, spilled once into patient-hash partitions (`spilled` then cuts
    each window's spill folder from it; `partitions` is their count). `close()` removes that
    spill. Otherwise each window reads for itself with `partitions` (None: by size).
    """

    def __init__(
        self,
        windows: Sequence[Window],
        partitions: int | None = None,
        executor: str = "local",
        tell: Callable[[str], None] | None = None,
        spill: bool = True,
    ) -> None:
        self.windows = list(windows)
        self.partitions = partitions
        self.executor = executor
        self.tell = tell
        self.may_spill = spill
        self.read: SharedRead | None = None
        self.spill: SharedSpill | None = None
        self.decided = len(self.windows) < 2  # one window: nothing to share

    def attach(
        self, ctx: RunContext, read: ReadOnce = read_once, spill: SpillOnce = spill_once
    ) -> bool:
        if not self.decided:
            self.decided = True
            self._share(ctx, read, spill)
            shared = self.read or self.spill
            if shared is not None:  # the first window pays for the read
                ctx.add_timings(shared.timings)
        if self.read is None:
            return False
        self.read.decided.setdefault(WINDOWS, tuple(self.windows))  # screened at once
        ctx.shared_read = self.read
        return True

    def spilled(self) -> Spilled | None:
        """How a partitioned window gets its spill files, when the windows share one spill."""
        shared = self.spill
        if shared is None:
            return None

        def cut(ctx: RunContext, folder: Path) -> dict[str, IngestedTable]:
            with ctx.timed("read_slice"):
                return cut_spill(shared, ctx, folder)

        return cut

    def close(self) -> None:
        if self.spill is not None:
            self.spill.close()
            self.spill = None

    def _share(self, ctx: RunContext, read: ReadOnce, spill: SpillOnce) -> None:
        if self.executor not in EXECUTORS or not can_share_read(ctx):
            return
        count = resolve_partitions(ctx, self.partitions)
        if count == 1 and self.executor == "local":
            worker_client.start()  # the in-memory run's contracts worker, beside the read
            try:
                self.read = read(ctx, self.windows)
            except TooLargeForMemory as grown:  # counted while it streamed: partitions
                worker_client.stop()  # the partitions are validated in this process
                count = partitions_after(ctx, grown)
        self.partitions = count
        if self.read is None and self.may_spill:
            self.spill = spill(ctx, self.windows, count)
        shared = self.read or self.spill
        if self.tell is not None and shared is not None:
            for line in read_texts(shared, self.windows, ctx.mapping.timezone):
                self.tell(line)


class WindowContexts:
    """Each window's run context: `prepare` (mapping, rules, site words, state) once for a
    loop's windows, whose settings differ only in their window and output folder; a window
    with other settings is prepared for itself. Every window gets a context of its own
    (timings, staging folder, shared read) over the same loaded, frozen rules."""

    def __init__(self) -> None:
        self.first: RunContext | None = None
        self.current: RunContext | None = None  # the last context handed out
        self.ahead: list[RunContext] = []  # the next windows read ahead (ReadAhead), in order

    def __call__(self, settings: RunSettings) -> RunContext:
        if self.ahead and self.ahead[0].settings == settings:
            self.current = self.ahead.pop(0)
            return self.current
        self.drop_ahead()
        self.current = self.new_context(settings)
        return self.current

    def drop_ahead(self) -> None:
        """Let go of every window read ahead, the earliest first."""
        while self.ahead:
            drop_ahead(self.ahead.pop(0))

    def new_context(self, settings: RunSettings) -> RunContext:
        """A new context for `settings` (over the first window's loaded rules when only the
        window and output folder differ), which does not become `current` (ReadAhead's)."""
        first = self.first
        if first is None or _beside_window(first.settings) != _beside_window(settings):
            self.first = prepare(settings)
            return self.first
        return RunContext(
            settings=settings,
            rules=first.rules,
            profile=first.profile,
            mapping=first.mapping,
            state=first.state,
            words=first.words,
        )


class ReadAhead:
    """While a loop's window publishes, the next windows (up to `DEPTH`) read, cleaned and
    their contracts sent to the contracts worker (validate/worker_client.py), while the worker
    checks this window's review list (worker_client.around_review): queued behind it, the
    worker validates the next windows while this one writes its files and the next one screens
    and lists its cases, so that it never waits for a window's list to have the next
    contracts. Only windows cut from one in-memory read, without nightly state (whose next
    night's cleaning reads what this night records). A window's run then takes those stages'
    outputs (`RunContext.done`; a stage not done ahead, it runs itself); if anything fails
    here, the window is left to run those stages itself in its turn (where the failure is its
    own), and no later window is read ahead of it."""

    DEPTH = 2  # the windows read ahead of the one publishing

    def __init__(self, contexts: WindowContexts, shared: SharedInput) -> None:
        self.contexts = contexts
        self.shared = shared

    def read(self, upcoming: Sequence[RunSettings]) -> None:
        """The next windows (`upcoming`, in order; the first `DEPTH`) read, cleaned and their
        contracts sent, those not read ahead yet."""
        from hyposcreen.recipe import STAGES
        from hyposcreen.runners.in_process import run_stages

        started = time.perf_counter()
        now, ahead = self.contexts.current, self.contexts.ahead
        upcoming = list(upcoming)[: self.DEPTH]
        if [ctx.settings for ctx in ahead] != upcoming[: len(ahead)]:
            self.drop()  # not the windows that come next
        for settings in upcoming[len(ahead) :]:
            ctx = self.contexts.new_context(settings)
            if ctx.state is not None or not self.shared.attach(ctx):
                break
            try:
                ctx.done = run_stages(ctx, [s for s in STAGES if s.name in _READ_AHEAD])
            except Exception:
                drop_ahead(ctx)
                break
            ahead.append(ctx)
        if now is not None:  # inside its write step: the next windows' time is their own
            spent = time.perf_counter() - started
            now.set_aside["write"] = now.set_aside.get("write", 0.0) + spent

    def drop(self) -> None:
        self.contexts.drop_ahead()


_READ_AHEAD = ("read", "clean", "contracts")


def drop_ahead(ctx: RunContext) -> None:
    """Let go of a window read ahead: its contracts' answer awaited (the worker writes its
    Data Docs into the window's staging folder), then that folder removed."""
    asked = ctx.done.get("contracts")
    if asked is not None and asked.pending is not None:
        with contextlib.suppress(Exception):
            asked.pending.worker.answer(asked.pending.number)
    ctx.done = {}
    discard_outputs(ctx)


def _beside_window(settings: RunSettings) -> tuple[object, ...]:
    """The settings `prepare` reads (all but the window and the output folder)."""
    return tuple(
        getattr(settings, field.name)
        for field in dataclasses.fields(settings)
        if field.name not in ("window", "out_dir")
    )


def screen_windows(
    windows: Sequence[Window],
    settings_for: Callable[[Window], RunSettings],
    screen_window: Callable[[RunSettings], dict[str, Any]],
    on_failure: Callable[[Window, RunSettings, BaseException], None],
    progress: Callable[[int, int, Window], None] | None = None,
    ahead: ReadAhead | None = None,
) -> list[dict[str, Any]]:
    """Screen each window with `screen_window`; its outcomes in window order. Several windows
    reuse a contract result whose table, suite and view are those of the window before
    (validate.context.remembering_results), and quarantine.csv's blocks of rows whose content is
    that of the window before (report.csv_blocks), and their outputs' fsyncs share one thread
    (report.writers.one_fsync_thread), which swaps each folder while the next window screens
    (report.folders.parent_syncs_later). With `ahead`, each window reads the next ahead."""
    from hyposcreen.report.csv_blocks import remembering_blocks
    from hyposcreen.report.writers import one_fsync_thread
    from hyposcreen.validate.context import remembering_results

    with heap_set_aside():
        if len(windows) < 2:
            return _each_window(windows, settings_for, screen_window, on_failure, progress)
        with remembering_results(), remembering_blocks(), one_fsync_thread(), parent_syncs_later():
            try:
                return _each_window(
                    windows, settings_for, screen_window, on_failure, progress, ahead
                )
            finally:
                worker_client.around_review(None)
                if ahead is not None:
                    ahead.drop()


def _each_window(
    windows: Sequence[Window],
    settings_for: Callable[[Window], RunSettings],
    screen_window: Callable[[RunSettings], dict[str, Any]],
    on_failure: Callable[[Window, RunSettings, BaseException], None],
    progress: Callable[[int, int, Window], None] | None,
    ahead: ReadAhead | None = None,
) -> list[dict[str, Any]]:
    outcomes = []
    for number, window in enumerate(windows, start=1):
        if progress is not None:
            progress(number, len(windows), window)
        settings = settings_for(window)
        if ahead is not None and number < len(windows):
            after = [settings_for(w) for w in windows[number : number + ahead.DEPTH]]
            worker_client.around_review(lambda after=after: ahead.read(after))  # type: ignore[misc]
        try:
            act_on_held_stop()  # a stop held while the window before was published
            outcome = screen_window(settings)
            if number == len(windows):  # the swaps left to the fsync thread made, on disk
                swaps_durable()
        except BaseException as error:
            release_stops()
            worker_client.around_review(None)
            if ahead is not None:
                ahead.drop()
            on_failure(window, settings, error)
            raise
        (settings.out_dir / FAILED_FILE).unlink(missing_ok=True)
        release_stops()  # held from its publishing (recipe_publish) until it is told done
        outcomes.append(outcome)
    return outcomes
