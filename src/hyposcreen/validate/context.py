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

import copy
import datetime
import functools
from dataclasses import dataclass
from typing import Any

import pandas as pd

from hyposcreen.validate.batches import merged_result, suite_batches
from hyposcreen.validate.gx_speedups import memoized_configurations
from hyposcreen.validate.outcomes import MAX_EXAMPLES, ROW_ID
from hyposcreen.validate.remembered import _LAST_RESULT as _LAST_RESULT  # (tests read it)
from hyposcreen.validate.remembered import _LOCK, _REMEMBERING, key_worth_taking, suite_once
from hyposcreen.validate.remembered import remembering_results as remembering_results
from hyposcreen.validate.remembered import view_key as view_key
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


# What one process builds once: its context, the context's data source and batch definitions.
_PROCESS: dict[str, Any] = {}


@dataclass(frozen=True)
class Validated:
    """One job's GX outcome: the suite validation result, the suite and the batch it ran on."""

    result: Any
    suite: Any
    batch_id: str


def _gx() -> Any:
    from hyposcreen.validate.gx_import import import_gx

    return import_gx()  # imported on first use (or by the contracts worker's warm-up): ~1 s


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
    from great_expectations.execution_engine import pandas_execution_engine

    # GX's pandas engine takes an md5 of every value of each batch it loads, only to show it
    # in the Data Docs' batch markers (and skips it itself above 1 GB): ~0.3 s a million rows
    # per batch, for nothing a run reads. Off: no batch is below a threshold of 0 bytes.
    pandas_execution_engine.HASH_THRESHOLD = 0
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


PASS_OR_FAIL: dict[str, Any] = {"result_format": "BOOLEAN_ONLY"}  # success only: ~half the work


def run_jobs(jobs: list[Job], result_format: dict[str, Any] | None = None) -> list[Validated]:
    """Validate every job (its view against its suite), in order. All results of one call share
    one run id (one run time), as a checkpoint's do. A job whose table, suite and view equal
    the last one validated for that table (`view_key`), while `remembering_results()` is open,
    reuses its result, stamped with this call's run id and time. `result_format` (default: every
    failing row's label, `_RESULT_FORMAT`) e.g. PASS_OR_FAIL."""
    _gx()  # GX imported before its modules are imported here
    from great_expectations.core.run_identifier import RunIdentifier

    run_id = RunIdentifier(run_time=datetime.datetime.now(datetime.UTC))
    with _LOCK:
        results = []
        try:
            for job in jobs:
                known = _LAST_RESULT.get(job.table)
                key = key_worth_taking(job, known) if result_format is None else None
                if key is not None and known is not None and known[1] == key:
                    _, _, result, suite, batch_id = known
                    result = copy.copy(result)  # the same results, this run's meta
                    result.meta = dict(result.meta)
                else:
                    suite = suite_once(job, functools.partial(_gx_suite, job))
                    result = _validate_in_batches(job, suite, result_format or _RESULT_FORMAT)
                    batch_id = str(result.batch_id)
                    if _REMEMBERING and result_format is None:  # no digest: keep no result
                        kept = (result, suite) if key is not None else (None, None)
                        _LAST_RESULT[job.table] = (len(job.view), key, *kept, batch_id)
                result.meta["run_id"] = run_id
                result.meta["validation_time"] = run_id.run_time
                result.meta["batch_parameters"] = {"dataframe": DATAFRAME_PLACEHOLDER}
                results.append(Validated(result, suite, batch_id))
        finally:
            _release_batches()
        return results


def _gx_suite(job: Job) -> Any:
    """The job's GX suite, built from a copy of its suite (GX writes its version into the
    meta it is given; the job's suite stays what its key was taken from)."""
    return _gx().ExpectationSuite(**copy.deepcopy(job.suite))


def _validate_in_batches(job: Job, suite: Any, result_format: dict[str, Any]) -> Any:
    """The job's suite validated by GX on narrow batches of its view (validate/batches.py),
    the results put together as one suite result; each batch's frames and metrics are let go
    before the next."""
    gx = _gx()
    expectations = job.suite["expectations"]
    parts = []
    for batch in suite_batches(expectations, job.view, job.columns):
        part = gx.ExpectationSuite(
            name=suite.name, expectations=[expectations[i] for i in batch.positions]
        )
        parts.append((batch.positions, _validate(job, batch.frame, result_format, part)))
        del batch  # its frame (a copy of the rows a condition keeps) before the next is made
    merged = merged_result(suite, expectations, parts)
    if merged is None:  # results that do not line up: GX on the whole view, as one batch
        merged = _validate(job, job.view, result_format, suite)
    return merged


def _validate(job: Job, frame: pd.DataFrame, result_format: dict[str, Any], suite: Any) -> Any:
    """GX's validator on one batch of the job's table, with the job's suite parameters (GX
    substitutes them), each expectation's configuration built once (validate/gx_speedups.py);
    the batch's frames and metrics let go after."""
    try:
        with memoized_configurations():
            return _validator(job.table, frame, result_format).validate_expectation_suite(
                suite, expectation_parameters=dict(job.suite_parameters) or None
            )
    finally:
        _release_batches()


def _validator(table: str, frame: pd.DataFrame, result_format: dict[str, Any]) -> Any:
    from great_expectations.validator.v1_validator import Validator

    return Validator(
        batch_definition=_batch_definition(table),
        batch_parameters={"dataframe": frame},
        result_format=result_format,
    )


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
