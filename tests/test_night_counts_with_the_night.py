"""A night's count of usable sodium results (the volume-drop warning's history) and its
delivery's columns are kept in the same transaction as the night itself: a run that stops
between the two never leaves the state saying a night was screened whose count is missing
(the next nights' drop warning would then leave it out of their median, or, on a young
site, have no history at all and warn of nothing)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd

from hyposcreen.cli import main
from hyposcreen.night_counts import trailing_counts
from hyposcreen.state import STATE_FILE, StateStore

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"
NIGHT_20 = ["--window-start", "2026-11-20T00:00:00", "--window-end", "2026-11-21T00:00:00"]
NIGHT_21 = ["--window-start", "2026-11-21T00:00:00", "--window-end", "2026-11-22T00:00:00"]


def test_a_count_that_cannot_be_written_leaves_the_night_unrecorded(tmp_path: Path) -> None:
    """Night 20's count refused by the database (a trigger stands in for the write that
    fails, or for the process killed there): the night was recorded as screened, without
    its count, so night 21 (1 usable result against 109: a partial delivery) had no history
    and was screened clean (exit 0). The night is now recorded with its count or not at all:
    left to redo, and once redone night 21 warns (exit 4)."""
    state, out = tmp_path / "state", tmp_path / "out"
    StateStore(state, "default")  # the state file, laid out
    with sqlite3.connect(state / STATE_FILE) as db:
        db.execute(
            "CREATE TABLE night_counts (site TEXT NOT NULL, window_start TEXT NOT NULL, "
            "usable_sodium INTEGER NOT NULL, PRIMARY KEY (site, window_start))"
        )
        db.execute(
            "CREATE TRIGGER refused BEFORE INSERT ON night_counts "
            "BEGIN SELECT RAISE(ABORT, 'the count was not written'); END"
        )
    run = ["run", "--no-flow", "--input", str(SAMPLE), "--state-dir", str(state)]
    assert main([*run, *NIGHT_20, "--out", str(out)]) != 0
    counted = trailing_counts(state / STATE_FILE, "default", pd.Timestamp("2026-11-21"), 7)
    recorded = StateStore(state, "default").runs()["window_start"].tolist()
    assert (recorded, counted) == ([], [])  # before: (["2026-11-20T00:00:00"], [])
    assert len(StateStore(state, "default").failures()) == 1  # `status` lists it failed
    with sqlite3.connect(state / STATE_FILE) as db:
        db.execute("DROP TRIGGER refused")
    assert main([*run, *NIGHT_20, "--out", str(out)]) == 0
    assert main([*run, *NIGHT_21, "--out", str(out)]) == 4  # 1 < 33 % of 109
