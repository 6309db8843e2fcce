"""The Great Expectations context: one ephemeral in-memory context per process (built lazily,
so importing this module does not import GX), progress bars off, no analytics, reused by every
window a process screens. Runs prepared jobs through GX's validator and returns GX's results.

A run validates each table's frame through a batch definition of the context's pandas data
source, as GX's `ValidationDefinition.run` does, and stamps the results' meta the same way
(run id, validation time, batch parameters); it does not store the results in the context's
validation-results store (GX serialises every result to JSON there, ~1 s at a million rows,
only for its own site builder to read them back). The Data Docs are rendered from the results
in hand (validate/gx_pages.py). After a run the data source's cached batches are dropped, so
the validated frames are freed once read.
"""

from __future__ import annotations

import datetime
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hyposcreen.validate.outcomes import MAX_EXAMPLES, ROW_ID
from hyposcreen.validate.suites import Job

_RESULT_FORMAT: dict[str, Any] = {
    "result_format": "COMPLETE",
    "unexpected_index_column_names": [ROW_ID],
    "exclude_unexpected_values": True,  # values per row cost ~70 µs each; we only need the ids
    "return_unexpected_index_query": False,
    "partial_unexpected_count": MAX_EXAMPLES,
}

SOURCE = "hyposcreen"
DATAFRAME_PLACEHOLDER = "<DATAFRAME>"  # what GX writes in a result's meta for the frame


_LOCK = threading.RLock()


# What one process builds once: its context, the context's data source and batch definitions.
_PROCESS: dict[str, Any] = {}

_BACKGROUND: list[threading.Thread] = []  # the warm-up (validate/warm_up.py), if one was started


@dataclass(frozen=True)
class Validated:
    """One job's GX outcome: the suite validation result, the suite and the batch it ran on."""

    result: Any
    suite: Any
    batch_id: str


def _gx() -> Any:
    wait_for_background()
    import great_expectations as gx  # imported on first use (or by the warm-up): ~2-3 s

    return gx


def start_in_background(work: Callable[[], None]) -> None:
    """Run `work` in a thread that everything here waits for before it touches GX. Any error
    there is dropped: the same step, done again on first use, raises it where it belongs. The
    thread is not a daemon, so a process that ends early waits for it rather than stopping the
    interpreter in the middle of an import."""

    def quietly() -> None:
        try:
            work()
        except Exception:
            with _LOCK:
                _PROCESS.clear()  # a context half built is built again on first use

    thread = threading.Thread(target=quietly, name="hyposcreen-gx-warm-up")
    _BACKGROUND.append(thread)
    thread.start()


def wait_for_background() -> None:
    for thread in list(_BACKGROUND):
        if thread is not threading.current_thread():
            thread.join()


def prepare(tables: tuple[str, ...]) -> None:
    """Import GX and build the process context with a batch definition per table."""
    with _LOCK:
        for table in tables:
            _batch_definition(table)


def gx_version() -> str:
    return str(getattr(_gx(), "__version__", "unknown"))


def _new_context() -> Any:
    gx = _gx()
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    return gx.get_context(project_config=config, mode="ephemeral")


def _batch_definition(table: str) -> Any:
    """One pandas dataframe asset per table in the process context's data source."""
    if "context" not in _PROCESS:
        _PROCESS["context"] = _new_context()
    if SOURCE not in _PROCESS:
        _PROCESS[SOURCE] = _PROCESS["context"].data_sources.add_pandas(SOURCE)
    if f"table:{table}" not in _PROCESS:
        asset = _PROCESS[SOURCE].add_dataframe_asset(table)
        _PROCESS[f"table:{table}"] = asset.add_batch_definition_whole_dataframe("whole")
    return _PROCESS[f"table:{table}"]


def run_jobs(jobs: list[Job]) -> list[Validated]:
    """Validate every job (its view against its suite), in order. All results of one call share
    one run id (one run time), as a checkpoint's do."""
    gx = _gx()
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.validator.v1_validator import Validator

    run_id = RunIdentifier(run_time=datetime.datetime.now(datetime.UTC))
    with _LOCK:
        results = []
        try:
            for job in jobs:
                validator = Validator(
                    batch_definition=_batch_definition(job.table),
                    batch_parameters={"dataframe": job.view},
                    result_format=_RESULT_FORMAT,
                )
                suite = gx.ExpectationSuite(**job.suite)
                result = validator.validate_expectation_suite(suite)
                result.meta["run_id"] = run_id
                result.meta["validation_time"] = run_id.run_time
                result.meta["batch_parameters"] = {"dataframe": DATAFRAME_PLACEHOLDER}
                results.append(Validated(result, suite, str(validator.active_batch_id)))
        finally:
            _release_batches()
        return results


def _release_batches() -> None:
    """Drop the frames GX's execution engine keeps for the batches it validated, and the
    metrics it computed on them (its metric cache holds each check's row masks and filtered
    frames: ~0.7 GB after the tables of a 20M-row run, for the life of the process)."""
    source = _PROCESS.get(SOURCE)
    if source is None:
        return
    engine = source.get_execution_engine()
    cache = getattr(engine, "_metric_cache", None)  # keyed by batch id: not read again
    if isinstance(cache, dict):
        cache.clear()
    manager = engine.batch_manager
    manager.batch_data_cache.clear()
    manager.reset_batch_cache()
