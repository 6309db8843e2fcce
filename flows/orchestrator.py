"""Starting the orchestrator for an ad-hoc run: Prefect's API, answered before the flow starts.

* With `PREFECT_API_URL` set (a `make serve` server, a site's server), the run goes there; the
  API must answer its health check.
* Without, a temporary local server is started here (Prefect's own `SubprocessASGIServer`),
  with three changes: its output goes to `$PREFECT_HOME/temporary-server.log` (never the
  terminal); it gets SIGTERM when the process that started it dies, even by `kill -9` (Linux
  parent-death signal); and a pid file lets the next run stop a server some older run left.

Either fails twice (one retry) -> `EnvironmentProblem` (exit 75) with the cause and what to do.
Flow runs that a killed `hyposcreen run` of this machine left Running are marked Crashed.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import errno
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from prefect.exceptions import PrefectHTTPStatusError
from prefect.server.api.server import SubprocessASGIServer
from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS

from flows.crashed_runs import mark_crashed_runs, run_tag
from flows.server_database import check_database
from flows.server_exits import (
    EXITS_IN_A_ROW,
    SERVER_CONSOLE_LEVEL,
    STARTUP_FAILED,
    ServerExitedAtStart,
    disk_full_message,
    server_exit_message,
)
from flows.server_wait import wait_until_answering
from hyposcreen.cli_signals import act_on_lost_stop
from hyposcreen.errors import EnvironmentProblem
from hyposcreen.report.folders import is_pid_text, process_alive

SERVER_LOG = "temporary-server.log"
PID_PREFIX = "temporary-server-"  # + <owner pid>.pid, holding the server's pid
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the server's child process, before exec: SIGTERM when its parent dies."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class OwnedServer(SubprocessASGIServer):
    """Prefect's temporary server, tied to this process and quiet on the terminal; a start
    that fails as it begins stops the wait at once (flows/server_exits.py)."""

    def start(self, timeout: int | None = None) -> None:
        """Prefect's start, waited for by the clock and off any proxy (flows/server_wait.py)."""
        if self.running:
            return
        self.exits_at_start = 0
        try:
            if self.port is None:
                self.port = self.find_available_port()
            self.running = True
            self.server_process = self._run_uvicorn_command()
            atexit.register(self.stop)
            wait_until_answering(
                lambda: self.api_url,
                lambda: self.server_process,  # type: ignore[arg-type,return-value]
                self._restart,
                float(timeout or PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value()),
            )
        except Exception:
            self.running = False
            raise
        finally:
            if isinstance(self.server_process, _ServerProcess):
                self.server_process.started = True

    def _restart(self) -> None:
        """After uvicorn's status 3, on another port (as Prefect's start does)."""
        self.port = self.find_available_port()
        self.server_process = self._run_uvicorn_command()

    def _run_uvicorn_command(self) -> subprocess.Popen[Any]:
        home = prefect_home()
        previous = getattr(self, "server_process", None)
        if previous is not None and previous.poll() == STARTUP_FAILED:
            self.exits_at_start += 1
            if self.exits_at_start >= EXITS_IN_A_ROW:
                raise ServerExitedAtStart(server_exit_message(home, SERVER_LOG))
        log = (home / SERVER_LOG).open("ab")
        original = subprocess.Popen

        def popen(*args: Any, **kwargs: Any) -> subprocess.Popen[Any]:
            kwargs.update(
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, preexec_fn=_die_with_parent
            )
            kwargs["env"] = {**kwargs.get("env", os.environ), **SERVER_CONSOLE_LEVEL}
            return _ServerProcess(*args, **kwargs)

        subprocess.Popen = popen  # type: ignore[misc,assignment]  # only Prefect's call below
        try:
            process = super()._run_uvicorn_command()
        finally:
            subprocess.Popen = original  # type: ignore[misc]
            log.close()
        try:
            (home / f"{PID_PREFIX}{os.getpid()}.pid").write_text(str(process.pid), "utf-8")
        except OSError:
            process.terminate()  # not left running unrecorded (a full disk, start_api)
            raise
        return process

    def stop(self) -> None:
        super().stop()
        (prefect_home() / f"{PID_PREFIX}{os.getpid()}.pid").unlink(missing_ok=True)


class _ServerProcess(subprocess.Popen[Any]):
    """The server's process: until its start is over, an exit other than uvicorn's status 3
    (which Prefect's start-up restarts) ends the wait for it at once, by its cause."""

    started = False

    def poll(self) -> int | None:
        status = super().poll()
        if status is not None and status != STARTUP_FAILED and not self.started:
            self.started = True  # told once; stop() polls it too
            raise ServerExitedAtStart(server_exit_message(prefect_home(), SERVER_LOG, status))
        return status


def prefect_home() -> Path:
    from prefect.settings import PREFECT_HOME

    home = Path(PREFECT_HOME.value()).expanduser()
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    return home


def stop_orphaned_servers() -> list[int]:
    """Stop temporary servers whose starting process is gone; returns their pids."""
    stopped = []
    for pid_file in prefect_home().glob(f"{PID_PREFIX}*.pid"):
        owner = pid_file.name[len(PID_PREFIX) : -len(".pid")]
        if is_pid_text(owner) and process_alive(int(owner)):
            continue
        with contextlib.suppress(ValueError, OSError):
            server = int(pid_file.read_text(encoding="utf-8").strip())
            if _is_prefect_server(server):
                os.kill(server, signal.SIGTERM)
                stopped.append(server)
        pid_file.unlink(missing_ok=True)
    return stopped


def _is_prefect_server(pid: int) -> bool:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"uvicorn" in command and b"prefect.server.api.server:create_app" in command


def start_api(attempts: int = 2) -> str:
    """The API URL this run reports to, once it answers; EnvironmentProblem after `attempts`."""
    configured = PREFECT_API_URL.value()
    if not configured:
        check_database()
    causes: list[str] = []
    for _ in range(attempts):
        act_on_lost_stop()  # a stop the last try took for its own failure: no second try
        try:
            if configured:
                _check_health(configured)
                return str(configured)
            stop_orphaned_servers()
            server = OwnedServer()
            server.start(timeout=PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value())
            return server.api_url
        except ServerExitedAtStart as error:
            with contextlib.suppress(Exception):
                OwnedServer().stop()
            raise EnvironmentProblem(str(error)) from None
        except Exception as error:
            if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
                with contextlib.suppress(Exception):
                    OwnedServer().stop()
                raise EnvironmentProblem(disk_full_message(prefect_home(), error)) from None
            causes.append(_one_line(error))
            if not configured:
                with contextlib.suppress(Exception):
                    OwnedServer().stop()
    act_on_lost_stop()
    raise EnvironmentProblem(_advice(configured, causes[-1]))


def _check_health(url: str) -> None:
    response = httpx.get(f"{url.rstrip('/')}/health", timeout=30)
    response.raise_for_status()


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text[:300] + ("..." if len(text) > 300 else "")


def _advice(configured: str | None, cause: str) -> str:
    if configured:
        return (
            f"The Prefect API at {configured} did not answer (twice): {cause}. Start that "
            "server (`make serve`, or its systemd unit), unset PREFECT_API_URL to use a "
            "temporary local one, or run with --no-flow."
        )
    timeout = PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value()
    load = f"load {os.getloadavg()[0]:.1f} on {os.cpu_count()} core(s) now"
    return (
        f"Prefect's temporary server did not start (twice, {timeout} s each): "
        f"{cause.rstrip('.')}. The machine may be overloaded ({load}) or PREFECT_HOME "
        f"({prefect_home()}) not writable (its {SERVER_LOG} says more). Try again later, raise "
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS, point PREFECT_API_URL at a running "
        "server (docs/operations.md), or run with --no-flow."
    )


@contextlib.contextmanager
def orchestrated(input_label: str) -> Iterator[None]:
    """Around a flow run started by `hyposcreen run`: the API up (start_for_cli), the flow's
    progress lines on stderr, and the run tagged with this process (so the next run can mark
    it Crashed if this one is killed)."""
    from prefect import tags

    progress = logging.getLogger("hyposcreen.progress")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("hyposcreen: %(message)s"))
    progress.addHandler(handler)
    progress.setLevel(logging.INFO)
    progress.propagate = False
    try:
        print(f"hyposcreen: starting the orchestrator (Prefect) for {input_label}", file=sys.stderr)
        start_for_cli()
        act_on_lost_stop()  # a stop the start's libraries turned into their own error
        with tags(run_tag()):
            yield
    except (httpx.TransportError, PrefectHTTPStatusError) as error:
        raise EnvironmentProblem(
            f"The orchestrator (Prefect API) stopped answering during the run: "
            f"{_one_line(error)}. Windows finished before it are in place; run the command "
            "again (or with --no-flow)."
        ) from error
    finally:
        progress.removeHandler(handler)


def start_for_cli() -> str:
    """start_api, then tidy what killed runs left; a failure of the tidying is only noted."""
    url = start_api()
    try:
        marked = mark_crashed_runs()
    except Exception as error:
        print(f"hyposcreen: could not check for crashed runs: {_one_line(error)}", file=sys.stderr)
    else:
        if marked:
            print(f"hyposcreen: marked {marked} killed earlier run(s) Crashed", file=sys.stderr)
    return url
