"""The Great Expectations context: one ephemeral in-memory context per process (built lazily,
so importing this module does not import GX), progress bars off, no analytics; a fresh context
with a Data Docs site when docs are asked for. Runs prepared jobs and returns GX's results."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from hyposcreen.validate.outcomes import MAX_EXAMPLES, ROW_ID
from hyposcreen.validate.suites import Job

DOCS_SITE = "hyposcreen_run"


_RESULT_FORMAT: dict[str, Any] = {
    "result_format": "COMPLETE",
    "unexpected_index_column_names": [ROW_ID],
    "exclude_unexpected_values": True,  # values per row cost ~70 µs each; we only need the ids
    "return_unexpected_index_query": False,
    "partial_unexpected_count": MAX_EXAMPLES,
}


_LOCK = threading.Lock()


_CONTEXT: Any = None


_BATCH_DEFINITIONS: dict[str, Any] = {}


def _gx() -> Any:
    import great_expectations as gx  # imported on first use: it costs ~3 s

    return gx


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


def _batch_definition(context: Any, table: str, cache: dict[str, Any]) -> Any:
    """One pandas dataframe asset per table in the context's "hyposcreen" data source."""
    if table not in cache:
        if "__source__" not in cache:
            cache["__source__"] = context.data_sources.add_pandas("hyposcreen")
        asset = cache["__source__"].add_dataframe_asset(table)
        cache[table] = asset.add_batch_definition_whole_dataframe("whole")
    return cache[table]


def run_jobs(jobs: list[Job], docs_dir: Path | None) -> tuple[list[Any], Path | None]:
    """Validate every job; with docs_dir through checkpoints that also build Data Docs."""
    global _CONTEXT
    gx = _gx()
    with _LOCK:
        if docs_dir is None:
            if _CONTEXT is None:
                _CONTEXT = _new_context()
            results = []
            for job in jobs:
                batch = _batch_definition(_CONTEXT, job.table, _BATCH_DEFINITIONS).get_batch(
                    batch_parameters={"dataframe": job.view}
                )
                suite = gx.ExpectationSuite(**job.suite)
                results.append(batch.validate(suite, result_format=_RESULT_FORMAT))
            return results, None
        return _run_with_docs(jobs, Path(docs_dir))


def _run_with_docs(jobs: list[Job], docs_dir: Path) -> tuple[list[Any], Path]:
    """A fresh context per run, so the docs index shows this run only. Each table runs through
    its own checkpoint (its own frame); the Data Docs are built once for all of them at the end
    (an update action per checkpoint would rebuild the site's index once per table)."""
    gx = _gx()
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
    )

    docs_dir.mkdir(parents=True, exist_ok=True)
    context = _new_context()
    context.add_data_docs_site(
        DOCS_SITE,
        {
            "class_name": "SiteBuilder",
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(docs_dir.resolve()),
            },
        },
    )
    sources: dict[str, Any] = {}
    results = []
    documented: list[Any] = []
    for job in jobs:
        suite = context.suites.add(gx.ExpectationSuite(**job.suite))
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(
                name=job.table, data=_batch_definition(context, job.table, sources), suite=suite
            )
        )
        checkpoint = context.checkpoints.add(
            gx.Checkpoint(
                name=f"hyposcreen_{job.table}",
                validation_definitions=[definition],
                actions=[],
                result_format=_RESULT_FORMAT,
            )
        )
        run = checkpoint.run(batch_parameters={"dataframe": job.view})
        identifier, result = next(iter(run.run_results.items()))
        results.append(result)
        documented += [identifier, ExpectationSuiteIdentifier(name=result.suite_name)]
    context.build_data_docs(site_names=[DOCS_SITE], resource_identifiers=documented)
    _forget_context()
    return results, docs_dir / "index.html"


def _forget_context() -> None:
    """GX keeps the last context it built in a module global, and through it the validated
    frames (its batch data): hand that slot back so a run's frames are freed once read."""
    from great_expectations.data_context.data_context.context_factory import project_manager

    project_manager.set_project(_CONTEXT)
