"""The Prefect tasks of a screening run: one per recipe stage (`hyposcreen.recipe`), the
read-once and spill-once tasks a run's windows share, the partitioned screen, the artifacts,
and the retry rule and progress lines they use. flows/nightly.py composes them into the flow.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from prefect import Task, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import TaskRun
from prefect.states import State

from flows.artifacts import counts_table, run_counts, summary_markdown
from flows.orchestrator import orchestrated  # noqa: F401 - the CLI's entry
from hyposcreen import context, recipe_read
from hyposcreen.config import RunSettings, Window
from hyposcreen.failures import without_chain, without_its_text, write_failed_json
from hyposcreen.recipe import STAGES, Stage
from hyposcreen.runners import shared_spill
from hyposcreen.runners.partitioned import Spilled, run_partitioned
from hyposcreen.runners.shared_spill import SharedSpill
from hyposcreen.runners.window_loop import FAILED_FILE

# --- retries and progress --------------------------------------------------------------------

# No read cache: a cached read would keep whole input tables (patients, MRNs, names) under
# PREFECT_HOME as pickles. Tables pass between tasks in memory; no task persists a result.

PROGRESS = logging.getLogger("hyposcreen.progress")  # `hyposcreen run` prints these on stderr
PROGRESS.propagate = False


def say(message: str, *args: object) -> None:
    """One INFO line (counts only) for the flow run's log and the CLI's terminal."""
    get_run_logger().info(message, *args)
    PROGRESS.info(message, *args)


def is_transient(task: Task[Any, Any], task_run: TaskRun, state: State[Any]) -> bool:
    """Retry I/O errors (a share that hiccups), also when the core wrapped one in its own
    error; a wrong input or a bug fails at once."""
    error = state.result(raise_on_failure=False)
    return isinstance(error, OSError) or isinstance(getattr(error, "__cause__", None), OSError)


Run = TypeVar("Run", bound=Callable[..., Any])


def told_without_text(where: str) -> Callable[[Run], Run]:
    """A task's function whose bugs reach Prefect by their kind only: the flow run's log and
    state keep what a task raises, and a bug's text may quote the extract
    (failures.without_its_text; HYPOSCREEN_DEBUG=1 lets it through with its traceback)."""

    def decorate(run: Run) -> Run:
        @functools.wraps(run)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            try:
                return run(*args, **kwargs)
            except Exception as error:
                told = without_chain(without_its_text(error, where))
                if told is error:
                    raise
            # a bug is raised outside the handler, so it holds no __context__ either (`from
            # None` only hides the chain from a traceback, not from a pickle)
            raise told

        return guarded  # type: ignore[return-value]

    return decorate


# --- tasks: one recipe stage each ------------------------------------------------------------


@task(name="prepare", cache_policy=NO_CACHE, persist_result=False)
@told_without_text("prepare")
def prepare(settings: RunSettings) -> context.RunContext:
    return context.prepare(settings)


RETRIED = {"read", "publish"}  # the stages that touch shared folders: an I/O hiccup is retried


def stage_task(stage: Stage) -> Task[Any, Any]:
    """One recipe stage as one Prefect task (results in memory only: nothing persisted)."""
    retried = stage.name in RETRIED
    as_task = task(
        name=stage.name,
        cache_policy=NO_CACHE,
        persist_result=False,
        retries=2 if retried else 0,
        retry_delay_seconds=[1, 5] if retried else 0,
        retry_condition_fn=is_transient if retried else None,
    )
    return as_task(told_without_text(stage.name)(stage.run))


STAGE_TASKS = {stage.name: stage_task(stage) for stage in STAGES}
ingest = STAGE_TASKS["read"]  # the read stage (retried on I/O errors)


@task(
    name="read-once",
    cache_policy=NO_CACHE,
    persist_result=False,
    retries=2,
    retry_delay_seconds=[1, 5],
    retry_condition_fn=is_transient,
)
@told_without_text("read-once")
def read_once(ctx: context.RunContext, windows: Sequence[Window]) -> context.SharedRead:
    """The input read once for every window of the run (recipe_read.read_once); each
    window's read task then cuts its tables from it."""
    return recipe_read.read_once(ctx, windows)


@task(name="spill-once", cache_policy=NO_CACHE, persist_result=False)
@told_without_text("spill-once")
def spill_once(ctx: context.RunContext, windows: Sequence[Window], partitions: int) -> SharedSpill:
    """A large input spilled once into partitions for every window of the run
    (runners.shared_spill); each window's partitioned task cuts its spill from it."""
    return shared_spill.spill_once(ctx, windows, partitions)


def run_stage_task(stage: Stage, ctx: context.RunContext, inputs: list[Any]) -> Any:
    return STAGE_TASKS[stage.name](ctx, *inputs)


def tell_line(line: str) -> None:
    """A progress line of the run's stages (hyposcreen.run_progress: counts only)."""
    say("%s", line)


@task(name="screen-partitioned", cache_policy=NO_CACHE, persist_result=False)
@told_without_text("screen-partitioned")
def screen_partitioned(
    ctx: context.RunContext,
    partitions: int,
    executor: str,
    dask_address: str | None,
    spilled: Spilled | None = None,
) -> context.RunSummary:
    """The recipe by patient-hash partition (hyposcreen.runners.partitioned); with executor
    "dask" the partition work goes to a Dask cluster through distributed.Client. `spilled`:
    cut from the spill the run's windows share."""
    return run_partitioned(ctx, partitions, executor, dask_address, spilled=spilled)


@task(name="artifacts", cache_policy=NO_CACHE, persist_result=False)
@told_without_text("artifacts")
def publish_artifacts(summary: context.RunSummary, seconds: float) -> dict[str, Any]:
    """Markdown and table artifacts from the manifest: counts only, never identifiers."""
    counts = run_counts(summary, seconds)
    create_markdown_artifact(
        summary_markdown(counts), key="hyposcreen-summary", description="Screening run summary"
    )
    create_table_artifact(
        counts_table(counts), key="hyposcreen-counts", description="Counts, quarantine, timings"
    )
    tiers = counts["counts_per_tier"]
    get_run_logger().info(  # the CLI prints its own closing line
        "%s case(s) listed (urgent %s, soon %s, routine %s); run %s; rules %s, severity profile %s",
        counts["listed"],
        tiers["1"],
        tiers["2"],
        tiers["3"],
        counts["run_id"],
        counts["rules_version"],
        counts["profile"],
    )
    return counts


# --- FAILED.json -----------------------------------------------------------------------------


def write_failure(out_dir: Path, record: dict[str, Any]) -> Path | None:
    path = write_failed_json(out_dir, record)
    if path is None:
        get_run_logger().error("Could not write %s in %s", FAILED_FILE, out_dir)
    return path
