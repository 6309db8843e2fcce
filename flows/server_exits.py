"""A temporary Prefect server that exits as it starts: told at once, by its cause.

Uvicorn exits with status 3 when the server's start-up fails (a database migration that
cannot run: a `prefect.db` a newer Prefect wrote, a PREFECT_HOME whose disk is full). Prefect's
`SubprocessASGIServer.start` reads status 3 as a busy port and starts the server again on
another, until its timeout (180 s here), and the run tried twice: six minutes, then a message
blaming the load. A free port is checked before each start, so two such exits in a row are
not a busy port: the start stops there, naming the cause the server's log gives.

The server's own error lines go to its log (`temporary-server.log`): the run's setting that
silences Prefect's console (CRITICAL, so the terminal shows only hyposcreen's lines) is lowered
to ERROR for the server, whose console is that file.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

STARTUP_FAILED = 3  # uvicorn's exit status when the application's start-up fails
EXITS_IN_A_ROW = 2
SERVER_CONSOLE_LEVEL = {"PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "ERROR"}
_NEARLY_FULL_BYTES = 1 << 20


class ServerExitedAtStart(RuntimeError):
    """The temporary server exited with status 3 at each of its starts, or with another
    status once (Python's 120: its log could not be written, a PREFECT_HOME disk that filled),
    which Prefect's start-up did not see: it waited for the dead server until its timeout,
    twice (8 minutes at load 11)."""


def disk_full_message(home: Path, error: OSError) -> str:
    """A file of the server's start in PREFECT_HOME (its log, its pid file) not written."""
    return (
        f"Prefect's temporary server could not start: a file in PREFECT_HOME ({home}) could "
        f"not be written ({error.strerror}). Free space on its disk or give PREFECT_HOME a "
        "folder on a disk with room, point PREFECT_API_URL at a running server, or run with "
        "--no-flow, then run again."
    )


def server_exit_message(home: Path, log_name: str, status: int = STARTUP_FAILED) -> str:
    """One paragraph: what stopped the server, where its log is, and what to do."""
    cause = _disk_full(home) or _last_error_line(home / log_name)
    times = f"{EXITS_IN_A_ROW} times in a row, " if status == STARTUP_FAILED else ""
    return (
        f"Prefect's temporary server exited as it started ({times}exit status {status}): "
        f"{cause}. Its log is {home / log_name}. Give "
        "PREFECT_HOME a folder with room and a database this Prefect can open (moving "
        "prefect.db aside loses only flow-run records and logs), point PREFECT_API_URL at a "
        "running server, or run with --no-flow, then run again."
    )


def _disk_full(home: Path) -> str | None:
    with contextlib.suppress(OSError):
        stats = os.statvfs(home)
        if stats.f_bavail * stats.f_frsize < _NEARLY_FULL_BYTES:
            return f"the disk of PREFECT_HOME ({home}) is full"
    return None


def _last_error_line(log: Path) -> str:
    try:
        with log.open("rb") as file:
            file.seek(max(0, log.stat().st_size - 8192))
            lines = file.read().decode("utf-8", "replace").splitlines()
    except OSError:
        lines = []
    errors = [line.strip() for line in lines if "Error" in line and "Traceback" not in line]
    text = errors[-1] if errors else "its log names no error"
    return text[:300] + ("..." if len(text) > 300 else "")
