"""The screen's relational engine: in-process DuckDB over registered frames, nothing else.

A screen registers its big tables once (`Tables`: the usable labs, the sodium results) on one
cursor of a per-process in-memory database; each relational step owns one short query, adds its
small frames (the cases), binds rule values as parameters and gets a pandas frame back with the
dtypes it names (over Arrow: text comes back as pandas' `str`, no Python object per row).
`run_query` does the same for a step whose tables are used by that one query alone. The
database loads no extension and may not touch files (`enable_external_access` off), so
`screen/` stays pure: frames in, frames out.

Times are compared as integer microseconds since the epoch (`epoch_us`, the unit every reader
gives its times), so bounds are exact and a time up to the year 9999 fits (in nanoseconds one
after 2262 does not: an "open" end of 9999-12-31); `round9(x)` rounds exactly as pandas'
`Series.round(9)` (half to even on x * 1e9), so comparisons on rounded values agree with the
pandas code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hyposcreen.rules.sql_engine import connect, shared_connection

__all__ = ["ArrowFrame", "Tables", "connect", "shared_connection"]


@dataclass(frozen=True)
class ArrowFrame:
    """A frame already in Arrow (`table`), with the pandas dtypes its columns had (`dtypes`):
    registered as it is, no conversion."""

    table: pa.Table
    dtypes: pd.Series


class Tables:
    """Frames registered once, under table names, on one cursor of the shared database, then
    queried many times: a screen registers its big inputs (usable labs, sodium results,
    medications, diagnoses) once and each step's query adds only its small frames (the cases).
    A cursor is a connection of its own to the shared database, so names never meet those of
    another `Tables`, also from another thread. Use as a context manager (closes the cursor)."""

    def __init__(self, frames: Mapping[str, pd.DataFrame | ArrowFrame] | None = None) -> None:
        self._cursor = shared_connection().cursor()
        self._dtypes: dict[str, pd.Series] = {}
        self._tables: dict[str, pa.Table] = {}
        self._small: dict[str, pd.DataFrame] = {}  # small frames as registered
        for name, frame in (frames or {}).items():
            self.register(name, frame)

    def register(self, name: str, frame: pd.DataFrame | ArrowFrame) -> None:
        """Register `frame` as table `name` (over Arrow: any memory layout, NaN read as NULL,
        times keep their unit; pyarrow-backed text columns are not copied)."""
        before = self._small.pop(name, None)
        if isinstance(frame, ArrowFrame):
            table, dtypes = frame.table, frame.dtypes
        elif before is not None and _same(before, frame):
            self._small[name] = before
            return  # the steps of one screen pass the same cases again and again
        else:  # no thread pool per call
            table = pa.Table.from_pandas(frame, preserve_index=False, nthreads=1)
            dtypes = frame.dtypes
            if len(frame) <= _SMALL:
                self._small[name] = frame.copy()  # as registered, whatever comes to `frame`
        self._cursor.register(name, table)
        self._tables[name] = table
        self._dtypes[name] = dtypes

    def keep_patients(self, names: tuple[str, ...], patients: pd.Series) -> None:
        """Register tables `names` again with only the rows of `patients` (their `patient_id`
        among those), in their order: for the steps whose every query of them joins on a
        patient of `patients` (a screen's case steps), which then read a few rows, not all."""
        wanted = pa.array(patients.astype("str").unique())
        for name in names:
            table = self._tables[name]
            column = table.column("patient_id")
            kept = table.filter(pc.is_in(column, value_set=wanted.cast(column.type)))
            self._cursor.register(name, kept)
            self._tables[name] = kept
            self._small.pop(name, None)

    def arrow(self, name: str) -> pa.Table | None:
        """The Arrow table registered as `name` (None for a view or a name not registered)."""
        return self._tables.get(name)

    def view(self, name: str, sql: str, dtypes: Mapping[str, object]) -> None:
        """A view `name` over the registered tables (this cursor's own), its columns' pandas
        dtypes `dtypes` (the rows stay where they are)."""
        self._cursor.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {sql}")
        self._small.pop(name, None)
        self._tables.pop(name, None)
        self._dtypes[name] = pd.Series(dict(dtypes), dtype=object)

    def dtype(self, table: str, column: str) -> object:
        """The pandas dtype column `column` of registered table `table` had."""
        return self._dtypes[table][column]

    def query(
        self,
        sql: str,
        parameters: Mapping[str, object] | None = None,
        dtypes: Mapping[str, object] | None = None,
        frames: Mapping[str, pd.DataFrame] | None = None,
    ) -> pd.DataFrame:
        """Run `sql` with named `parameters` ($name) after registering the small `frames`;
        the result as a pandas frame (text as pandas' `str`), columns cast to `dtypes`."""
        for name, frame in (frames or {}).items():
            self.register(name, frame)
        table = self._cursor.sql(sql, params=dict(parameters or {})).to_arrow_table()
        result = table.to_pandas(types_mapper=_PANDAS_TYPES.get)
        # only the columns not of their dtype already (astype copies every column it names)
        cast = {c: t for c, t in (dtypes or {}).items() if c in result and result[c].dtype != t}
        return result.astype(cast) if cast else result

    def close(self) -> None:
        self._cursor.close()

    def __enter__(self) -> Tables:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


_SMALL = 10_000  # rows of a frame compared with the one registered before it (cheaper)


def _same(registered: pd.DataFrame, frame: pd.DataFrame) -> bool:
    """Whether `frame` holds what `registered` held: columns, dtypes and values."""
    return (
        len(frame) == len(registered)
        and list(frame.columns) == list(registered.columns)
        and frame.dtypes.equals(registered.dtypes)
        and frame.reset_index(drop=True).equals(registered.reset_index(drop=True))
    )


# Arrow text comes back as pandas' default `str` (pyarrow-backed, NaN for missing): no
# Python objects per row, unlike DuckDB's own `.df()`
_PANDAS_TYPES = {
    pa.string(): pd.StringDtype(na_value=np.nan),
    pa.large_string(): pd.StringDtype(na_value=np.nan),
}


def run_query(
    sql: str,
    tables: Mapping[str, pd.DataFrame],
    parameters: Mapping[str, object] | None = None,
    dtypes: Mapping[str, object] | None = None,
    db: Tables | None = None,
) -> pd.DataFrame:
    """One query over `tables` (registered by name, then dropped; on `db`, when given,
    registered there among its tables) with named `parameters`; the result as a pandas
    frame, its columns cast to `dtypes` where given."""
    if db is not None:
        return db.query(sql, parameters, dtypes, frames=tables)
    with Tables(tables) as registered:
        return registered.query(sql, parameters, dtypes)


def nanoseconds(moment: pd.Timestamp | pd.Timedelta) -> int:
    """A time as integer nanoseconds since the epoch, or a duration in nanoseconds."""
    return int(moment.as_unit("ns").value)


def microseconds(moment: pd.Timestamp | pd.Timedelta) -> int:
    """A time as integer microseconds since the epoch (DuckDB's `epoch_us`), or a duration in
    microseconds (`.value` would be nanoseconds whatever the unit)."""
    return int(moment.as_unit("us").asm8.astype(np.int64))
