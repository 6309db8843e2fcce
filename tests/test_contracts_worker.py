"""The contracts worker (validate/worker.py, worker_client.py): a run that has one validates in
it with real Great Expectations and publishes what a run without one publishes; a worker that
dies falls back to this process; a critical contract failure stops the run with exit 3 and the
same message either way."""

from __future__ import annotations

import filecmp
import json
import os
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bad_input_rows import (
    DX_COLUMNS,
    LAB_COLUMNS,
    MED_COLUMNS,
    dx,
    glucose,
    lab,
    med,
    to_csv,
    write,
)
from hyposcreen.cli import main
from hyposcreen.runners import in_process
from hyposcreen.validate import warm_up, worker_client
from sample_delivery import DAY, SAMPLE

NIGHT = ["--window-start", f"{DAY}T00:00", "--window-end", "2026-11-21T00:00"]


@pytest.fixture(autouse=True)
def _no_worker_left() -> Iterator[None]:
    yield
    worker_client.stop()
    worker_client.allow("off")


def _run(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    input_dir: Path,
    out: Path,
    warm_up: str,
    *window: str,
) -> tuple[int, str]:
    worker_client.stop()
    worker_client.allow("off")
    monkeypatch.setenv("HYPOSCREEN_GX_WARM_UP", warm_up)
    status = main(["run", "--no-flow", "--input", str(input_dir), "--out", str(out), *window])
    return status, capsys.readouterr().err


def _manifest(folder: Path) -> dict:
    return json.loads((folder / "run_manifest.json").read_text())


def _same_outputs(one: Path, other: Path) -> None:
    """Every output but the Data Docs and the manifest byte for byte; the manifests' counts,
    warnings and validation outcomes (times and paths set aside) equal."""
    names = sorted(p.name for p in one.iterdir() if p.is_file() and p.name != "run_manifest.json")
    assert names == sorted(
        p.name for p in other.iterdir() if p.is_file() and p.name != "run_manifest.json"
    )
    _, mismatch, errors = filecmp.cmpfiles(one, other, names, shallow=False)
    assert (mismatch, errors) == ([], [])
    first, second = _manifest(one), _manifest(other)
    for key in ("reconciliation", "attrition", "warnings", "counts_per_tier", "run_id"):
        assert first[key] == second[key], key
    assert _without_times(first["validation"]) == _without_times(second["validation"])


def _without_times(value: object) -> object:
    if isinstance(value, dict):
        dropped = ("seconds", "docs_index")
        return {k: _without_times(v) for k, v in value.items() if k not in dropped}
    return value


def test_a_run_with_the_worker_publishes_what_a_run_without_it_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    here, beside = tmp_path / "here", tmp_path / "beside"
    assert _run(monkeypatch, capsys, SAMPLE, here, "0", *NIGHT)[0] in (0, 4)
    assert _run(monkeypatch, capsys, SAMPLE, beside, "1", *NIGHT)[0] in (0, 4)
    worker = worker_client.current()
    assert worker is not None and worker.answered == 2  # the contracts and the review list
    _same_outputs(here / DAY, beside / DAY)
    assert (beside / DAY / "validation" / "index.html").is_file()


def test_a_killed_worker_leaves_the_run_to_this_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    here, beside = tmp_path / "here", tmp_path / "beside"
    assert _run(monkeypatch, capsys, SAMPLE, here, "0", *NIGHT)[0] in (0, 4)
    asked = worker_client.ContractsWorker.ask

    def ask_then_die(self: worker_client.ContractsWorker, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        asked(self, *args, **kwargs)
        os.kill(self.process.pid, signal.SIGKILL)  # dies before it answers

    monkeypatch.setattr(worker_client.ContractsWorker, "ask", ask_then_die)
    assert _run(monkeypatch, capsys, SAMPLE, beside, "1", *NIGHT)[0] in (0, 4)
    _same_outputs(here / DAY, beside / DAY)
    assert worker_client.current() is None  # closed for the rest of the run


class _Waited(BaseException):
    """The run still waited for its stopped worker (no OSError, which reads as its failure)."""


def test_a_stopped_worker_is_killed_and_the_run_validates_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A worker that works no more (stopped here; hung alike) without answering is killed once
    it used no CPU for STALL_S: the run does not wait for it forever."""
    here, beside = tmp_path / "here", tmp_path / "beside"
    assert _run(monkeypatch, capsys, SAMPLE, here, "0", *NIGHT)[0] in (0, 4)
    asked = worker_client.ContractsWorker.ask
    stopped: list[subprocess.Popen[bytes]] = []

    def ask_then_stop(self: worker_client.ContractsWorker, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        asked(self, *args, **kwargs)
        os.kill(self.process.pid, signal.SIGSTOP)  # answers nothing, uses no CPU
        stopped.append(self.process)

    def hung(signum: int, frame: object) -> None:
        raise _Waited("the run waited for a stopped worker")

    monkeypatch.setattr(worker_client.ContractsWorker, "ask", ask_then_stop)
    monkeypatch.setattr(worker_client, "STALL_S", 1.0, raising=False)
    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(60)
    try:
        assert _run(monkeypatch, capsys, SAMPLE, beside, "1", *NIGHT)[0] in (0, 4)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        for process in stopped:
            if process.poll() is None:
                os.kill(process.pid, signal.SIGKILL)
    _same_outputs(here / DAY, beside / DAY)
    assert stopped and stopped[0].poll() is not None  # killed, not left stopped
    assert worker_client.current() is None


def test_an_interrupt_while_the_worker_validates_is_not_held_by_the_contracts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ctrl-C reaches the worker too (one process group): the run, interrupted while it
    screens, ends at once (130), without validating in its own process after all (GX's import
    and the contracts, seconds after the user asked it to stop)."""
    from hyposcreen import recipe, recipe_contracts

    def interrupted(ctx, cleaned):  # type: ignore[no-untyped-def]
        worker = worker_client.current()
        assert worker is not None
        os.kill(worker.process.pid, signal.SIGINT)  # the terminal's Ctrl-C reaches both
        worker.process.wait(timeout=60)
        raise KeyboardInterrupt

    validated_here: list[str] = []
    monkeypatch.setattr(recipe, "_screen", interrupted)
    monkeypatch.setattr(
        recipe_contracts, "run_contracts", lambda ctx, frames: validated_here.append("run")
    )
    status, err = _run(monkeypatch, capsys, SAMPLE, tmp_path / "out", "1", *NIGHT)
    assert status == 130 and "interrupted" in err
    assert validated_here == []


def test_a_stopped_worker_does_not_hold_the_run_while_it_sends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Frames larger than the pipe, sent to a worker that reads no more: the write is not
    left blocked for ever; the worker is killed and the request fails (validated here)."""
    import pandas as pd

    monkeypatch.setattr(worker_client, "STALL_S", 1.0, raising=False)
    worker = worker_client.ContractsWorker("on")
    try:
        assert worker.accepted()
        os.kill(worker.process.pid, signal.SIGSTOP)
        frame = pd.DataFrame({"text": ["x" * 1000] * 8000})  # ~8 MB: beyond the pipe's 1 MiB

        def hung(signum: int, frame: object) -> None:
            raise _Waited("the run waited for a stopped worker")

        previous = signal.signal(signal.SIGALRM, hung)
        signal.alarm(60)
        try:
            with pytest.raises(worker_client.WorkerFailed):
                worker.ask({"kind": "review_list", "vocabulary": []}, {"review": frame})
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, previous)
        assert worker.process.poll() is not None
    finally:
        if worker.process.poll() is None:
            os.kill(worker.process.pid, signal.SIGKILL)
            worker.process.wait()


def _broken_delivery(folder: Path) -> Path:
    """Forty copies of one sodium result: a duplicate share that means a broken delivery."""
    folder.mkdir(parents=True)
    write(folder, "labs.csv", to_csv([lab() for _ in range(40)] + [glucose()], LAB_COLUMNS))
    write(folder, "medications.csv", to_csv([med()], MED_COLUMNS))
    write(folder, "diagnoses.csv", to_csv([dx()], DX_COLUMNS))
    return folder


def test_a_critical_contract_failure_stops_the_run_alike_with_the_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    extract = _broken_delivery(tmp_path / "in")
    day = ["--window-start", DAY]
    here = _run(monkeypatch, capsys, extract, tmp_path / "here", "0", *day)
    beside = _run(monkeypatch, capsys, extract, tmp_path / "beside", "1", *day)
    assert here[0] == beside[0] == 3
    assert "critical data check" in here[1]
    assert here[1].replace(str(tmp_path / "here"), "OUT") == beside[1].replace(
        str(tmp_path / "beside"), "OUT"
    )
    assert not (tmp_path / "beside" / DAY / "review_list.csv").exists()


def test_a_night_writes_its_files_while_the_worker_checks_its_review_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The review list is sent to the worker before the night's files are written and its
    answer taken once they are (in the staging folder, published only after it): the run
    writes while the worker checks, instead of waiting for it."""
    out = tmp_path / "out"
    answered = worker_client.ContractsWorker.answer
    staged: list[set[str]] = []  # the staging folder's files as each answer was taken

    def noted_answer(self, number=None):  # type: ignore[no-untyped-def]
        header = answered(self, number)
        staged.append({p.name for p in out.glob(f".{DAY}.partial-*/*") if p.is_file()})
        return header

    monkeypatch.setattr(worker_client.ContractsWorker, "answer", noted_answer)
    assert _run(monkeypatch, capsys, SAMPLE, out, "1", *NIGHT)[0] in (0, 4)
    assert len(staged) == 2  # the contracts, then the review list
    assert staged[0] == set()
    views = {"review_list.csv", "review_list.parquet", "review_list.html", "review_list.xlsx"}
    assert views | {"evidence.csv", "quarantine.csv", "coverage.csv"} <= staged[1]
    assert "run_manifest.json" not in staged[1]  # it holds the list's contract outcome


def test_a_review_list_that_breaks_its_contract_is_not_published_alike_with_the_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A review list that breaks its own contract (ranks out of order, as a bug would make
    them) stops the run with the same message with and without the worker, and nothing is
    published: the files written while the worker checked it go with the staging folder."""
    from hyposcreen import recipe_publish

    built = recipe_publish.build_review_list

    def broken_ranks(*args, **kwargs):  # type: ignore[no-untyped-def]
        review = built(*args, **kwargs)
        review["rank"] = review["rank"] + len(review)  # outside 1..n
        return review

    monkeypatch.setattr(recipe_publish, "build_review_list", broken_ranks)
    here = _run(monkeypatch, capsys, SAMPLE, tmp_path / "here", "0", *NIGHT)
    beside = _run(monkeypatch, capsys, SAMPLE, tmp_path / "beside", "1", *NIGHT)
    assert here[0] == beside[0] == 70  # a bug of ours, as any other (EX_SOFTWARE)
    assert "broke its own contract" in beside[1]
    assert here[1].replace(str(tmp_path / "here"), "OUT") == beside[1].replace(
        str(tmp_path / "beside"), "OUT"
    )
    for out in (tmp_path / "here", tmp_path / "beside"):
        assert [p.name for p in (out / DAY).iterdir()] == ["FAILED.json"]
        assert not list(out.glob(f".{DAY}.partial-*"))


def test_rows_the_contracts_quarantine_are_screened_without(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A furosemide whose end time does not read is kept by cleaning and quarantined by its
    contract: the worker's run, which screened meanwhile (with it: a loop diuretic), screens
    again without it, as the run without a worker screens after it."""
    extract = tmp_path / "in"
    extract.mkdir()
    write(extract, "labs.csv", to_csv([lab(), glucose()], LAB_COLUMNS))
    write(extract, "medications.csv", to_csv([med(end="soon")], MED_COLUMNS))
    write(extract, "diagnoses.csv", to_csv([dx()], DX_COLUMNS))
    day = ["--window-start", DAY]
    assert _run(monkeypatch, capsys, extract, tmp_path / "here", "0", *day)[0] in (0, 4)
    assert _run(monkeypatch, capsys, extract, tmp_path / "beside", "1", *day)[0] in (0, 4)
    _same_outputs(tmp_path / "here" / DAY, tmp_path / "beside" / DAY)
    quarantined = _manifest(tmp_path / "beside" / DAY)["validation"]["rows_quarantined_by_contract"]
    assert quarantined["medications"] == 1
    assert "loop_diuretic" not in (tmp_path / "beside" / DAY / "review_list.csv").read_text()


def _hello(mode: str, one_cpu: bool, *package: str) -> dict:
    """What `python -m hyposcreen.validate.worker <mode>` says first (then its stdin ends)."""
    first = (
        (lambda: os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:1])) if one_cpu else None
    )
    done = subprocess.run(
        [sys.executable, "-m", "hyposcreen.validate.worker", mode, *package],
        input=b"",
        capture_output=True,
        check=False,
        timeout=120,
        preexec_fn=first,
    )
    assert done.returncode == 0, done.stderr
    (length,) = struct.unpack("<Q", done.stdout[:8])
    return json.loads(done.stdout[8 : 8 + length])


def test_the_worker_declines_on_one_cpu_unless_asked_for() -> None:
    assert _hello("auto", one_cpu=True)["accepted"] is False
    assert _hello("on", one_cpu=True)["accepted"] is True


def test_the_worker_declines_when_it_imported_another_copy_of_hyposcreen() -> None:
    """A child whose sys.path differs from the run's (python -I or -E, a PYTHONPATH the run
    did not read) could run another version's contracts: it declines, the run validates."""
    here = str(Path(worker_client.__file__).resolve().parents[1])
    assert _hello("on", False, here)["accepted"] is True
    assert _hello("on", False, "/elsewhere/src/hyposcreen")["accepted"] is False


def test_a_backfill_reads_the_next_two_nights_ahead_and_publishes_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """With the worker, while it checks a night's review list the next two nights are read,
    cleaned and their contracts sent (those not read ahead yet: runners/window_loop.ReadAhead),
    so the worker has the next night's contracts queued behind each review list; the nights'
    outputs are those of a backfill without the worker."""
    nights = ["--backfill", "2026-11-17", DAY]
    days = ["2026-11-17", "2026-11-18", "2026-11-19", DAY]
    here, beside = tmp_path / "here", tmp_path / "beside"
    assert _run(monkeypatch, capsys, SAMPLE, here, "0", *nights)[0] in (0, 4)
    requests: list[str] = []
    sent = worker_client.send

    def noted_send(stream, header, frames) -> None:  # type: ignore[no-untyped-def]
        night = next((d for d in days if d in header.get("docs_dir", "")), "")
        requests.append(f"{header['kind']} {night}".strip())
        sent(stream, header, frames)

    monkeypatch.setattr(worker_client, "send", noted_send)
    stages = in_process.run_stages

    def slow_stages(*args, **kwargs):  # type: ignore[no-untyped-def]
        time.sleep(0.3)  # a read ahead long enough to show in the night's write step
        return stages(*args, **kwargs)

    monkeypatch.setattr(in_process, "run_stages", slow_stages)
    assert _run(monkeypatch, capsys, SAMPLE, beside, "1", *nights)[0] in (0, 4)
    assert requests == [
        *("contracts 2026-11-17", "review_list"),
        *("contracts 2026-11-18", "contracts 2026-11-19", "review_list"),
        *("contracts 2026-11-20", "review_list"),
        "review_list",  # the last night's review list: nothing ahead
    ]
    for night in days[:-1]:  # the next nights' time is not this night's
        timings = json.loads((beside / night / "run_manifest.json").read_text())["timings"]
        assert all(seconds >= 0 for seconds in timings.values()), timings
    worker = worker_client.current()
    assert worker is not None and worker.answered == 8  # four nights' contracts and lists
    for night in days:
        _same_outputs(here / night, beside / night)
    assert sorted(p.name for p in beside.iterdir()) == days


def test_requests_sent_before_any_answer_are_each_answered_in_turn() -> None:
    """The worker takes a request while an earlier one is unanswered (a loop sends the next
    nights' contracts while a review list is checked); each answer goes to its own request,
    whichever is asked for first."""
    from gx_tables import VOCABULARY, make_review
    from hyposcreen.validate.outcomes import ValidationReport

    worker = worker_client.ContractsWorker("on")
    try:
        assert worker.accepted()
        good, bad = make_review(3), make_review(3)
        bad["rank"] = [1, 2, 5]
        told = {"kind": "review_list", "vocabulary": list(VOCABULARY)}
        first = worker.ask(told, {"review": bad})
        second = worker.ask(told, {"review": good})
        assert ValidationReport.from_message(worker.answer(second)).critical_failures() == []
        broken = ValidationReport.from_message(worker.answer(first)).critical_failures()
        assert [o.detail for o in broken if o.reason == "rank"] == ["rank outside 1..3"]
        assert worker.answered == 2
    finally:
        worker.close()


def test_auto_starts_the_worker_when_a_core_stayed_free_until_the_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`auto` judges the time from the run's start to its read (one thread then), before the
    read's own threads fill the machine; too short a time goes by the load average."""
    stat = tmp_path / "stat"
    stat.write_text("cpu  100 0 100 800 0 0 0 0\ncpu0 1\ncpu1 1\n")  # idle 800 of 1000 ticks
    monkeypatch.setattr(warm_up, "_PROC_STAT", stat)
    monkeypatch.setattr(warm_up, "usable_cpus", lambda: 2)
    monkeypatch.setattr(warm_up, "_load_average", lambda: 3.0)
    assert warm_up.core_free_since((300, 400, 2))  # 500 of 600 ticks idle: 1.7 CPUs
    assert not warm_up.core_free_since((790, 400, 2))  # 10 of 600: both cores taken
    assert not warm_up.core_free_since((795, 995, 2))  # 5 ticks: the load (3.0) decides
    monkeypatch.setattr(warm_up, "_load_average", lambda: 0.4)
    assert warm_up.core_free_since(None)


def test_auto_starts_no_worker_for_a_small_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The sample's few rows are validated before a worker could have started."""
    monkeypatch.setattr(warm_up, "core_free_since", lambda since: True)  # a free core, given
    assert _run(monkeypatch, capsys, SAMPLE, tmp_path / "out", "auto", *NIGHT)[0] in (0, 4)
    assert worker_client._WORKER == []


def test_a_backfill_sends_the_reads_labs_once_and_each_nights_rows_of_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The nights of one read send the worker the read's cleaned labs (projected) once and
    then name each night's rows of them (worker_pipe.RowsOf), rather than each night's labs;
    the worker cuts the same rows, so the nights publish what a backfill without the worker
    does."""
    nights = ["--backfill", "2026-11-18", DAY]
    here, beside = tmp_path / "here", tmp_path / "beside"
    assert _run(monkeypatch, capsys, SAMPLE, here, "0", *nights)[0] in (0, 4)
    requests: list[tuple[dict, dict[str, int]]] = []
    sent = worker_client.send

    def noted_send(stream, header, frames) -> None:  # type: ignore[no-untyped-def]
        requests.append((dict(header), {name: len(frame) for name, frame in frames.items()}))
        sent(stream, header, frames)

    monkeypatch.setattr(worker_client, "send", noted_send)
    assert _run(monkeypatch, capsys, SAMPLE, beside, "1", *nights)[0] in (0, 4)
    contracts = [(h, f) for h, f in requests if h["kind"] == "contracts"]
    assert len(contracts) == 3
    assert [("labs of the read" in f) for _, f in contracts] == [True, False, False]
    assert all("labs" not in f and h["cuts"]["labs"][0] == "labs of the read" for h, f in contracts)
    assert all("medications" in h["same"] for h, _ in contracts[1:])
    worker = worker_client.current()
    assert worker is not None and worker.answered == 6
    for night in ("2026-11-18", "2026-11-19", DAY):
        _same_outputs(here / night, beside / night)


def test_one_thread_watches_the_worker_through_every_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The run's writes to its worker and waits for its answers are watched (a stuck worker
    is killed) by one thread for the worker's life, not by a thread started per request: the
    same watch thread is alive during each wait, and it ends with the worker."""
    import threading

    import pandas as pd

    watching: list[set[threading.Thread]] = []
    received = worker_client.receive

    def receive_watched(stream):  # type: ignore[no-untyped-def]
        watching.append({t for t in threading.enumerate() if t.name == "contracts-worker-watch"})
        return received(stream)

    monkeypatch.setattr(worker_client, "receive", receive_watched)
    worker = worker_client.ContractsWorker("on")
    try:
        assert worker.accepted()
        frame = pd.DataFrame({"text": ["x"]})
        watching.clear()  # the worker's hello is read before any request
        for _ in range(3):
            number = worker.ask({"kind": "review_list", "vocabulary": []}, {"review": frame})
            worker.answer(number)
    finally:
        worker.close()
    assert len(watching) == 3 and all(len(seen) == 1 for seen in watching)
    assert watching[0] == watching[1] == watching[2]
    (thread,) = watching[0]
    thread.join(timeout=5)
    assert not thread.is_alive()
