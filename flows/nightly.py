"""Prefect wiring of one screening run: each task is one stage of `hyposcreen.recipe`.

Retries, caching, artifacts, the flow-run name and FAILED.json live here; the screening
logic lives in the core. Flow parameters are paths and strings only (Prefect's 512 KB limit).
"""

from __future__ import annotations

import signal
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger
from prefect.exceptions import TerminationSignal
from prefect.states import Completed

from flows.alerts import alert_failure, alert_outcomes, remember_failure
from flows.artifacts import failure_record
from flows.orchestrator import orchestrated  # noqa: F401 - the CLI's entry
from flows.parameters import backfill_range, run_name, scheduled_time
from flows.tasks import (  # noqa: F401 - is_transient, ingest: the tasks' retry rule and read
    ingest,
    is_transient,
    prepare,
    publish_artifacts,
    read_once,
    run_stage_task,
    say,
    screen_partitioned,
    spill_once,
    tell_line,
    write_failure,
)
from hyposcreen import context
from hyposcreen.config import RunSettings, Window, load_mapping
from hyposcreen.errors import Terminated
from hyposcreen.ingest.tabular import TooLargeForMemory
from hyposcreen.run_progress import screening_line
from hyposcreen.run_warnings import warning_texts
from hyposcreen.runners.in_process import run_recipe
from hyposcreen.runners.partitioned import partitions_after
from hyposcreen.runners.spill import resolve_partitions
from hyposcreen.runners.window_loop import SharedInput, screen_windows
from hyposcreen.state_lock import StateInUse, holding_state
from hyposcreen.windows import out_folder, plan_windows, window_label

# the folders of the windows the running (or last) flow of this process published, in order:
# when a later window fails, the CLI still tells the warnings of these (published_folders)
_PUBLISHED: list[str] = []
_FAILED: list[tuple[str, str, Path]] = []


def published_folders() -> list[Path]:
    """The folders of the windows this process's last flow run published before it ended."""
    return [Path(folder) for folder in _PUBLISHED]


def forget_published() -> None:
    """Before a flow run: no folder of an earlier run is told as this one's (a run that fails
    before its body starts, in Prefect's own checks, published nothing)."""
    _PUBLISHED.clear()
    _FAILED.clear()


def failed_window() -> tuple[str, str, Path] | None:
    """The window (start, end) and folder where this process's last flow run failed, if it
    failed in one."""
    return _FAILED[-1] if _FAILED else None


# --- the flow --------------------------------------------------------------------------------


# result_serializer: Prefect writes a failed run's exception to its result storage whatever
# persist_result says; as JSON (kind and message, both free of extract values) it is no pickle
@flow(
    name="nightly-screen",
    flow_run_name=run_name,
    validate_parameters=True,
    persist_result=False,
    result_serializer="json",
)
def nightly_screen(
    input: str,  # noqa: A002 - the CLI's --input
    out: str,
    window_start: str | None = None,
    window_end: str | None = None,
    source: str = "canonical",
    mapping: str | None = None,
    profile: str | None = None,
    rules: str | None = None,
    glucose_factor: float | None = None,
    state_dir: str | None = None,
    backfill_start: str | None = None,
    backfill_end: str | None = None,
    partitions: int | None = None,
    executor: str = "local",
    dask_address: str | None = None,
    notify: bool = True,
) -> dict[str, Any]:
    """Screen each window still to do and write its review list into its own folder.

    Windows: a backfill range (each day, both dates included), the given window, or — with a
    state dir — every night since the last successful one (a missed night is caught up); with
    neither, the calendar day before the run's scheduled start in the site's time zone.

    `partitions` (None: automatic by input size), `executor` ("local" or "dask") and
    `dask_address` (a scheduler, e.g. tcp://10.0.0.5:8786; none: a LocalCluster) choose a
    partitioned run (docs/scaling.md); one partition on "local" is the in-memory run.

    Each window's outputs go to `out/<date>/` (or `out` with `{date}` replaced). A failed
    window writes FAILED.json there, keeps that folder's previous outputs, ends the run Failed
    and leaves later windows (and the state) for the next run.
    """
    started = time.perf_counter()
    forget_published()
    failure_window: tuple[str | None, str | None] = (window_start, window_end)
    out_dir = Path(out.replace("{date}", "unknown-date"))
    zone: str | None = None  # the bounds' zone, named in FAILED.json once the mapping is read
    # one run at a time plans and screens a site's nights (hyposcreen.state_lock)
    with ExitStack() as held:
        try:
            site = load_mapping(Path(mapping) if mapping else None)
            zone = site.timezone
            held.enter_context(holding_state(Path(state_dir) if state_dir else None, site.site))
            windows = plan_windows(
                window_start,
                window_end,
                site.timezone,
                scheduled_time(),
                Path(state_dir) if state_dir else None,
                site.site,
                backfill_range(backfill_start, backfill_end),
            )
        except Exception as error:
            record = failure_record(error, failure_window, zone)
            if not isinstance(error, StateInUse):  # the run that holds it publishes the nights
                write_failure(out_dir, record)
            if notify:
                alert_failure(mapping, record, out_dir)
            raise

        def settings_for(window: Window) -> RunSettings:
            return RunSettings(
                input_dir=Path(input),
                out_dir=out_folder(out, window),
                window=window,
                profile=profile,
                source=source,
                mapping_path=Path(mapping) if mapping else None,
                rules_dir=Path(rules) if rules else None,
                glucose_factor=glucose_factor,
                state_dir=Path(state_dir) if state_dir else None,
            )

        def progress(number: int, total: int, window: Window) -> None:
            step = f"[{number}/{total}] " if total > 1 else ""
            say("%s%s", step, screening_line(input, window.label(), profile, site.timezone))

        def on_failure(window: Window, settings: RunSettings, error: BaseException) -> None:
            failed = window_failure(error, window, settings.out_dir, site.timezone)
            if failed is None:
                return
            record, stopped = failed
            remember_failure(state_dir, mapping, window, record, settings.out_dir)
            if notify and not stopped:  # the nights published before it first
                alert_outcomes(mapping, published)
                alert_failure(mapping, record, settings.out_dir)

        shared = SharedInput(windows, partitions, executor, lambda text: say("%s", text))

        published: list[dict[str, Any]] = []  # the outcomes of the windows published so far

        def screen_one(settings: RunSettings) -> dict[str, Any]:
            outcome = screen_window(
                settings, started, partitions, executor, dask_address, shared, site.timezone
            )
            _PUBLISHED.append(str(Path(outcome["review_csv"]).parent))
            published.append(outcome)
            return outcome

        try:
            outcomes = screen_windows(windows, settings_for, screen_one, on_failure, progress)
        finally:
            shared.close()  # a spill shared by the windows holds patient rows
        if notify:
            alert_outcomes(mapping, outcomes)
        if not outcomes:
            return {"windows": [], "listed": 0, "review_csv": None}
        return with_warnings_state(
            {**outcomes[-1], "windows": [o["window"] for o in outcomes]}, outcomes
        )


def as_stop(error: BaseException) -> KeyboardInterrupt | None:
    """A stop that ended a window, as the command tells it: Ctrl-C (KeyboardInterrupt), SIGTERM
    (Terminated), or SIGTERM as Prefect's engine raises it while a flow runs (its
    TerminationSignal, which is neither); None for anything else."""
    if isinstance(error, KeyboardInterrupt):
        return error
    if isinstance(error, TerminationSignal):
        return Terminated() if error.signal == signal.SIGTERM else KeyboardInterrupt()
    return None


def window_failure(
    error: BaseException, window: Window, out_dir: Path, timezone: str
) -> tuple[dict[str, Any], bool] | None:
    """FAILED.json's record of a window that failed, and whether a stop ended it (its
    FAILED.json written here, as `--no-flow` writes it; an error's is written where it is
    raised, in screen_window); None for what is neither an error nor a stop."""
    stop = as_stop(error)
    if stop is None and not isinstance(error, Exception):
        return None
    bounds = (window.start.isoformat(), window.end.isoformat())
    record = failure_record(stop or error, bounds, timezone)
    _FAILED.append((*bounds, out_dir))
    if stop is not None:
        write_failure(out_dir, record)
    return record, stop is not None


WARNINGS_STATE = "Completed with warnings"


def with_warnings_state(result: dict[str, Any], outcomes: list[dict[str, Any]]) -> Any:
    """The flow's return: the result itself (state Completed) or, when a window was screened
    with warnings, a Completed state named "Completed with warnings" that a dashboard tells
    apart from a clean night (the caller still receives the result)."""
    warnings = [f"{o['window']}: {w}" for o in outcomes for w in warning_texts(o.get("warnings"))]
    if not warnings:
        return result
    result = {**result, "warnings": warnings}
    return Completed(name=WARNINGS_STATE, message="; ".join(warnings)[:2000], data=result)


def screen_window(
    settings: RunSettings,
    started: float,
    partitions: int | None = None,
    executor: str = "local",
    dask_address: str | None = None,
    shared: SharedInput | None = None,
    timezone: str | None = None,
) -> dict[str, Any]:
    """One window: the recipe's stages, one task each, then the artifacts; or one
    partitioned task for large inputs / a Dask cluster. With `shared` (several windows), the
    first window runs the read-once task and every window's read task cuts from it. A failure
    writes FAILED.json naming the window's zone (`timezone`: the site mapping the flow read;
    also when the window fails in its preparation, before its own context holds it)."""
    window = (settings.window.start.isoformat(), settings.window.end.isoformat())
    ctx: context.RunContext | None = None
    try:
        ctx = prepare(settings)
        ctx.tell = tell_line  # the stages' progress lines (counts only): the log and stderr
        if shared is not None and shared.attach(ctx, read_once, spill_once):
            count = 1
        else:
            count = resolve_partitions(ctx, shared.partitions if shared else partitions)
        spilled = shared.spilled() if shared is not None else None
        if count > 1 or executor != "local" or spilled is not None:
            summary = screen_partitioned(ctx, count, executor, dask_address, spilled)
        else:
            try:
                summary = run_recipe(ctx, call=run_stage_task)
            except TooLargeForMemory as grown:  # counted while it streamed: go partitioned
                count = partitions_after(ctx, grown)
                summary = screen_partitioned(ctx, count, executor, dask_address)
        counts = publish_artifacts(summary, time.perf_counter() - started)
    except Exception as error:
        if ctx is not None:
            context.discard_outputs(ctx)
        zone = ctx.mapping.timezone if ctx is not None else timezone
        write_failure(settings.out_dir, failure_record(error, window, zone))
        raise
    for warning in counts["warnings"]:
        get_run_logger().warning("screened with a warning: %s", warning)
    return {
        **counts,
        "review_csv": str(summary.review_csv),
        "window": window_label(settings.window),
    }
