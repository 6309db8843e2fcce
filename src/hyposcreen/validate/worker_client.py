"""The run's side of its contracts worker: a second process that imports Great Expectations
and runs the contracts on the other core (validate/worker.py), so that neither the import nor
GX's own work holds this process's interpreter while it reads, cleans and screens.

`allow(mode)` (validate/warm_up.py, for a run without the flow) lets the run have one; the
in-memory run's read (recipe.read, runners/window_loop.py) `start()`s it, once per process,
beside the read. With mode ``auto`` the worker first watches the machine as the background
import did and declines when no second core is free. `current()` is the worker when it is
up and has accepted, else None: the caller then validates in this process, as without one.
Any failure of the worker (it died, was killed, answered nothing that reads, or raised)
closes it for the rest of the run and the caller validates in this process instead, so a
worker never loses a run nor changes its outputs.

Requests are answered in the order they were sent; several may be sent before the first is
answered (a loop sends a later window's contracts while an earlier one's review list is
checked), each answer taken by the number `ask` gave its request.

A request names the tables it sends; a table whose frame holds the very arrays sent the
window before (validate/remembered.frame_identity: the medications, diagnoses and patients
of the windows of one read) is not sent again: the worker keeps the last frame of each table
while the run loops over windows.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import os
import select
import subprocess
import sys
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from hyposcreen.validate.worker import package_dir
from hyposcreen.validate.worker_pipe import PipeClosed, RowsOf, frames_and_cuts, receive, send
from hyposcreen.validate.worker_watch import StallWatch

MODES = ("on", "auto")
HELLO_TIMEOUT_S = 10.0  # its first word comes ~0.5 s after it starts (before GX is imported)
STALL_S = 60.0  # a worker that used no CPU this long without answering is stuck (stopped, hung)
_F_SETPIPE_SZ = 1031  # Linux: a pipe of 1 MiB passes a window's frames in fewer switches
_PIPE_BYTES = 1 << 20

_ALLOWED: list[str] = []  # the mode the run allowed a worker in, if any
_SINCE: list[Any] = []  # the machine's CPU times when it was allowed (warm_up.cpu_times)
_WORKER: list[ContractsWorker] = []  # this process's worker, once started
# what to do while the worker checks the next review list
_WHILE_REVIEW: list[Callable[[], None]] = []


class WorkerFailed(RuntimeError):
    """The worker could not answer; the caller validates in this process instead."""


def allow(mode: str, since: Any = None) -> None:
    """Let this process start a contracts worker (mode "on" or "auto"; anything else: never);
    `since`: the CPU times then, which ``auto`` judges the machine from (warm_up)."""
    _ALLOWED[:] = [mode] if mode in MODES else []
    _SINCE[:] = [since]


def start(worth_it: Callable[[], bool] | None = None) -> None:
    """Start the worker, once per process, when the run allowed one; with ``auto`` only when
    `worth_it()` (the input is large enough) and a second core stayed free since then
    (warm_up.core_free_since)."""
    if not _ALLOWED or _WORKER:
        return
    if _ALLOWED[0] == "auto":
        from hyposcreen.validate.warm_up import core_free_since

        if worth_it is not None and not worth_it():
            return
        if not core_free_since(_SINCE[0] if _SINCE else None):
            _ALLOWED.clear()  # a busy machine: this process validates
            return
    try:
        _WORKER.append(ContractsWorker("on"))
    except OSError:  # no process could be started: this process validates
        _ALLOWED.clear()


def current() -> ContractsWorker | None:
    """The worker, when one was started and it accepted; else None."""
    worker = _WORKER[0] if _WORKER else None
    return worker if worker is not None and worker.accepted() else None


def around_review(meanwhile: Callable[[], None] | None) -> None:
    """Do `meanwhile` once, right after the next review list's contract was sent to the worker
    (while it checks it: a loop reads the next windows ahead and sends their contracts then,
    runners/window_loop.ReadAhead); None: nothing. Not done when the review list was not
    sent."""
    _WHILE_REVIEW[:] = [meanwhile] if meanwhile is not None else []


def review_asked() -> None:
    while _WHILE_REVIEW:
        _WHILE_REVIEW.pop()()


def stop() -> None:
    """Close the worker, and start none again in this process: a run that turned out too
    large for memory validates its partitions here (the end of the process closes it too)."""
    _ALLOWED.clear()
    while _WORKER:
        _WORKER.pop().close()


class ContractsWorker:
    """One worker process and what was sent to it; requests are answered in order (each
    request's number is its place in that order)."""

    def __init__(self, mode: str) -> None:
        debug = bool(os.environ.get("HYPOSCREEN_DEBUG"))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hyposcreen.validate.worker", mode, package_dir()],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None if debug else subprocess.DEVNULL,
            close_fds=True,
        )
        assert self.process.stdin is not None
        with contextlib.suppress(OSError):
            fcntl.fcntl(self.process.stdin.fileno(), _F_SETPIPE_SZ, _PIPE_BYTES)
        self.hello: bool | None = None  # None: not heard yet; then whether it accepted
        self.unwanted = False  # declined or silent: whatever it does is not waited for
        self.asked = 0  # requests sent (the next request's number)
        self.heard = 0  # answers read from its pipe (the next answer's request number)
        self.early: dict[int, dict[str, Any]] = {}  # answers read before they were asked for
        self.answered = 0  # requests answered (validated there)
        self.sent: dict[str, tuple[Any, list[Any]]] = {}  # table -> (identity, arrays held)
        # a worker stuck while the run writes to it or waits for it is killed
        self.watch = StallWatch(self.process, lambda: STALL_S)
        atexit.register(self.close, wait=False)  # it ends on its own once its stdin does

    def accepted(self) -> bool:
        """Whether the worker took the work (read once: it says so right after it starts)."""
        if self.hello is None:
            try:
                ready, _, _ = select.select([self._replies()], [], [], HELLO_TIMEOUT_S)
                if not ready:  # a worker that cannot even start in time: validate here
                    raise PipeClosed("no word from the worker")
                header, _ = receive(self._replies())
                self.hello = bool(header.get("accepted"))
            except (PipeClosed, OSError, ValueError):
                self.hello = False
            if not self.hello:
                self.unwanted = True  # whatever it is doing, nothing more is wanted from it
                self.close()
        return bool(self.hello) and self.process.poll() is None

    def ask(
        self,
        header: Mapping[str, Any],
        tables: Mapping[str, pd.DataFrame | RowsOf],
        remember: bool = False,
    ) -> int:
        """Send one request; its number, which `answer` takes. With `remember`, a frame
        holding the arrays of the last one sent for its table is named in `same` and not sent
        again; a table given as `RowsOf` a frame is cut there from that frame (sent once, as
        the table `RowsOf.name`)."""
        from hyposcreen.validate.remembered import frame_identity

        if self.unwanted:
            raise WorkerFailed("the contracts worker was closed")
        frames, cuts = frames_and_cuts(tables, remember)
        given: dict[str, pd.DataFrame] = {}
        same: list[str] = []
        sent: dict[str, tuple[Any, list[Any]]] = {}
        for name, frame in frames.items():
            holders: list[Any] = []
            identity = frame_identity(frame, holders) if remember else None
            if identity is not None and name in self.sent and self.sent[name][0] == identity:
                same.append(name)
                sent[name] = self.sent[name]
                continue
            given[name] = frame
            if identity is not None:
                sent[name] = (identity, holders)
        told = {**header, "same": same, "remember": remember, "order": list(tables)}
        if cuts:
            told["cuts"] = cuts
        told["dtypes"] = {name: _dtypes(frame) for name, frame in given.items()}
        try:
            assert self.process.stdin is not None
            number = self.asked
            self.asked += 1
            with self.watch.watching():  # a stuck worker's full pipe would block this write
                send(self.process.stdin, told, given)
        except (OSError, ValueError, TypeError) as broken:  # a dead worker, or a frame Arrow
            self.fail()  # cannot hold: this process validates
            raise WorkerFailed(str(broken)) from broken
        if not remember:  # the worker forgets its frames when a request does not remember
            self.sent = {}
        for name in frames:  # the worker keeps the last frame of each table it was sent
            if name in sent:
                self.sent[name] = sent[name]
            else:
                self.sent.pop(name, None)
        return number

    def answer(self, number: int | None = None) -> dict[str, Any]:
        """The answer to request `number` (None: the last one sent), the answers to the
        requests before it kept for their callers; WorkerFailed when there is none (also
        when the worker used no CPU for `STALL_S` without answering: stopped or hung, it is
        killed)."""
        number = self.asked - 1 if number is None else number
        header = self.early.pop(number, None)
        if header is None and not self.heard <= number < self.asked:
            raise WorkerFailed(f"no answer is coming for request {number}")
        while header is None:
            try:
                with self.watch.watching():
                    heard, _ = receive(self._replies())
            except (PipeClosed, OSError, ValueError) as broken:
                self.fail()
                raise WorkerFailed("the contracts worker stopped") from broken
            self.heard += 1
            if self.heard - 1 == number:
                header = heard
            else:
                self.early[self.heard - 1] = heard
        if not header.get("ok"):
            self.fail()
            raise WorkerFailed(str(header.get("error", "the worker failed")))
        self.answered += 1
        return header

    def fail(self) -> None:
        """Close the worker for the rest of the run."""
        self.hello = False
        self.close()

    def close(self, wait: bool = True) -> None:
        process = self.process
        if process.poll() is None and (self.unwanted or self.heard < self.asked):
            process.kill()  # an unanswered request: nothing it still writes is wanted
        for stream in (process.stdin, process.stdout):
            with contextlib.suppress(OSError):
                if stream is not None:
                    stream.close()
        self.sent = {}
        self.unwanted = True
        self.watch.close()
        if not wait:
            return
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def _replies(self) -> Any:
        assert self.process.stdout is not None
        return self.process.stdout


def _dtypes(frame: pd.DataFrame) -> list[str]:
    """What the worker checks its copy against: every column's dtype and the index's."""
    return [*(str(d) for d in frame.dtypes), type(frame.index).__name__, str(frame.index.dtype)]
