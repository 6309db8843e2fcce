"""A nightly state dir a later hyposcreen wrote (an extra NOT NULL column in `runs`) or one cut
short: the next night stops with exit 75 on one line, no traceback, and the published night's
outputs stay as they were."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
from pathlib import Path

import pytest
from tests.cli_process import run_night

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "canonical"


def _night(state: Path, out: Path, start: str, end: str) -> subprocess.CompletedProcess[str]:
    return run_night(SAMPLE, out, start, end, "--state-dir", str(state))


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _newer_schema(db: Path) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute("ALTER TABLE runs ADD COLUMN flavour TEXT NOT NULL DEFAULT 'x'")
        conn.execute("PRAGMA user_version = 99")


def _truncated(db: Path) -> None:
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize("damage", [_newer_schema, _truncated])
def test_a_damaged_or_newer_state_stops_the_next_night_with_75(tmp_path, damage) -> None:  # type: ignore[no-untyped-def]
    state, out = tmp_path / "state", tmp_path / "out"
    first = _night(state, out, "2026-11-20T00:00:00", "2026-11-21T00:00:00")
    assert first.returncode == 0, first.stderr
    published = _digests(out / "2026-11-20")
    damage(state / "hyposcreen_state.sqlite3")
    done = _night(state, out, "2026-11-21T00:00:00", "2026-11-22T00:00:00")
    assert done.returncode == 75, done.stderr
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and "hyposcreen_state.sqlite3" in errors[0], done.stderr
    assert _digests(out / "2026-11-20") == published
