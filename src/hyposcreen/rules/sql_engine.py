"""In-process DuckDB for rule lookups and cleaning: Arrow tables in, one Arrow table out.

Part of the shared foundation (the reader's analyte selector and the clean stage both join
rule tables with it; `screen/engine.py` queries the same database). One in-memory database
per process, a cursor per query, so the table names a query registers never meet another
query's; the database loads no extension and may not touch files. What it cannot hold in
memory it spills to `$TMPDIR/hyposcreen-rows-<pid>-duckdb` (its rows are patient rows; DuckDB's
own default is `.tmp` in the working directory), removed when the process ends and, after a
killed run, by the next read (recipe_read). Helpers here convert pandas
columns to Arrow at the edges and Arrow results back to numpy, and give each row its position
(`rn`), so a result can be put back in the rows' order whatever order the engine produced it
in.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hyposcreen.scratch import hold, release, rows_name

ROW = "rn"  # the column holding each row's position in the frame it came from
# + <pid>-...: a folder in $TMPDIR holding patient rows while this process runs (DuckDB's
# spill; ingest.tabular's copies of CSVs), removed by a later run once the process is gone


# numpy's round(x, 9): rint(x * 1e9) / 1e9 — DuckDB's round() rounds halves away from zero
_MACROS = ("CREATE MACRO round9(x) AS round_even(x * 1e9, 0) / 1e9",)


def connect() -> duckdb.DuckDBPyConnection:
    """A fresh in-memory DuckDB connection: one thread per core, no extensions, no file I/O
    but its spill (module docstring)."""
    connection = duckdb.connect(
        ":memory:",
        config={
            "threads": os.cpu_count() or 1,
            "enable_external_access": False,
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "temp_directory": _spill_folder(),
        },
    )
    for macro in _MACROS:
        connection.execute(macro)
    return connection


# (pid, folder) -> the held lock (hyposcreen.scratch) of a spill folder this process made
_SPILLS: dict[tuple[int, str], int | None] = {}


def _spill_folder() -> str:
    """$TMPDIR/hyposcreen-rows-<pid>-duckdb, made now and held while this process runs, so a
    run in another pid namespace sharing $TMPDIR leaves it alone (removed at exit)."""
    folder = os.path.join(tempfile.gettempdir(), rows_name("duckdb"))
    if (os.getpid(), folder) not in _SPILLS:
        try:
            os.makedirs(folder, mode=0o700, exist_ok=True)
        except OSError:  # DuckDB makes it if it ever spills, and says so if it cannot
            return folder
        _SPILLS[(os.getpid(), folder)] = hold(Path(folder))
    return folder


_SHARED: dict[int, duckdb.DuckDBPyConnection] = {}  # per process: never used across a fork
_LOCK = threading.Lock()


def shared_connection() -> duckdb.DuckDBPyConnection:
    """This process's connection, shared by cleaning and the screen (opened once: a connection
    costs ~30 ms, a cursor ~10 µs; each query works on a cursor of its own)."""
    with _LOCK:
        process = os.getpid()
        if process not in _SHARED:
            _SHARED[process] = connect()  # a forked child opens its own, never the parent's
        return _SHARED[process]


def close_shared_connection() -> None:
    """Close this process's connection (the next query opens a fresh one): its database and
    the allocator pages DuckDB keeps cached for it (~90 MB after a 20M-row run's cleaning,
    though no query holds any) are handed back. Only between stages: no `Tables` open."""
    with _LOCK:
        connection = _SHARED.pop(os.getpid(), None)
    if connection is not None:
        connection.close()


@atexit.register
def _close_shared() -> None:
    """Close this process's connection before the interpreter tears the bindings down (left
    open, DuckDB's bindings report leaked objects on stderr at exit)."""
    close_shared_connection()
    for process, folder in [key for key in _SPILLS if key[0] == os.getpid()]:
        release(_SPILLS.pop((process, folder)))
        shutil.rmtree(folder, ignore_errors=True)  # DuckDB leaves a folder it did not make


def query(
    sql: str, tables: Mapping[str, pa.Table], parameters: Mapping[str, object] | None = None
) -> pa.Table:
    """Run one query over Arrow `tables` (registered under their names) with named
    `parameters` ($name); the result as an Arrow table."""
    cursor = shared_connection().cursor()
    try:
        for name, table in tables.items():
            cursor.register(name, table)
        return cursor.sql(sql, params=dict(parameters or {})).to_arrow_table()
    finally:
        cursor.close()


def text_array(values: pd.Series) -> pa.Array:
    """A text column as an Arrow string array (nulls stay null; no copy for `str` columns)."""
    if not isinstance(values.dtype, pd.StringDtype):
        values = values.astype("str")
    array = pa.array(values)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return array if array.type == pa.large_string() else array.cast(pa.large_string())


def float_array(values: pd.Series) -> pa.Array:
    """A numeric column as float64 (NaN and non-numbers as null)."""
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    return pa.array(numbers, from_pandas=True)


def row_table(columns: Mapping[str, pa.Array], length: int) -> pa.Table:
    """An Arrow table of the given columns plus each row's position in `ROW`."""
    return pa.table({ROW: pa.array(np.arange(length, dtype="int64")), **columns})


def in_row_order(result: pa.Table, column: str, length: int, fill: object = None) -> np.ndarray:
    """`column` of a result holding rows' positions in `ROW`, as an array in row order (rows
    the result does not name get `fill`: NaN for floats, None for objects unless given)."""
    values = result.column(column).to_numpy(zero_copy_only=False)
    positions = result.column(ROW).to_numpy()
    if values.dtype.kind == "f":
        out = np.full(length, np.nan if fill is None else fill, dtype=values.dtype)
    elif values.dtype.kind in "biu":
        out = np.full(length, fill if fill is not None else 0, dtype=values.dtype)
    else:
        out = np.full(length, fill, dtype=object)
    out[positions] = values
    return out


def texts_by_code(names: Sequence[str], codes: np.ndarray, index: pd.Index) -> pd.Series:
    """A `str` column holding names[code] for each row (taken in Arrow, no Python strings)."""
    taken = pc.take(pa.array(list(names), type=pa.large_string()), pa.array(codes))
    return pd.Series(pd.array(taken, dtype="str"), index=index)


def encode(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    """A text column as (code of each row, -1 for null; the distinct texts the codes index).
    Work done once per distinct text is then taken back to the rows by code."""
    encoded = pc.dictionary_encode(text_array(values))
    codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype("int32")
    return codes, encoded.dictionary.to_pylist()


def combine_codes(*columns: tuple[np.ndarray, int]) -> tuple[np.ndarray, np.ndarray]:
    """Rows' codes of several encoded columns ((codes, number of texts) each) as one code per
    distinct combination: (combination of each row, the distinct combinations as rows of
    per-column codes, -1 for null)."""
    if np.prod([float(size + 1) for _, size in columns]) >= 2.0**62:
        raise ValueError("too many distinct combinations to number them in int64")
    combined = np.zeros(len(columns[0][0]), dtype="int64")
    for codes, size in columns:
        combined = combined * (size + 1) + (codes.astype("int64") + 1)
    encoded = pc.dictionary_encode(pa.array(combined))
    distinct = encoded.dictionary.to_numpy()
    parts = []
    for _, size in reversed(columns):
        parts.append(distinct % (size + 1) - 1)
        distinct = distinct // (size + 1)
    return encoded.indices.to_numpy(), np.stack(parts[::-1], axis=1)


def mapping_table(texts: list[str], values: Sequence[object], value_type: pa.DataType) -> pa.Table:
    """A distinct-value mapping as a table: `code` (position in `texts`) -> `value`."""
    return pa.table(
        {
            "code": pa.array(np.arange(len(texts), dtype="int32")),
            "value": pa.array(list(values), type=value_type),
        }
    )
