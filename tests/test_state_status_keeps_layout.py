"""`hyposcreen status` only reads the state: a state of layout 1, which an older hyposcreen
still running the nights wrote, is told as it is and left at layout 1. Brought to layout 2,
that older hyposcreen would refuse it (exit 75) and stop the next night: an operator trying
the new version's `status` before switching the nights over must not do that."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from hyposcreen.cli import main
from hyposcreen.state import STATE_FILE, StateStore

# the layout 1 tables the older hyposcreen writes (no runs.screened_at, listings.grading or
# seen_results.first_seen)
_LAYOUT_1 = """
CREATE TABLE runs (site TEXT NOT NULL, window_start TEXT NOT NULL, window_end TEXT NOT NULL,
    run_id TEXT NOT NULL, listed INTEGER NOT NULL, out_dir TEXT NOT NULL,
    PRIMARY KEY (site, window_start, window_end));
CREATE TABLE listings (site TEXT NOT NULL, patient_id TEXT NOT NULL, window_start TEXT NOT NULL,
    tier INTEGER NOT NULL, nadir REAL NOT NULL, overcorrection_to TEXT,
    PRIMARY KEY (site, patient_id, window_start));
CREATE TABLE reviews (site TEXT NOT NULL, patient_id TEXT NOT NULL, reviewed_at TEXT NOT NULL,
    reviewer TEXT NOT NULL, PRIMARY KEY (site, patient_id, reviewed_at, reviewer));
CREATE TABLE failures (site TEXT NOT NULL, window_start TEXT NOT NULL, window_end TEXT NOT NULL,
    failed_at TEXT NOT NULL, error_type TEXT NOT NULL, message TEXT NOT NULL,
    out_dir TEXT NOT NULL, PRIMARY KEY (site, window_start, window_end));
CREATE TABLE seen_results (site TEXT NOT NULL, result_key INTEGER NOT NULL,
    specimen_time TEXT NOT NULL, PRIMARY KEY (site, result_key));
INSERT INTO runs VALUES ('default', '2026-11-20T00:00:00', '2026-11-21T00:00:00', 'r1', 3,
    '/nowhere/2026-11-20');
PRAGMA user_version = 1;
"""


def test_status_leaves_a_layout_1_state_as_the_older_nightly_wrote_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state"
    state.mkdir()
    db = state / STATE_FILE
    with sqlite3.connect(db) as conn:
        conn.executescript(_LAYOUT_1)
    conn.close()
    before = db.read_bytes()
    assert main(["status", "--state-dir", str(state)]) == 0
    out = capsys.readouterr().out
    # the one night recorded (3 cases), its folder gone
    assert "site default: 1 night(s) screened, 0 failed" in out
    assert "screened 2026-11-20: 3 case(s), /nowhere/2026-11-20 (its review list" in out
    assert db.read_bytes() == before  # still layout 1: the older nightly opens it
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    conn.close()
    # a run of this version (which writes the state) still brings it to layout 2
    StateStore(state, "default")
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
    conn.close()
