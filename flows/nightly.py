"""Prefect wiring of one screening run: each task is one call into `hyposcreen.pipeline`.

Retries, caching, artifacts, the flow-run name and FAILED.json live here; the screening
logic lives in the core. Flow parameters are paths and strings only (Prefect's 512 KB limit).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from prefect import Task, flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE, CacheKeyFnPolicy
from prefect.client.schemas.objects import TaskRun
from prefect.context import TaskRunContext
from prefect.runtime import flow_run as current_flow_run
from prefect.states import State

import hyposcreen
from flows.artifacts import counts_table, failure_record, run_counts, summary_markdown
from hyposcreen import partition, pipeline
from hyposcreen.config import RunSettings, load_mapping, parse_timestamp, parse_window
from hyposcreen.errors import HyposcreenError
from hyposcreen.ingest.canonical import REQUIRED_TABLES, IngestedTable
from hyposcreen.ingest.tabular import sha256_of
from hyposcreen.pipeline import CleanedInputs, RunContext, RunSummary
from hyposcreen.screen.cases import ScreenResult

FAILED_FILE = "FAILED.json"


# --- parameters -> settings ------------------------------------------------------------------


def site_timezone(mapping: str | None) -> str:
    """The site's time zone: the mapping file's `timezone`, UTC without a mapping."""
    return load_mapping(Path(mapping) if mapping else None).timezone


def default_window(timezone: str, now: datetime | None = None) -> tuple[str, str]:
    """The previous calendar day in the site's time zone, as naive local ISO date-times."""
    today = (now or datetime.now(UTC)).astimezone(ZoneInfo(timezone)).date()
    return _midnight(today - timedelta(days=1)), _midnight(today)


def _midnight(day: date) -> str:
    return f"{day.isoformat()}T00:00:00"


def resolve_window(
    start: str | None, end: str | None, timezone: str, now: datetime | None = None
) -> tuple[str, str]:
    """Fill a missing window bound: no bounds = the day before `now`, one bound = one day."""
    if start is None and end is None:
        return default_window(timezone, now)
    one_day = pd.Timedelta(days=1)
    if end is None:
        assert start is not None
        return start, (parse_timestamp(start, timezone, "window_start") + one_day).isoformat()
    if start is None:
        return (parse_timestamp(end, timezone, "window_end") - one_day).isoformat(), end
    return start, end


def window_date(start: str, timezone: str) -> str:
    return parse_timestamp(start, timezone, "window_start").date().isoformat()


def scheduled_time() -> datetime:
    """The run's scheduled start: a late or retried nightly run still screens its own night."""
    return current_flow_run.scheduled_start_time


def run_name() -> str:
    """`screen-<window start date>`, computed from the flow run's parameters."""
    params = current_flow_run.parameters
    try:
        timezone = site_timezone(params.get("mapping"))
        start, _ = resolve_window(
            params.get("window_start"), params.get("window_end"), timezone, scheduled_time()
        )
        return f"screen-{window_date(start, timezone)}"
    except HyposcreenError:
        return "screen-invalid-settings"  # the flow body fails with the readable message


def out_folder(out: str, day: str) -> Path:
    """The output folder; a `{date}` in it becomes the window's start date (one per night)."""
    return Path(out.replace("{date}", day))


# --- caching and retries ---------------------------------------------------------------------


@cache
def _code_hash() -> str:
    """Hash of the installed core's sources: a code change invalidates cached reads."""
    digest = hashlib.sha256(hyposcreen.__version__.encode())
    for path in sorted(Path(hyposcreen.__file__).parent.rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def ingest_cache_key(task_ctx: TaskRunContext, inputs: dict[str, Any]) -> str | None:
    """sha256 of the table's files + rules version/hash + window + mapping + code."""
    ctx: RunContext = inputs["ctx"]
    name: str = inputs["name"]
    settings = ctx.settings
    try:
        files = pipeline.table_files(ctx, name)
        hashes = [(str(path), str(path.resolve()), sha256_of(path)) for path in files]
    except (HyposcreenError, OSError):
        return None  # not cacheable; the task itself raises the readable error
    payload = {
        "table": name,
        "files": hashes,
        "rules": [ctx.rules.version, ctx.rules.content_hash],
        "window": settings.window.label(),
        "mapping": dataclasses.asdict(ctx.mapping),
        "source": settings.source,
        "code": _code_hash(),
    }
    blob = json.dumps(payload, sort_keys=True, default=str).encode()
    return f"ingest-{name}-{hashlib.sha256(blob).hexdigest()}"


def is_transient(task: Task[Any, Any], task_run: TaskRun, state: State[Any]) -> bool:
    """Retry I/O errors (a share that hiccups), also when the core wrapped one in its own
    error; a wrong input or a bug fails at once."""
    error = state.result(raise_on_failure=False)
    return isinstance(error, OSError) or isinstance(getattr(error, "__cause__", None), OSError)


# --- tasks: one call into the core each -------------------------------------------------------


@task(name="prepare", cache_policy=NO_CACHE, persist_result=False)
def prepare(settings: RunSettings) -> RunContext:
    return pipeline.prepare(settings)


@task(
    name="ingest",
    task_run_name="ingest-{name}",
    cache_policy=CacheKeyFnPolicy(cache_key_fn=ingest_cache_key),
    cache_expiration=timedelta(days=7),
    persist_result=True,  # pickled IngestedTable under PREFECT_LOCAL_STORAGE_PATH
    retries=2,
    retry_delay_seconds=[1, 5],
    retry_condition_fn=is_transient,
)
def ingest(ctx: RunContext, name: str) -> IngestedTable:
    return pipeline.ingest_table(ctx, name)


@task(name="clean", cache_policy=NO_CACHE, persist_result=False)
def clean(ctx: RunContext, tables: dict[str, IngestedTable]) -> CleanedInputs:
    return pipeline.clean_inputs(ctx, tables)


@task(name="validate", cache_policy=NO_CACHE, persist_result=False)
def validate(ctx: RunContext, cleaned: CleanedInputs) -> dict[str, Any]:
    return pipeline.validate_inputs(ctx, cleaned)


@task(name="screen", cache_policy=NO_CACHE, persist_result=False)
def screen(ctx: RunContext, cleaned: CleanedInputs) -> ScreenResult:
    return pipeline.screen_inputs(ctx, cleaned)


@task(
    name="write",
    cache_policy=NO_CACHE,
    persist_result=False,
    retries=2,
    retry_delay_seconds=[1, 5],
    retry_condition_fn=is_transient,
)
def write(
    ctx: RunContext,
    tables: dict[str, IngestedTable],
    cleaned: CleanedInputs,
    result: ScreenResult,
    validation: dict[str, Any],
) -> RunSummary:
    return pipeline.write_outputs(ctx, tables, cleaned, result, validation)


@task(name="screen-partitioned", cache_policy=NO_CACHE, persist_result=False)
def screen_partitioned(
    ctx: RunContext, partitions: int, executor: str, dask_address: str | None
) -> RunSummary:
    """Read, clean, validate, screen and write by patient-hash partition (issue #6); with
    executor "dask" the partition work goes to a Dask cluster through distributed.Client."""
    return partition.run_partitioned(ctx, partitions, executor, dask_address)


@task(name="publish", cache_policy=NO_CACHE, persist_result=False)
def publish(summary: RunSummary, seconds: float) -> dict[str, Any]:
    """Markdown and table artifacts from the manifest: counts only, never identifiers."""
    counts = run_counts(summary, seconds)
    create_markdown_artifact(
        summary_markdown(counts), key="hyposcreen-summary", description="Screening run summary"
    )
    create_table_artifact(
        counts_table(counts), key="hyposcreen-counts", description="Counts, quarantine, timings"
    )
    tiers = counts["counts_per_tier"]
    get_run_logger().info(
        "%s case(s) listed (urgent %s, soon %s, routine %s); run %s",
        counts["listed"],
        tiers["1"],
        tiers["2"],
        tiers["3"],
        counts["run_id"],
    )
    return counts


# --- FAILED.json -----------------------------------------------------------------------------


def write_failure(out_dir: Path, record: dict[str, Any]) -> Path | None:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / FAILED_FILE
        path.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    except OSError as exc:
        get_run_logger().error("Could not write %s in %s: %s", FAILED_FILE, out_dir, exc)
        return None
    return path


# --- the flow --------------------------------------------------------------------------------


@flow(name="nightly-screen", flow_run_name=run_name, validate_parameters=True)
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
    partitions: int | None = None,
    executor: str = "local",
    dask_address: str | None = None,
) -> dict[str, Any]:
    """Screen one window and write the review list.

    `partitions` (None: automatic by input size), `executor` ("local" or "dask") and
    `dask_address` (a scheduler, e.g. tcp://10.0.0.5:8786; none: a LocalCluster) choose a
    partitioned run (docs/scaling.md); one partition on "local" is the in-memory run.

    Without a window: the calendar day before the run's scheduled start, in the site's time zone.

    `out` may hold `{date}` (the window's start date). On failure FAILED.json is written there
    and the run ends Failed; on success a stale FAILED.json is removed.
    """
    started = time.perf_counter()
    window: tuple[str | None, str | None] = (window_start, window_end)
    out_dir = out_folder(out, "unknown-date")
    try:
        timezone = site_timezone(mapping)
        window = resolve_window(window_start, window_end, timezone, scheduled_time())
        out_dir = out_folder(out, window_date(window[0], timezone))
        settings = RunSettings(
            input_dir=Path(input),
            out_dir=out_dir,
            window=parse_window(window[0], window[1], timezone),
            profile=profile,
            source=source,
            mapping_path=Path(mapping) if mapping else None,
            rules_dir=Path(rules) if rules else None,
            glucose_factor=glucose_factor,
        )
        ctx = prepare(settings)
        count = partition.resolve_partitions(ctx, partitions)
        if count > 1 or executor != "local":
            summary = screen_partitioned(ctx, count, executor, dask_address)
        else:
            reads = {name: ingest.submit(ctx, name) for name in (*REQUIRED_TABLES, "patients")}
            tables = {name: future.result() for name, future in reads.items()}
            if not tables["patients"].rows_in:  # as pipeline.read_inputs: patients are optional
                del tables["patients"]
            cleaned = clean(ctx, tables)
            validation = validate(ctx, cleaned)
            result = screen(ctx, cleaned)
            summary = write(ctx, tables, cleaned, result, validation)
        counts = publish(summary, time.perf_counter() - started)
    except Exception as error:
        write_failure(out_dir, failure_record(error, window))
        raise
    (out_dir / FAILED_FILE).unlink(missing_ok=True)
    return {**counts, "review_csv": str(summary.review_csv)}
