"""The nightly state database's layout: its tables, the number of that layout (SQLite's
`user_version`), and bringing a state of an earlier layout to this one on opening."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from hyposcreen.errors import EnvironmentProblem

# The layout of the tables below, kept in SQLite's `user_version`. A state a later hyposcreen
# wrote (a higher number) is refused before anything reads or writes it; 0 is a state made
# before the number was kept, with the layout of 1, and is stamped on first open. 2 added
# `seen_results.first_seen` (the start of the first night that saw the result; empty in a
# state of 1, where a result counts as seen by every night) and `listings.grading` (the rules,
# profile and glucose factor that graded the listed case; empty in a state of 1) and
# `runs.screened_at` (when the night was recorded, UTC, as `failures.failed_at`).
STATE_SCHEMA_VERSION = 2
_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    site TEXT NOT NULL, window_start TEXT NOT NULL, window_end TEXT NOT NULL,
    run_id TEXT NOT NULL, listed INTEGER NOT NULL, out_dir TEXT NOT NULL, screened_at TEXT,
    PRIMARY KEY (site, window_start, window_end)
);
CREATE TABLE IF NOT EXISTS listings (
    site TEXT NOT NULL, patient_id TEXT NOT NULL, window_start TEXT NOT NULL,
    tier INTEGER NOT NULL, nadir REAL NOT NULL, overcorrection_to TEXT, grading TEXT,
    PRIMARY KEY (site, patient_id, window_start)
);
CREATE TABLE IF NOT EXISTS reviews (
    site TEXT NOT NULL, patient_id TEXT NOT NULL, reviewed_at TEXT NOT NULL,
    reviewer TEXT NOT NULL, PRIMARY KEY (site, patient_id, reviewed_at, reviewer)
);
CREATE TABLE IF NOT EXISTS failures (
    site TEXT NOT NULL, window_start TEXT NOT NULL, window_end TEXT NOT NULL,
    failed_at TEXT NOT NULL, error_type TEXT NOT NULL, message TEXT NOT NULL,
    out_dir TEXT NOT NULL, PRIMARY KEY (site, window_start, window_end)
);
CREATE TABLE IF NOT EXISTS seen_results (
    site TEXT NOT NULL, result_key INTEGER NOT NULL, specimen_time TEXT NOT NULL,
    first_seen TEXT, PRIMARY KEY (site, result_key)
);
"""

_ADDED_IN_2 = (("seen_results", "first_seen"), ("listings", "grading"), ("runs", "screened_at"))


def lay_out(db: sqlite3.Connection, path: Path, upgrade: bool = True) -> int:
    """The tables of this layout in `db` (the state file `path`), a state of an earlier layout
    brought to it and stamped; one a newer hyposcreen wrote refused, untouched (exit 75).
    Without `upgrade` (a command that only reads it, `hyposcreen status`) an earlier layout is
    left as it is: the older hyposcreen still running the nights refuses a state brought to
    this layout. Returns the layout the state has now."""
    written_by = int(db.execute("PRAGMA user_version").fetchone()[0])
    if written_by > STATE_SCHEMA_VERSION:
        raise EnvironmentProblem(
            f"The state file {path} was written by a newer hyposcreen (state "
            f"schema {written_by}; this one knows up to {STATE_SCHEMA_VERSION}). Run "
            "the hyposcreen version that wrote it. Do not move it aside: it holds the "
            "nightly history (listings, reviews, late results) that a fresh state lacks."
        )
    if not upgrade and written_by < STATE_SCHEMA_VERSION:
        return written_by
    db.executescript(_SCHEMA)
    for table, column in _ADDED_IN_2:  # a state of schema 1 lacks them
        if column not in {row[1] for row in db.execute(f"PRAGMA table_info({table})")}:
            db.execute(f"ALTER TABLE {table} ADD COLUMN {column} TEXT")
    if written_by < STATE_SCHEMA_VERSION:
        db.execute(f"PRAGMA user_version = {STATE_SCHEMA_VERSION}")
    return STATE_SCHEMA_VERSION
