"""Incremental state of nightly runs in one SQLite file (catch-up, re-listing, reviews).

What it remembers, per site:
  * `runs`          every window screened successfully (the nightly pointer is the latest end);
  * `listings`      the cases each run listed (tier, nadir, over-correction), so a case is listed
                    again only when it worsened (spec'd in rules.yaml `limits.relist_*`);
  * `reviews`       clinician reviews recorded with `hyposcreen reviewed --file CSV`;
  * `seen_results`  keyed digests of the sodium results each run saw, with the night that
                    first saw each, so a result that first appears in a later extract
                    (reported late) is screened in the next run, and again when that night
                    is run again.

The file holds patient identifiers (like the review list): mode 0600, on the outputs'
protected volume. A run records its state in one transaction *after* its outputs are in
place, so a crash never advances the state.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from hyposcreen.config import Window
from hyposcreen.errors import ConfigError
from hyposcreen.state_lock import make_state_dir
from hyposcreen.state_schema import STATE_SCHEMA_VERSION, lay_out

STATE_FILE = "hyposcreen_state.sqlite3"
__all__ = ["STATE_FILE", "STATE_SCHEMA_VERSION", "StateStore", "require_state"]
_ISO = "%Y-%m-%dT%H:%M:%S"
_RUNS_QUERY = (
    "SELECT window_start, window_end, run_id, listed, out_dir, screened_at FROM runs "
    "WHERE site = ? ORDER BY window_start"
)
_RUNS_QUERY_LAYOUT_1 = _RUNS_QUERY.replace("screened_at", "NULL AS screened_at")  # read only


@dataclass(frozen=True)
class ListingHistory:
    """What earlier runs listed and what clinicians reviewed, one row per patient."""

    last_listing: pd.DataFrame  # patient_id, window_start, tier, nadir, overcorrection_to,
    # grading (the rules, profile and glucose factor of the listing; empty before it was kept)
    reviewed: pd.DataFrame  # patient_id, reviewed_at (the latest review)


def require_state(state_dir: Path, after: str = "") -> None:
    """A ConfigError when `state_dir` holds no state (a mistyped --state-dir); `after` ends it."""
    if not (state_dir / STATE_FILE).is_file():
        raise ConfigError(
            f"No nightly state in {state_dir} ({STATE_FILE} is missing): give the --state-dir "
            f"the runs use (or set HYPOSCREEN_STATE_DIR){after}."
        )


class StateStore:
    """One SQLite file under the state dir; every method is one short transaction."""

    def __init__(self, state_dir: Path, site: str, read_only: bool = False) -> None:
        """`read_only`: an existing state only read (`hyposcreen status`), never brought to
        this layout (an older hyposcreen running the nights would then refuse it)."""
        self.site = site
        self.path = state_dir / STATE_FILE
        if not read_only:
            make_state_dir(state_dir)
            if not self.path.exists():
                self.path.touch(mode=0o600)
        with self._connect() as db:
            self._layout = lay_out(db, self.path, upgrade=not read_only)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            db = sqlite3.connect(self.path, timeout=30)
        except sqlite3.Error as exc:
            raise ConfigError(f"State file {self.path} cannot be opened: {exc}.") from exc
        try:
            with db:  # commit on success, roll back on error
                yield db
        except sqlite3.DatabaseError as exc:
            raise ConfigError(f"State file {self.path} is not usable: {exc}.") from exc
        finally:
            db.close()

    # --- reading ---------------------------------------------------------------------------

    def last_window_end(self) -> pd.Timestamp | None:
        return self._one_time("SELECT MAX(window_end) FROM runs WHERE site = ?")

    def first_failed_start(self) -> pd.Timestamp | None:
        """The start of the earliest window whose last run failed (none since succeeded)."""
        return self._one_time("SELECT MIN(window_start) FROM failures WHERE site = ?")

    def _one_time(self, query: str) -> pd.Timestamp | None:
        with self._connect() as db:
            value = db.execute(query, (self.site,)).fetchone()[0]
        return _stamp(value) if value else None

    def screened_windows(self, since: pd.Timestamp | None = None) -> list[Window]:
        """Windows screened successfully (ending after `since`, when given), oldest first."""
        after = since.strftime(_ISO) if since is not None else ""
        with self._connect() as db:
            rows = db.execute(
                "SELECT window_start, window_end FROM runs WHERE site = ? AND window_end > ? "
                "ORDER BY window_start",
                (self.site, after),
            ).fetchall()
        return [
            Window(pd.Timestamp(s).as_unit("us"), pd.Timestamp(e).as_unit("us")) for s, e in rows
        ]

    def seen_keys(self, since: pd.Timestamp, before: pd.Timestamp) -> set[int]:
        """Results collected from `since` on that a night starting before `before` saw (a
        night run again does not count what its own earlier run saw)."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT result_key FROM seen_results WHERE site = ? AND specimen_time >= ? "
                "AND (first_seen IS NULL OR first_seen < ?)",
                (self.site, since.strftime(_ISO), before.strftime(_ISO)),
            ).fetchall()
        return {r[0] for r in rows}

    def history(self, before: pd.Timestamp) -> ListingHistory:
        """The latest listing of each patient in a window that started before `before`."""
        with self._connect() as db:
            listing = pd.read_sql_query(
                "SELECT patient_id, window_start, tier, nadir, overcorrection_to, grading "
                "FROM listings "
                "WHERE site = ? AND window_start < ? ORDER BY patient_id, window_start",
                db,
                params=(self.site, before.strftime(_ISO)),
            )
            reviewed = pd.read_sql_query(
                "SELECT patient_id, MAX(reviewed_at) AS reviewed_at FROM reviews "
                "WHERE site = ? GROUP BY patient_id",
                db,
                params=(self.site,),
            )
        listing = listing.drop_duplicates("patient_id", keep="last").reset_index(drop=True)
        return ListingHistory(listing, reviewed)

    # --- writing ---------------------------------------------------------------------------

    def record_run(
        self,
        window: Window,
        run_id: str,
        out_dir: Path,
        listed: pd.DataFrame,
        seen: pd.DataFrame | None,
        keep_seen: pd.Timedelta = pd.Timedelta(days=30),
        also: Sequence[Callable[[sqlite3.Connection], None]] = (),
    ) -> None:
        """One transaction: the window, the cases listed, the sodium results seen, and what
        `also` writes of the night in it (its count, its delivery's columns).

        `listed`: patient_id, tier, nadir, overcorrection_to (text or empty), and grading
        (screen.incremental.grading_key) when known.
        `seen`: result_key, specimen_time. A re-run of the same window replaces its rows.
        Digests of results collected long before the window (more than `keep_seen` before
        it) are dropped: a result that old is no longer a late-result candidate.
        """
        start, end = window.start.strftime(_ISO), window.end.strftime(_ISO)
        oldest = (window.start - keep_seen).strftime(_ISO)
        with self._connect() as db:
            db.execute(
                "DELETE FROM seen_results WHERE site = ? AND specimen_time < ?", (self.site, oldest)
            )
            db.execute(
                "DELETE FROM listings WHERE site = ? AND window_start = ?", (self.site, start)
            )
            graded = listed if "grading" in listed else listed.assign(grading=None)
            db.executemany(
                "INSERT INTO listings VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (self.site, str(p), start, int(t), float(n), o or None, g)
                    for p, t, n, o, g in graded[
                        ["patient_id", "tier", "nadir", "overcorrection_to", "grading"]
                    ].itertuples(index=False)
                ],
            )
            if seen is not None:
                db.executemany(  # the earliest night that saw a result is kept
                    "INSERT INTO seen_results VALUES (?, ?, ?, ?) ON CONFLICT (site, result_key) "
                    "DO UPDATE SET first_seen = MIN(first_seen, excluded.first_seen)",
                    [
                        (self.site, int(k), t.strftime(_ISO), start)
                        for k, t in seen[["result_key", "specimen_time"]].itertuples(index=False)
                    ],
                )
            for write in also:
                write(db)
            db.execute(
                "INSERT OR REPLACE INTO runs VALUES (?, ?, ?, ?, ?, ?, ?)",
                (self.site, start, end, run_id, len(listed), str(out_dir), _now()),
            )
            db.execute(  # the night is screened now: its earlier failure is history
                "DELETE FROM failures WHERE site = ? AND window_start = ? AND window_end = ?",
                (self.site, start, end),
            )

    def record_failure(self, window: Window, record: dict[str, object], out_dir: Path) -> None:
        """A window that failed (FAILED.json's identifier-free record), for `hyposcreen
        status`; a later success of the same window removes it."""
        with self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO failures VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    self.site,
                    window.start.strftime(_ISO),
                    window.end.strftime(_ISO),
                    str(record.get("time", "")),
                    str(record.get("error_type", "")),
                    str(record.get("message", "")),
                    str(out_dir),
                ),
            )

    def require_this_site(self, state_dir: Path) -> None:
        """A ConfigError when the state holds nights of other sites only: a command given no
        --mapping (site "default") or another site's would read or record nothing of them."""
        with self._connect() as db:
            rows = db.execute("SELECT site FROM runs UNION SELECT site FROM failures").fetchall()
        sites = sorted(row[0] for row in rows)
        if sites and self.site not in sites:
            raise ConfigError(
                f"The state dir {state_dir} holds the nights of site(s) {', '.join(sites)}, "
                f"none of site {self.site!r}: give --mapping with that site's mapping file "
                "(its `site:` name), as the nightly runs do."
            )

    def runs(self) -> pd.DataFrame:
        """Windows screened: window_start, window_end, run_id, listed, out_dir, screened_at
        (UTC; empty for a night recorded before it was kept), oldest first."""
        with self._connect() as db:
            return pd.read_sql_query(
                _RUNS_QUERY if self._layout >= 2 else _RUNS_QUERY_LAYOUT_1,
                db,
                params=(self.site,),
            )

    def failures(self) -> pd.DataFrame:
        """Windows whose last run failed: window_start, window_end, failed_at, error_type,
        message, out_dir (oldest first)."""
        with self._connect() as db:
            return pd.read_sql_query(
                "SELECT window_start, window_end, failed_at, error_type, message, out_dir "
                "FROM failures WHERE site = ? ORDER BY window_start",
                db,
                params=(self.site,),
            )

    def listed_patients(self) -> set[str]:
        """The ids of every patient a night of this site listed."""
        with self._connect() as db:
            query = "SELECT DISTINCT patient_id FROM listings WHERE site = ?"
            return {r[0] for r in db.execute(query, (self.site,))}

    def record_reviews(self, reviews: pd.DataFrame) -> int:
        """Add reviews (patient_id, reviewed_at, reviewer); returns how many were new."""
        rows = [
            (self.site, str(p), pd.Timestamp(t).strftime(_ISO), str(r))
            for p, t, r in reviews[["patient_id", "reviewed_at", "reviewer"]].itertuples(
                index=False
            )
        ]
        with self._connect() as db:
            before = db.total_changes
            db.executemany("INSERT OR IGNORE INTO reviews VALUES (?, ?, ?, ?)", rows)
            return db.total_changes - before


def state_dir_from_env(value: str | None) -> Path | None:
    """--state-dir, else HYPOSCREEN_STATE_DIR, else none (stateless ad-hoc runs)."""
    chosen = value or os.environ.get("HYPOSCREEN_STATE_DIR")
    return Path(chosen) if chosen else None


def _now() -> str:
    """Now in UTC as FAILED.json and the failures table write it (`2026-11-21T01:00:07+00:00`)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def _stamp(text: str) -> pd.Timestamp:
    return pd.Timestamp(text).as_unit("us")
