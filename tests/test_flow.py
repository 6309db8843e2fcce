"""The nightly Prefect flow, run for real on a temporary Prefect server (no mocks)."""

from __future__ import annotations

import csv
import json
import logging
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    LogFilter,
    LogFilterFlowRunId,
)
from prefect.logging.handlers import APILogHandler
from prefect.settings import PREFECT_API_URL
from prefect.states import Failed, Scheduled, State

from flows.deploy import build_deployment
from flows.nightly import (
    WARNINGS_STATE,
    ingest,
    is_transient,
    nightly_screen,
    with_warnings_state,
)
from hyposcreen.cli import main
from hyposcreen.config import RunSettings, parse_window
from hyposcreen.errors import InputError
from hyposcreen.failures import FAILED_FILE
from hyposcreen.runners.in_process import run_pipeline
from hyposcreen.status import next_scheduled_run
from hyposcreen.windows import nightly_windows

pytestmark = pytest.mark.flow

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"
START, END = "2026-11-20T00:00:00", "2026-11-21T00:00:00"
DAY = "2026-11-20"  # each window writes to <out>/<date>/


def _screen(input_dir: Path, out: Path) -> State[Any]:
    return nightly_screen(
        input=str(input_dir), out=str(out), window_start=START, window_end=END, return_state=True
    )


def _run_id(state: State[Any]) -> UUID:
    run_id = state.state_details.flow_run_id
    assert run_id is not None
    return run_id


def _identifiers() -> set[str]:
    """Every patient id, MRN and name in the sample input."""
    found: set[str] = set()
    for path in SAMPLE.glob("*.csv"):
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                found |= {row[c] for c in ("patient_id", "mrn", "name") if row.get(c)}
    return found


@dataclass
class SampleRun:
    state: State[Any]
    out: Path
    captured_logs: list[str]


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(self.format(record))


@pytest.fixture(scope="module")
def sample_run(prefect_harness: None, tmp_path_factory: pytest.TempPathFactory) -> SampleRun:
    """One flow run over the sample, with every Prefect log record down to INFO captured."""
    out = tmp_path_factory.mktemp("flow") / "out"
    prefect_logger = logging.getLogger("prefect")
    collect = _Collect()
    level = prefect_logger.level
    prefect_logger.setLevel(logging.INFO)
    prefect_logger.addHandler(collect)
    try:
        state = _screen(SAMPLE, out)
    finally:
        prefect_logger.removeHandler(collect)
        prefect_logger.setLevel(level)
    APILogHandler().flush()  # send queued logs to the server before reading them back
    return SampleRun(state=state, out=out, captured_logs=collect.messages)


@pytest.fixture
def direct_review_list(tmp_path: Path) -> Iterator[bytes]:
    settings = RunSettings(input_dir=SAMPLE, out_dir=tmp_path, window=parse_window(START, END))
    yield run_pipeline(settings).review_csv.read_bytes()


def test_flow_writes_the_same_review_list_as_the_pipeline(
    sample_run: SampleRun, direct_review_list: bytes
) -> None:
    """The flow's review_list.csv is byte for byte the one run_pipeline writes."""
    assert sample_run.state.is_completed()
    assert (sample_run.out / DAY / "review_list.csv").read_bytes() == direct_review_list
    assert not (sample_run.out / DAY / FAILED_FILE).exists()


def test_a_flow_whose_table_outgrows_its_estimate_goes_partitioned(
    prefect_harness: None,
    tmp_path: Path,
    direct_review_list: bytes,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The flow counts rows while they stream like the plain run: past the in-memory cap (here
    50 rows for the 171-row sample) it switches to partitions, never grows without bound, and
    writes the same review list."""
    from hyposcreen.runners import spill

    monkeypatch.setattr(spill, "MEMORY_ROW_CAP", 50)
    state = _screen(SAMPLE, tmp_path / "out")
    assert state.is_completed(), state.message
    manifest = json.loads((tmp_path / "out" / DAY / "run_manifest.json").read_text())
    assert manifest["partitions"] >= 2
    assert (tmp_path / "out" / DAY / "review_list.csv").read_bytes() == direct_review_list


def test_flow_run_is_named_after_the_window_start(sample_run: SampleRun) -> None:
    with get_client(sync_client=True) as client:
        assert client.read_flow_run(_run_id(sample_run.state)).name == "screen-2026-11-20"


def test_rerun_of_a_window_is_identical_and_leaves_no_pickles(
    sample_run: SampleRun, tmp_path: Path
) -> None:
    """A second run of the same night gives the same bytes; nothing under PREFECT_HOME holds a
    pickle (no read cache: it kept whole patient tables) and a run that succeeds stores no
    result (a failed run's stored error is JSON, tested with the failing flows)."""
    home = Path(os.environ["PREFECT_HOME"])
    stored_before = _stored_results(home)
    state = _screen(SAMPLE, tmp_path)
    assert state.is_completed()
    first = (sample_run.out / DAY / "review_list.csv").read_bytes()
    assert (tmp_path / DAY / "review_list.csv").read_bytes() == first
    files = [p for p in home.rglob("*") if p.is_file()]
    assert not [p for p in files if p.read_bytes()[:1] == b"\x80"]  # pickle protocol 2+
    assert _stored_results(home) == stored_before


def _stored_results(home: Path) -> set[Path]:
    """The files in Prefect's result storage (the same set whatever tests ran before)."""
    return {p for p in (home / "storage").rglob("*") if p.is_file()}


def test_summary_artifact_and_flow_log_tell_the_operator(sample_run: SampleRun) -> None:
    """Read back from the Prefect API: validation passed with its 5 warning expectations,
    counts per tier, the published Data Docs path, timings; the run's INFO lines in its log."""
    run_id = _run_id(sample_run.state)
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]))
        )
        api_logs = client.read_logs(
            log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id]))
        )
    [summary] = [a for a in artifacts if a.key == "hyposcreen-summary"]
    text = str(summary.data)
    assert "Validation: **passed** (5 warning expectation(s) failed)" in text
    assert "| 1 urgent | 5 |" in text and "| 3 routine | 17 |" in text
    assert "| validate |" in text and "| flow_total |" in text
    [table] = [a for a in artifacts if a.key == "hyposcreen-counts"]
    rows = {(r["section"], r["item"]): r["value"] for r in json.loads(str(table.data))}
    assert rows[("validation", "outcome")] == "passed"
    assert rows[("validation", "warnings")] == 5
    assert rows[("tier", "listed")] == 35
    messages = [log.message for log in api_logs]
    assert any(m.startswith("read labs 171 row(s)") for m in messages)
    assert any("35 case(s) listed (urgent 5, soon 13, routine 17)" in m for m in messages)
    manifest = json.loads((sample_run.out / DAY / "run_manifest.json").read_text())
    docs = manifest["validation"]["docs_index"]
    assert docs == str(sample_run.out / DAY / "validation" / "index.html")
    assert Path(docs).is_file()


def test_a_night_with_warnings_ends_completed_with_warnings(prefect_harness: None) -> None:
    """The flow side of "screened with warnings": a Completed state a dashboard tells apart."""

    @flow(name="warnings-state")
    def night() -> Any:
        return with_warnings_state(
            {"listed": 1}, [{"window": DAY, "warnings": ["labs: 3 rows without a unit"]}]
        )

    state = night(return_state=True)
    assert state.is_completed() and state.name == WARNINGS_STATE
    assert state.result()["warnings"] == [f"{DAY}: labs: 3 rows without a unit"]
    clean = flow(name="clean-state")(lambda: with_warnings_state({"listed": 1}, [{}]))
    assert clean(return_state=True).name == "Completed"


def test_artifacts_and_logs_carry_no_patient_identifiers(sample_run: SampleRun) -> None:
    """Counts reach the Prefect UI; patient ids, MRNs and names do not."""
    run_id = _run_id(sample_run.state)
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]))
        )
        api_logs = client.read_logs(
            log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id]))
        )
    assert {a.type for a in artifacts} == {"markdown", "table"}
    texts = [json.dumps(a.data) + (a.description or "") for a in artifacts]
    texts += [log.message for log in api_logs] + sample_run.captured_logs
    assert any("case(s) listed" in text for text in texts)  # the capture did see the run
    assert any("quarantined" in text for text in texts)
    leaked = {ident for ident in _identifiers() for text in texts if ident in text}
    assert leaked == set()


def test_bad_input_fails_the_flow_run_and_writes_failed_json(tmp_path: Path) -> None:
    """An extract without labs: the run ends Failed with the reason, and FAILED.json says why."""
    extract = tmp_path / "extract"
    extract.mkdir()
    for table in ("medications", "diagnoses", "patients"):
        shutil.copy(SAMPLE / f"{table}.csv", extract)
    state = _screen(extract, tmp_path / "out")
    with get_client(sync_client=True) as client:
        stored = client.read_flow_run(_run_id(state)).state
    assert stored is not None and stored.is_failed()
    assert "has no labs table" in (stored.message or "")
    failure = json.loads((tmp_path / "out" / DAY / FAILED_FILE).read_text(encoding="utf-8"))
    assert failure["error_type"] == "InputError"
    assert "has no labs table" in failure["message"]
    assert failure["window"] == {"start": START, "end": END, "timezone": "UTC"}
    assert datetime.fromisoformat(failure["time"]).tzinfo is not None
    text = json.dumps(failure)
    assert not {ident for ident in _identifiers() if ident in text}


def test_a_window_failing_in_its_preparation_names_its_zone_in_failed_json(tmp_path: Path) -> None:
    """The flow reads the site mapping before its windows; a window that then fails in its
    preparation (`--source omop` on a folder of canonical tables: no OMOP table, exit 3)
    wrote FAILED.json without the window's `timezone`, which the --no-flow run of the same
    night writes (the sample's default mapping: UTC)."""
    state = nightly_screen(
        input=str(SAMPLE), out=str(tmp_path / "out"), window_start=START, window_end=END,
        source="omop", return_state=True,
    )  # fmt: skip
    assert state.is_failed()
    failure = json.loads((tmp_path / "out" / DAY / FAILED_FILE).read_text(encoding="utf-8"))
    assert "does not look like an OMOP CDM" in failure["message"]
    assert failure["window"] == {"start": START, "end": END, "timezone": "UTC"}


def test_a_window_that_does_not_plan_names_the_zone_of_its_bounds(tmp_path: Path) -> None:
    """A window ending before it starts fails while the flow plans its windows, after it read
    the site mapping: FAILED.json (in the output folder: no night's folder) names the zone
    of the bounds as given (the default mapping: UTC), as a window failing later does."""
    state = nightly_screen(
        input=str(SAMPLE), out=str(tmp_path / "out"), window_start=END, window_end=START,
        return_state=True,
    )  # fmt: skip
    assert state.is_failed()
    failure = json.loads((tmp_path / "out" / FAILED_FILE).read_text(encoding="utf-8"))
    assert failure["error_type"] == "ConfigError"
    assert failure["window"] == {"start": END, "end": START, "timezone": "UTC"}


def test_cli_runs_through_the_flow(
    prefect_harness: None, tmp_path: Path, direct_review_list: bytes
) -> None:
    out = tmp_path / "cli"
    argv = ["run", "--input", str(SAMPLE), "--window-start", START, "--window-end", END]
    assert main([*argv, "--out", str(out)]) == 0
    assert (out / DAY / "review_list.csv").read_bytes() == direct_review_list


def test_cli_failure_exits_non_zero_with_one_paragraph(
    prefect_harness: None, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    argv = ["run", "--input", str(tmp_path), "--window-start", START, "--window-end", END]
    assert main([*argv, "--out", str(tmp_path / "out")]) == InputError.exit_code
    err = capfd.readouterr().err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("hyposcreen: error: Input folder")
    assert (tmp_path / "out" / DAY / FAILED_FILE).is_file()


def test_status_names_the_next_scheduled_run_on_the_server(
    prefect_harness: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`hyposcreen status` asks the configured server (REST, no Prefect import) for the next
    scheduled nightly-screen run."""
    when = datetime.now(UTC) + timedelta(hours=5)
    with get_client(sync_client=True) as client:
        client.create_flow_run(
            nightly_screen,
            name="screen-next-night",
            parameters={"input": str(SAMPLE), "out": "unused"},
            state=Scheduled(scheduled_time=when),
        )
    monkeypatch.setenv("PREFECT_API_URL", str(PREFECT_API_URL.value()))
    text = next_scheduled_run() or ""
    assert text.endswith("(screen-next-night)")
    assert abs(datetime.fromisoformat(text.split(" ")[0]) - when) < timedelta(seconds=1)


def test_status_tells_the_next_scheduled_run_in_the_site_time_zone(
    prefect_harness: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The schedule is 02:00 in the site's zone, but status printed the server's UTC time
    (`2026-12-08T05:00:00Z` for a São Paulo site), so a new site read its schedule as wrong.
    It is told in the site's zone with its offset: 05:00 UTC is 02:00-03:00 there (an hour
    from now: the earliest run scheduled on the module's server)."""
    when = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    with get_client(sync_client=True) as client:
        client.create_flow_run(
            nightly_screen,
            name="screen-zone-night",
            parameters={"input": str(SAMPLE), "out": "unused"},
            state=Scheduled(scheduled_time=when),
        )
    monkeypatch.setenv("PREFECT_API_URL", str(PREFECT_API_URL.value()))
    text = next_scheduled_run("America/Sao_Paulo") or ""
    local = when - timedelta(hours=3)  # São Paulo keeps -03:00 all year since 2019
    assert text == f"{local.replace(tzinfo=None).isoformat()}-03:00 (screen-zone-night)"


def test_deployment_runs_at_two_in_the_site_time_zone(tmp_path: Path) -> None:
    """The served deployment: 02:00 cron in the mapping's time zone, paths as parameters."""
    mapping = tmp_path / "site.yaml"
    mapping.write_text("site: test\ntimezone: Europe/Berlin\n", encoding="utf-8")
    deployment = build_deployment(input=str(SAMPLE), out="/srv/screen/{date}", mapping=str(mapping))
    assert deployment.name == "nightly"
    assert deployment.entrypoint == "flows/nightly.py:nightly_screen"
    [schedule] = deployment.schedules or []
    assert schedule.active
    assert (schedule.schedule.cron, schedule.schedule.timezone) == ("0 2 * * *", "Europe/Berlin")
    assert deployment.parameters == {
        "input": str(SAMPLE),
        "out": "/srv/screen/{date}",
        "source": "canonical",
        "mapping": str(mapping),
    }


def test_deployment_served_by_make_serve_keeps_nightly_state(tmp_path: Path) -> None:
    deployment = build_deployment(
        input=str(SAMPLE), out=str(tmp_path), state_dir="state", partitions=4, executor="dask"
    )
    assert deployment.parameters["state_dir"] == str(Path("state").absolute())
    assert (deployment.parameters["partitions"], deployment.parameters["executor"]) == (4, "dask")


@pytest.mark.parametrize(
    ("now", "timezone", "expected"),
    [
        ("2026-11-21T01:30:00+00:00", "Europe/Berlin", ("2026-11-20", "2026-11-21")),
        ("2026-11-21T03:00:00+00:00", "America/New_York", ("2026-11-19", "2026-11-20")),
        ("2026-11-21T00:00:00+00:00", "UTC", ("2026-11-20", "2026-11-21")),
    ],
)
def test_default_window_is_the_previous_day_in_the_site_time_zone(
    now: str, timezone: str, expected: tuple[str, str]
) -> None:
    [window] = nightly_windows(None, timezone, datetime.fromisoformat(now).astimezone(UTC))
    assert (window.start.isoformat(), window.end.isoformat()) == tuple(
        f"{day}T00:00:00" for day in expected
    )


def test_only_io_errors_are_retried() -> None:
    try:
        try:
            raise OSError("share went away")
        except OSError as cause:
            raise InputError("labs.csv cannot be read") from cause
    except InputError as wrapped:
        io_error = wrapped
    assert is_transient(ingest, None, Failed(data=OSError("timeout")))  # type: ignore[arg-type]
    assert is_transient(ingest, None, Failed(data=io_error))  # type: ignore[arg-type]
    assert not is_transient(ingest, None, Failed(data=InputError("no labs table")))  # type: ignore[arg-type]
