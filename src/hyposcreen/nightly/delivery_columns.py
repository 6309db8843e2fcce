"""The canonical columns each night's delivery had, kept in the nightly state DB (its own table).

A column a table had on the last screened night and lacks tonight changes how its rows read
(an order without `end_time` is taken as still running, a lab without `specimen_id` pairs its
glucose by time alone) without any row failing: the night is screened with a warning
(dropped_column_warnings). Column names only, the canonical ones: no value of the extract
enters this table.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from hyposcreen.errors import damaged_state_database
from hyposcreen.schema import SCHEMAS

_SCHEMA = """
CREATE TABLE IF NOT EXISTS delivery_columns (
    site TEXT NOT NULL, table_name TEXT NOT NULL, window_start TEXT NOT NULL,
    columns TEXT NOT NULL, PRIMARY KEY (site, table_name, window_start)
)
"""
_ISO = "%Y-%m-%dT%H:%M:%S"
# the reader's own bookkeeping, present or not whatever the delivery holds
NOT_DELIVERED = frozenset({"source_file", "source_row"})


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=30)
    db.execute(_SCHEMA)
    return db


def delivered(columns: Sequence[str]) -> tuple[str, ...]:
    """The columns a delivery's table really had, in name order, as this table keeps them."""
    return tuple(sorted(set(columns) - NOT_DELIVERED))


def previous_columns(
    path: Path, site: str, before: pd.Timestamp
) -> dict[str, tuple[pd.Timestamp, tuple[str, ...]]]:
    """Per table, the last night screened before `before` that recorded it: its start and the
    columns its delivery had."""
    try:
        db = _connect(path)
        try:
            rows = db.execute(
                "SELECT table_name, window_start, columns FROM delivery_columns AS d "
                "WHERE site = ? AND window_start = (SELECT MAX(window_start) FROM "
                "delivery_columns WHERE site = d.site AND table_name = d.table_name "
                "AND window_start < ?)",
                (site, before.strftime(_ISO)),
            ).fetchall()
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        raise damaged_state_database(exc, path) from exc
    return {
        str(name): (pd.Timestamp(start), tuple(c for c in str(text).split(",") if c))
        for name, start, text in rows
    }


def record_columns(
    path: Path, site: str, window_start: pd.Timestamp, columns: Mapping[str, Sequence[str]]
) -> None:
    """Remember the columns each table of this night's delivery had (`delivered` form): an
    empty tuple is not known (not recorded), a table not in `columns` was not delivered (an
    empty record, so that its absence is warned once)."""
    try:
        db = _connect(path)
        try:
            with db:
                write_columns(db, site, window_start, columns)
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        raise damaged_state_database(exc, path) from exc


def write_columns(
    db: sqlite3.Connection,
    site: str,
    window_start: pd.Timestamp,
    columns: Mapping[str, Sequence[str]],
) -> None:
    """record_columns in the transaction `db` has open (StateStore.record_run's: kept with
    the night they belong to, or not at all)."""
    start = window_start.strftime(_ISO)
    records = [
        (site, name, start, ",".join(delivered(columns.get(name, ()))))
        for name in sorted(SCHEMAS)
        if name not in columns or columns[name]
    ]
    db.execute(_SCHEMA)
    db.executemany("INSERT OR REPLACE INTO delivery_columns VALUES (?,?,?,?)", records)
