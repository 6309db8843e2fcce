"""The temporary Prefect server's SQLite database, looked at before the server starts.

* A damaged file (a disk that filled, a copy cut short) made the server fail at each start,
  which Prefect's start-up took for a busy port and retried until its timeout, twice (6
  minutes by default), then blamed the load: named at once, with the advice to move it aside.
* A file this user cannot open: named at once.
* A file another process holds locked (a `sqlite3` shell or a backup left in a transaction,
  a server of another Prefect left hanging): each start waited out SQLite's busy timeout,
  exited, and the run stopped after 8.5 minutes at load 11 advising to move the file aside.
  It is now waited for as long as the server itself would (`LOCK_WAIT_SECONDS`), then named
  with the processes holding it open, and what to do.

The file is the one the server opens (SQLAlchemy's reading of the URL), opened by a quoted
URI: a `%41`, `#` or `?` in PREFECT_HOME names no other file.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import sys
from pathlib import Path

from hyposcreen.errors import EnvironmentProblem

LOCK_WAIT_SECONDS = 60.0  # the busy timeout Prefect's server gives SQLite (PRAGMA busy_timeout)
_QUIET_WAIT_SECONDS = 2.0  # a lock a concurrent run's server holds while it writes: not told
_DAMAGED = (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)
_LOCKED = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def server_database() -> Path | None:
    """The SQLite file the temporary server would open, when it exists."""
    from prefect.settings import PREFECT_API_DATABASE_CONNECTION_URL
    from sqlalchemy.engine import make_url

    url = make_url(str(PREFECT_API_DATABASE_CONNECTION_URL.value() or "sqlite://"))
    path = url.database if url.get_backend_name() == "sqlite" else None
    database = Path(path) if path and path != ":memory:" else None
    return database if database is not None and database.is_file() else None


def check_database(lock_wait: float = LOCK_WAIT_SECONDS) -> None:
    """EnvironmentProblem when the server could not use its database: damaged, not to be
    opened by this user, or locked by another process for `lock_wait` seconds."""
    database = server_database()
    if database is None:
        return
    uri = database.resolve().as_uri()
    try:
        with contextlib.closing(sqlite3.connect(f"{uri}?mode=ro", uri=True)) as db:
            db.execute("PRAGMA schema_version").fetchone()  # reads the file's header page
    except sqlite3.DatabaseError as error:
        code = error.sqlite_errorcode & 0xFF
        if code in _LOCKED:
            _wait_for_lock(database, uri, lock_wait)
            return
        if code not in _DAMAGED:  # whole, but not to be opened
            raise EnvironmentProblem(
                f"The temporary Prefect server's database {database} cannot be opened "
                f"({error}), so the server cannot start: let this user read and write it and "
                "its folder, or point PREFECT_API_URL at a running server, or run with "
                "--no-flow, then run again."
            ) from None
        raise EnvironmentProblem(
            f"The temporary Prefect server's database {database} is damaged ({error}), so "
            "the server cannot start. It holds only flow-run records and logs (counts, no "
            f"patient data): move it aside (`mv {database} {database}.damaged`) and run "
            "again, or point PREFECT_API_URL at a running server, or run with --no-flow."
        ) from None
    _wait_for_lock(database, uri, lock_wait)


def _wait_for_lock(database: Path, uri: str, lock_wait: float) -> None:
    """Take and give back the write lock the server's start needs, waiting `lock_wait`
    seconds at most (a concurrent run's server writes in short transactions)."""
    try:
        quiet = min(_QUIET_WAIT_SECONDS, lock_wait)
        with contextlib.closing(sqlite3.connect(f"{uri}?mode=rw", uri=True, timeout=quiet)) as db:
            if not _locked(db):
                return
            print(
                f"hyposcreen: Prefect's database {database} is locked by another process; "
                f"waiting up to {lock_wait:g} s",
                file=sys.stderr,
            )
            db.execute(f"PRAGMA busy_timeout = {int(lock_wait * 1000)}")
            if not _locked(db):
                return
    except sqlite3.Error:
        return  # not a lock: the server's start says what it is (server_exits.py)
    # closed first: this process is not named among those holding it
    raise EnvironmentProblem(_locked_message(database, lock_wait))


def _locked(db: sqlite3.Connection) -> bool:
    try:
        db.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as error:
        if getattr(error, "sqlite_errorcode", 0) & 0xFF in _LOCKED:
            return True
        raise
    db.execute("ROLLBACK")
    return False


def _locked_message(database: Path, waited: float) -> str:
    holders = holding_processes(database)
    held_by = f" (held open by {', '.join(holders)})" if holders else ""
    return (
        f"The temporary Prefect server's database {database} stayed locked by another "
        f"process for {waited:g} s{held_by}, so the server cannot start. Let that process "
        "finish or stop it, or give this run its own PREFECT_HOME (PREFECT_HOME=/some/"
        "empty/folder), or point PREFECT_API_URL at a running server, or run with "
        "--no-flow, then run again."
    )


def holding_processes(database: Path, limit: int = 3) -> list[str]:
    """`process <pid> (<name>)` for processes of this user with the file (or its -wal) open."""
    names = {str(database.resolve()), f"{database.resolve()}-wal"}
    found: list[str] = []
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        with contextlib.suppress(OSError):
            if any(os.readlink(fd) in names for fd in fd_dir.iterdir()):
                pid = fd_dir.parent.name
                name = (fd_dir.parent / "comm").read_text(encoding="utf-8").strip()
                found.append(f"process {pid} ({name})")
                if len(found) >= limit:
                    break
    return found
