"""The screen's relational engine: in-process DuckDB over registered frames, nothing else.

Each relational step of the screen owns one short query and runs it with `run_query`: the
frames it needs are registered under table names, rule values are bound as parameters, and
the result comes back as a pandas frame with the dtypes the caller names. Each query runs on
its own cursor of one in-memory database per process; the database loads no extension and
may not touch files (`enable_external_access` off), so `screen/` stays pure: frames in,
frames out.

Times are compared as integer nanoseconds since the epoch (`epoch_ns`), so bounds are exact
whatever the unit of the frames; `round9(x)` rounds exactly as pandas' `Series.round(9)`
(half to even on x * 1e9), so comparisons on rounded values agree with the pandas code.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Mapping

import duckdb
import pandas as pd
import pyarrow as pa

# numpy's round(x, 9): rint(x * 1e9) / 1e9 — DuckDB's round() rounds halves away from zero
_MACROS = ("CREATE MACRO round9(x) AS round_even(x * 1e9, 0) / 1e9",)


def connect() -> duckdb.DuckDBPyConnection:
    """A fresh in-memory DuckDB connection: one thread per core, no extensions, no file I/O."""
    connection = duckdb.connect(
        ":memory:",
        config={
            "threads": os.cpu_count() or 1,
            "enable_external_access": False,
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
        },
    )
    for macro in _MACROS:
        connection.execute(macro)
    return connection


_SHARED: dict[int, duckdb.DuckDBPyConnection] = {}  # per process: never used across a fork
_SHARED_LOCK = threading.Lock()


def shared_connection() -> duckdb.DuckDBPyConnection:
    """This process's connection (opened once: a connection costs ~30 ms, a cursor ~10 µs)."""
    with _SHARED_LOCK:
        process = os.getpid()
        if process not in _SHARED:
            _SHARED[process] = connect()  # a forked child opens its own, never the parent's
        return _SHARED[process]


@atexit.register
def _close_shared() -> None:
    """Close this process's connection before the interpreter tears the bindings down (left
    open, DuckDB's bindings report leaked objects on stderr at exit)."""
    connection = _SHARED.pop(os.getpid(), None)
    if connection is not None:
        connection.close()


def run_query(
    sql: str,
    tables: Mapping[str, pd.DataFrame],
    parameters: Mapping[str, object] | None = None,
    dtypes: Mapping[str, object] | None = None,
) -> pd.DataFrame:
    """Run one query over `tables` (registered by name) with named `parameters` ($name);
    the result as a pandas frame, its columns cast to `dtypes` where given. Each call has its
    own cursor (a connection of its own to the shared database), so registered names never
    meet those of another call, also from another thread."""
    connection = shared_connection().cursor()
    try:
        for name, frame in tables.items():
            # over Arrow: any memory layout, NaN read as NULL, times keep their unit
            connection.register(name, pa.Table.from_pandas(frame, preserve_index=False))
        result = connection.execute(sql, dict(parameters or {})).df()
    finally:
        connection.close()
    if dtypes:
        result = result.astype({c: t for c, t in dtypes.items() if c in result.columns})
    return result


def nanoseconds(moment: pd.Timestamp | pd.Timedelta) -> int:
    """A time as integer nanoseconds since the epoch, or a duration in nanoseconds."""
    return int(moment.as_unit("ns").value)
