"""A night screened ahead of missed ones (`--window-start`, a backfill, or a rerun from the
deployment, with the state dir) leaves those missed nights pending: the next nightly run
screens them, and `hyposcreen status` counts them. They were skipped for good: the nightly
pointer was the latest window's end.

Real pipeline runs and a real SQLite state, as in test_nightly_state.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from tests.test_nightly_state import _extract, _run

from hyposcreen.config import Window
from hyposcreen.windows import plan_windows, unscreened_windows


def _recorded(state: Path, night: str, at: str) -> None:
    """Set when the state says `night` was screened (these tests run nights weeks later)."""
    with sqlite3.connect(state / "hyposcreen_state.sqlite3") as db:
        db.execute("UPDATE runs SET screened_at = ? WHERE window_start = ?", (at, night))
    db.close()


def _days(windows: list[Window]) -> list[str]:
    return [f"{w.start:%Y-%m-%dT%H:%M}/{w.end:%Y-%m-%dT%H:%M}" for w in windows]


def test_nights_missed_before_a_night_screened_ahead_stay_pending(tmp_path: Path) -> None:
    """11-18 screened; then, the machine off for 11-19 and 11-20, the operator screens 11-21
    by hand. At 03:00 UTC on 11-22 (today's midnight: 11-22 00:00 UTC) the plan was empty
    (the pointer, 11-22, is today); now it is 11-19 and 11-20, and once they are screened,
    nothing."""
    extract, out, state = tmp_path / "in", tmp_path / "out", tmp_path / "state"
    _extract(extract, [], ["2026-11-18", "2026-11-19", "2026-11-20", "2026-11-21"])
    _run(extract, out, state, "2026-11-18")
    _recorded(state, "2026-11-18T00:00:00", "2026-11-19T02:00:00+00:00")  # by the schedule
    _run(extract, out, state, "2026-11-21")
    now = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
    planned = plan_windows(None, None, "UTC", now=now, state_dir=state)
    assert _days(planned) == [
        "2026-11-19T00:00/2026-11-20T00:00",
        "2026-11-20T00:00/2026-11-21T00:00",
    ]
    for window in planned:
        _run(extract, out, state, f"{window.start:%Y-%m-%d}")
    assert plan_windows(None, None, "UTC", now=now, state_dir=state) == []


def test_gaps_and_the_nights_after_the_last_window() -> None:
    """Screened: 11-18, 11-20 06:00-18:00 (a partial window), 11-22. Today 11-24 00:00.
    Pending: 11-19; 11-20 00:00-06:00 and 18:00-24:00 (the pieces the partial window left);
    11-21; 11-23. Nothing before the first screened window."""
    day = pd.Timestamp

    def w(a: str, b: str) -> Window:
        return Window(day(a).as_unit("us"), day(b).as_unit("us"))

    screened = [
        w("2026-11-22", "2026-11-23"),
        w("2026-11-18", "2026-11-19"),
        w("2026-11-20T06:00", "2026-11-20T18:00"),
    ]
    now = datetime(2026, 11, 24, 0, 30, tzinfo=UTC)
    assert _days(unscreened_windows(screened, "UTC", now)) == [
        "2026-11-19T00:00/2026-11-20T00:00",
        "2026-11-20T00:00/2026-11-20T06:00",
        "2026-11-20T18:00/2026-11-21T00:00",
        "2026-11-21T00:00/2026-11-22T00:00",
        "2026-11-23T00:00/2026-11-24T00:00",
    ]


def test_an_old_night_looked_at_later_leaves_no_gap_up_to_the_scheduled_nights(
    tmp_path: Path,
) -> None:
    """The schedule screened 11-20 and 11-21 (each recorded the next morning, 02:00 UTC).
    On 11-22 an operator with the state dir in the environment looks at 2025-06-01 by hand
    (recorded 11-22 10:00 UTC, after the gap 2025-06-02 .. 11-20 it would open had ended).
    At 03:00 on 11-23 the plan is 11-22 alone: before, it was every night from 2025-06-02,
    537 of them (2025-06-02 .. 2026-11-19: 213 in 2025 + 323 in 2026 = 536, and 11-22)."""
    extract, out, state = tmp_path / "in", tmp_path / "out", tmp_path / "state"
    _extract(extract, [], ["2026-11-20", "2026-11-21"])
    _run(extract, out, state, "2026-11-20")
    _run(extract, out, state, "2026-11-21")
    _run(extract, out, state, "2025-06-01")
    _recorded(state, "2026-11-20T00:00:00", "2026-11-21T02:00:00+00:00")
    _recorded(state, "2026-11-21T00:00:00", "2026-11-22T02:00:00+00:00")
    _recorded(state, "2025-06-01T00:00:00", "2026-11-22T10:00:00+00:00")
    now = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
    planned = plan_windows(None, None, "UTC", now=now, state_dir=state)
    assert _days(planned) == ["2026-11-22T00:00/2026-11-23T00:00"]
