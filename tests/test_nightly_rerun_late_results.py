"""A night run again (its list regenerated, or the night rerun after its extract was fixed)
keeps the late results its first run picked up: the state tells the results an earlier night
saw from those this night saw itself.

Real pipeline runs (real files, GX contracts, SQLite state), as in test_nightly_state.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from tests.test_nightly_state import _extract, _na, _run

from hyposcreen.state import STATE_FILE, StateStore


@pytest.mark.parametrize("partitions", [1, 3])
def test_a_night_run_again_lists_the_late_result_it_listed_before(
    tmp_path: Path, partitions: int
) -> None:
    """P2's sodium of 11-20 10:00 (126) is missing from night 11-20's extract and first seen in
    night 11-21's: night 11-21 lists P2 (a late result). Run again on the same extract, night
    11-21 listed nobody: its own first run had put the result among those seen, so it was no
    longer late. The list, the same inputs, rules and window (the same run_id), must be the
    same bytes, P2 on it, and the state must still hold P2's listing of 11-21."""
    extract, out, state = tmp_path / "in", tmp_path / "out", tmp_path / "state"
    _extract(extract, [], ["2026-11-20"])
    assert _run(extract, out, state, "2026-11-20", partitions).empty
    _extract(extract, [_na("P2", "2026-11-20T10:00:00", "126")], ["2026-11-20", "2026-11-21"])
    first = _run(extract, out, state, "2026-11-21", partitions)
    assert list(first["patient_id"]) == ["P2"]
    first_bytes = (out / "2026-11-21" / "review_list.csv").read_bytes()

    again = _run(extract, out, state, "2026-11-21", partitions)
    assert list(again["patient_id"]) == ["P2"]
    assert again.loc[0, "index_time"] == "2026-11-20T10:00:00"
    assert (out / "2026-11-21" / "review_list.csv").read_bytes() == first_bytes
    with sqlite3.connect(state / STATE_FILE) as db:
        listings = db.execute("SELECT patient_id, window_start FROM listings").fetchall()
    assert listings == [("P2", "2026-11-21T00:00:00")]


def test_the_next_night_does_not_take_a_result_seen_the_night_before_as_late(
    tmp_path: Path,
) -> None:
    """The night after (11-22) still knows the result as seen (by 11-21's run): it lists
    nobody, rerun of 11-21 or not."""
    extract, out, state = tmp_path / "in", tmp_path / "out", tmp_path / "state"
    _extract(extract, [], ["2026-11-20"])
    _run(extract, out, state, "2026-11-20")
    late = _na("P2", "2026-11-20T10:00:00", "126")
    _extract(extract, [late], ["2026-11-20", "2026-11-21"])
    _run(extract, out, state, "2026-11-21")
    _run(extract, out, state, "2026-11-21")  # run again
    _extract(extract, [late], ["2026-11-20", "2026-11-21", "2026-11-22"])
    assert _run(extract, out, state, "2026-11-22").empty


def test_a_state_kept_before_first_sightings_were_kept_opens_and_counts_its_results_seen(
    tmp_path: Path,
) -> None:
    """A state of the earlier layout (schema 1: seen_results without the night that first saw
    each result) gains the column on opening; its results count as seen by every night, as
    they did (a night run again then lists as it did before this change, no more)."""
    db_path = tmp_path / STATE_FILE
    with sqlite3.connect(db_path) as db:
        db.execute(
            "CREATE TABLE seen_results (site TEXT NOT NULL, result_key INTEGER NOT NULL, "
            "specimen_time TEXT NOT NULL, PRIMARY KEY (site, result_key))"
        )
        db.execute("INSERT INTO seen_results VALUES ('s', 42, '2026-11-20T10:00:00')")
        db.execute("PRAGMA user_version = 1")
    store = StateStore(tmp_path, "s")
    since = pd.Timestamp("2026-11-14T00:00:00")
    # key 42, collected 11-20 10:00, seen before any night: seen for night 11-21 and 11-20
    assert store.seen_keys(since, before=pd.Timestamp("2026-11-21")) == {42}
    assert store.seen_keys(since, before=pd.Timestamp("2026-11-20")) == {42}
