"""A bug met inside a Prefect task reaches the flow run (its log, its state, FAILED.json and
the CLI's line) by its kind and task only: its text may quote values of the extract. Real
Prefect (the test harness's server); the stage is a recipe stage meeting a bug."""

from __future__ import annotations

import base64
import errno
import logging
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
from prefect.filesystems import LocalFileSystem
from prefect.logging.handlers import APILogHandler

from flows.tasks import stage_task, told_without_text
from hyposcreen.errors import ConfigError, InputError
from hyposcreen.failures import (
    InternalError,
    environment_problem,
    failure_record,
    internal_error_line,
)
from hyposcreen.recipe import Stage
from hyposcreen.state import STATE_FILE, StateStore

pytestmark = pytest.mark.flow

EXTRACT_TEXT = "Furosemide 2026-13-45 P0007"
WINDOW = ("2026-11-20T00:00:00", "2026-11-21T00:00:00")


def _clean_meeting_a_bug(ctx: Any) -> Any:
    raise ValueError(f"month must be in 1..12: {EXTRACT_TEXT}")


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(self.format(record))  # with the traceback, when the record has one


@pytest.mark.parametrize("dask_imported", [False, True], ids=["plain", "dask-imported"])
def test_a_bug_in_a_task_reaches_the_flow_run_by_its_kind_only(
    prefect_harness: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, dask_imported: bool
) -> None:
    """Prefect also writes a failed flow's exception to its result storage (whatever
    persist_result says): here a folder of the test's own, which must not hold the text.
    Importing Dask (`--executor dask`) installs tblib's pickling of exceptions, which keeps an
    exception's whole chain (its __context__ too): the bug must not be in that chain."""
    monkeypatch.delenv("HYPOSCREEN_DEBUG", raising=False)
    if dask_imported:
        import distributed  # noqa: F401  (installs tblib.pickling_support for the process)
    clean = stage_task(Stage("clean", _clean_meeting_a_bug))
    storage = LocalFileSystem(basepath=str(tmp_path / "results"))
    storage.save("bug-text-results", overwrite=True)  # result storage must be a saved block
    night = flow(name="night-meeting-a-bug", persist_result=False, result_storage=storage)(
        lambda: clean(None)
    )
    collect, prefect_logger = _Collect(), logging.getLogger("prefect")
    prefect_logger.addHandler(collect)
    try:
        state = night(return_state=True)
    finally:
        prefect_logger.removeHandler(collect)
    APILogHandler().flush()
    assert state.is_failed()
    with pytest.raises(InternalError) as raised:
        state.result()
    assert raised.value.kind == "ValueError"
    run_id = state.state_details.flow_run_id
    with get_client(sync_client=True) as client:
        stored = client.read_flow_run(run_id).state
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id])))
    texts = [log.message for log in logs] + collect.messages + [stored.message or ""]
    assert any("internal error (ValueError) in the clean task" in text for text in texts)
    stored_failures = [p.read_bytes() for p in (tmp_path / "results").rglob("*") if p.is_file()]
    texts += [base64.b64decode(b"".join(f.split())).decode("latin-1") for f in stored_failures]
    assert not [text for text in texts if "P0007" in text or "2026-13-45" in text]
    record = failure_record(raised.value, WINDOW)
    assert record["error_type"] == "ValueError" and "P0007" not in str(record)
    assert internal_error_line(raised.value).startswith("hyposcreen: internal error (ValueError).")


def test_errors_a_user_acts_on_and_debugging_keep_their_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Bad input, an I/O error (retried, or the machine's problem) and a bug under
    HYPOSCREEN_DEBUG=1 reach Prefect as raised, with their text and traceback."""

    def raising(error: Exception) -> Any:
        def run() -> None:
            raise error

        return told_without_text("read")(run)

    monkeypatch.delenv("HYPOSCREEN_DEBUG", raising=False)
    with pytest.raises(InputError, match=r"labs\.csv"):
        raising(InputError("labs.csv has no value column", file="labs.csv"))()
    with pytest.raises(OSError) as full:
        raising(OSError(errno.ENOSPC, "No space left on device"))()
    assert full.value.errno == errno.ENOSPC
    with pytest.raises(InternalError):
        raising(KeyError(EXTRACT_TEXT))()
    monkeypatch.setenv("HYPOSCREEN_DEBUG", "1")
    with pytest.raises(KeyError, match="P0007"):
        raising(KeyError(EXTRACT_TEXT))()


def test_an_error_leaves_a_task_without_the_errors_it_came_from(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An error a user acts on keeps its own text but not the chain it was raised from (a
    parse error quoting the extract), which a pickle with tblib's support (installed by
    importing Dask) would store; an OSError cause stays for the retry; debugging keeps all."""

    def chained(cause: Exception) -> Any:
        def run() -> None:
            try:
                raise cause
            except Exception as error:
                raise InputError(
                    "labs.csv: specimen_time does not read", file="labs.csv"
                ) from error

        return told_without_text("read")(run)

    monkeypatch.delenv("HYPOSCREEN_DEBUG", raising=False)
    with pytest.raises(InputError) as told:
        chained(ValueError(EXTRACT_TEXT))()
    assert told.value.__cause__ is None and told.value.__context__ is None
    with pytest.raises(InputError) as retried:
        chained(OSError(errno.EIO, "Input/output error"))()
    assert isinstance(retried.value.__cause__, OSError) and retried.value.__context__ is None
    monkeypatch.setenv("HYPOSCREEN_DEBUG", "1")
    with pytest.raises(InputError) as debugged:
        chained(ValueError(EXTRACT_TEXT))()
    assert "P0007" in str(debugged.value.__cause__)


def test_a_state_database_error_in_a_task_stays_the_machines_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A state database that cannot be used, met inside a task (the publish stage recording
    the night), keeps its SQLite cause: `environment_problem` reads it, so the run ends with
    exit 75 and "restore it from a backup", as without the flow (it was exit 2, the cause cut
    with the chain)."""
    state = tmp_path / "state"
    state.mkdir()
    (state / STATE_FILE).write_bytes(b"not a database, a damaged file " * 200)
    monkeypatch.delenv("HYPOSCREEN_DEBUG", raising=False)
    with pytest.raises(ConfigError) as told:
        told_without_text("publish")(StateStore)(state, "default")
    assert isinstance(told.value.__cause__, sqlite3.DatabaseError)
    assert told.value.__context__ is None
    problem = environment_problem(told.value)
    assert problem is not None and problem.exit_code == 75
    assert "Restore the state database from a backup" in str(problem)


def test_a_failed_runs_stored_error_is_json_without_extract_text() -> None:
    """Prefect writes a failed flow run's exception to its result storage whatever
    persist_result says; the nightly flow stores it as JSON (no pickle), and a bug told by its
    kind comes back as the same InternalError."""
    from prefect.serializers import JSONSerializer

    from flows.nightly import nightly_screen

    assert nightly_screen.result_serializer == "json"
    told = InternalError("ValueError", "clean")
    stored = JSONSerializer().dumps(told)
    assert stored[:1] == b"{" and b"P0007" not in stored
    back = JSONSerializer().loads(stored)
    assert isinstance(back, InternalError) and back.kind == "ValueError"
    assert str(back) == str(told)
