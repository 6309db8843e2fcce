"""Per-night counts of usable sodium results, kept in the nightly state DB (its own table).

A night whose count falls far below the trailing nights' median is screened with a warning
(run_warnings.sodium_drop_warning). Counts only: no identifier enters this table. A published
night's count is written in the state's transaction that records the night (write_count).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd

from hyposcreen.errors import damaged_state_database

_SCHEMA = """
CREATE TABLE IF NOT EXISTS night_counts (
    site TEXT NOT NULL, window_start TEXT NOT NULL, usable_sodium INTEGER NOT NULL,
    PRIMARY KEY (site, window_start)
)
"""
_ISO = "%Y-%m-%dT%H:%M:%S"


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=30)
    db.execute(_SCHEMA)
    return db


def trailing_counts(path: Path, site: str, before: pd.Timestamp, nights: int) -> list[int]:
    """Usable sodium counts of the last `nights` windows starting before `before`."""
    try:
        db = _connect(path)
        try:
            rows = db.execute(
                "SELECT usable_sodium FROM night_counts WHERE site = ? AND window_start < ? "
                "ORDER BY window_start DESC LIMIT ?",
                (site, before.strftime(_ISO), int(nights)),
            ).fetchall()
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        raise damaged_state_database(exc, path) from exc
    return [int(r[0]) for r in rows]


def write_count(db: sqlite3.Connection, site: str, window_start: pd.Timestamp, usable: int) -> None:
    """The night's count, in the transaction `db` has open (StateStore.record_run's: the
    count is kept with the night it belongs to, or not at all)."""
    db.execute(_SCHEMA)
    db.execute(
        "INSERT OR REPLACE INTO night_counts VALUES (?, ?, ?)",
        (site, window_start.strftime(_ISO), int(usable)),
    )


def record_count(path: Path, site: str, window_start: pd.Timestamp, usable: int) -> None:
    """The night's count in a transaction of its own (tests, tools)."""
    try:
        db = _connect(path)
        try:
            with db:
                write_count(db, site, window_start, usable)
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        raise damaged_state_database(exc, path) from exc
