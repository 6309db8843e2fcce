"""Starting Prefect's temporary server: a server that exits as it starts is told at once."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from hyposcreen.errors import EnvironmentProblem

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "canonical"
HYPOSCREEN = Path(sys.executable).with_name("hyposcreen")
WINDOW = ["--window-start", "2026-11-20T00:00:00", "--window-end", "2026-11-21T00:00:00"]


def _bare_env(home: Path, **extra: str) -> dict[str, str]:
    """What a user's shell might give: no Makefile or test settings, only HOME and PATH."""
    return {"HOME": str(home), "PATH": "/usr/bin:/bin", **extra}


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(HYPOSCREEN), *args], env=env, capture_output=True, text=True, timeout=900, check=False
    )


def _servers_using(prefect_home: Path) -> list[str]:
    """Running uvicorn processes whose environment names this PREFECT_HOME."""
    found = subprocess.run(["pgrep", "-f", "uvicorn"], capture_output=True, text=True, check=False)
    using = []
    for pid in found.stdout.split():
        with contextlib.suppress(OSError):  # ended meanwhile
            if str(prefect_home).encode() in Path(f"/proc/{pid}/environ").read_bytes():
                using.append(pid)
    return using


def test_a_temporary_server_that_exits_as_it_starts_is_named_without_waiting(
    tmp_path: Path,
) -> None:
    """PREFECT_HOME's prefect.db is SQLite but was migrated by another Prefect (a revision this
    one does not know): the server exits with status 3 at each start, which Prefect read as a
    busy port and restarted until its timeout, twice (6 minutes by default), then the run
    blamed the load, and the server's log was empty (its console silenced). It stops after
    two exits in a row (75), with the cause the log now holds."""
    home = tmp_path / "prefect"
    home.mkdir()
    with contextlib.closing(sqlite3.connect(home / "prefect.db")) as db:
        db.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
        db.execute("INSERT INTO alembic_version VALUES ('ffffffffffff')")
        db.commit()
    kept = {k: os.environ[k] for k in ("PYTHONPATH",) if k in os.environ}
    env = _bare_env(
        tmp_path / "user",
        PREFECT_HOME=str(home),
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="90",
        **kept,
    )
    done = _cli(["run", "--input", str(SAMPLE), *WINDOW, "--out", str(tmp_path / "o")], env)
    assert done.returncode == EnvironmentProblem.exit_code, done.stderr
    assert "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("hyposcreen: error: Prefect's temporary server exited as it started")
    assert "Can't locate revision identified by 'ffffffffffff'" in last, last
    assert f"Its log is {home / 'temporary-server.log'}" in last and "--no-flow" in last
    assert not (tmp_path / "o").exists()
    assert _servers_using(home) == []


def test_a_temporary_server_that_dies_on_a_full_disk_is_named_without_waiting(
    tmp_path: Path,
) -> None:
    """PREFECT_HOME on a full disk (a 1 MB tmpfs, fresh): the server's database filled it and
    the server exited with Python's status 120 (its log not written), not uvicorn's 3, so
    Prefect's start-up waited for the dead server until its timeout, twice: 472 s at load 11,
    then a message blaming the load. The first exit now ends the wait, naming the full disk
    (89 s at load 13, most of it Prefect's import). Needs a tmpfs mount (root)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        import pytest

        pytest.skip("a small tmpfs cannot be mounted here (not root)")
    try:
        kept = {k: os.environ[k] for k in ("PYTHONPATH",) if k in os.environ}
        env = _bare_env(tmp_path / "user", PREFECT_HOME=str(disk / "prefect"), **kept)
        out = tmp_path / "o"
        done = _cli(["run", "--input", str(SAMPLE), *WINDOW, "--out", str(out)], env)
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)
    assert done.returncode == EnvironmentProblem.exit_code, done.stderr
    assert "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("hyposcreen: error: Prefect's temporary server exited as it started")
    assert f"the disk of PREFECT_HOME ({disk / 'prefect'}) is full" in last, last
    assert not out.exists()
