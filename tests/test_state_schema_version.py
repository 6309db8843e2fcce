"""The nightly state keeps its layout's number in SQLite's user_version: a new state is stamped,
a state made before the number was kept opens with its history and is stamped, and a state a
later hyposcreen wrote is refused (exit 75) without being touched and without the advice to
start afresh, which would lose the listings and reviews it holds."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from hyposcreen.cli import main
from hyposcreen.errors import EnvironmentProblem
from hyposcreen.state import STATE_FILE, STATE_SCHEMA_VERSION, StateStore

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"


def _user_version(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])


def test_a_new_state_is_stamped_with_the_schema_version(tmp_path: Path) -> None:
    store = StateStore(tmp_path, "site-a")
    assert STATE_SCHEMA_VERSION == 2
    assert _user_version(store.path) == 2


def test_a_state_from_before_the_version_opens_with_its_history(tmp_path: Path) -> None:
    store = StateStore(tmp_path, "site-a")
    with sqlite3.connect(store.path) as conn:
        conn.execute(
            "INSERT INTO runs (site, window_start, window_end, run_id, listed, out_dir) "
            "VALUES ('site-a', '2026-11-19T00:00:00', '2026-11-20T00:00:00', 'r1', 3, '/out')"
        )
        conn.execute("PRAGMA user_version = 0")
    reopened = StateStore(tmp_path, "site-a")
    assert reopened.last_window_end() == pd.Timestamp("2026-11-20T00:00:00")
    assert _user_version(reopened.path) == STATE_SCHEMA_VERSION


def test_a_state_a_newer_hyposcreen_wrote_is_refused_untouched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state"
    StateStore(state, "site-a")
    db = state / STATE_FILE
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA user_version = 7")
    before = db.read_bytes()
    with pytest.raises(EnvironmentProblem, match=r"newer hyposcreen \(state schema 7; this one"):
        StateStore(state, "site-a")
    status = main(
        [
            "run",
            "--no-flow",
            "--input",
            str(SAMPLE),
            "--state-dir",
            str(state),
            "--window-start",
            "2026-11-20T00:00:00",
            "--out",
            str(tmp_path / "out"),
        ]
    )
    err = capsys.readouterr().err
    assert status == 75, err
    assert "newer hyposcreen" in err and "Traceback" not in err
    assert "fresh state starts" not in err
    assert db.read_bytes() == before
