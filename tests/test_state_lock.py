"""Two runs on one state dir: the second stops at once (exit 75) naming the state dir and the
process holding it, and screens nothing; once the first is done, a run goes through. Without
the lock both screened the same nights side by side."""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path

import pytest

from hyposcreen.cli import main
from hyposcreen.state_lock import LOCK_FILE, holding_state

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"


def test_a_second_run_on_a_held_state_dir_stops_with_75(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state, out = tmp_path / "state", tmp_path / "out"
    argv = ["run", "--no-flow", "--input", str(SAMPLE), "--out", str(out)]
    argv += ["--window-start", "2026-11-20", "--state-dir", str(state)]
    with holding_state(state):  # a run in progress (this process stands in for it)
        assert (state / LOCK_FILE).read_text() == f"{os.getpid()}\n"
        status = main(argv)
        err = capsys.readouterr().err
        assert status == 75, err
        assert (
            f"Another hyposcreen run (process {os.getpid()}) is using the state dir {state}" in err
        )
        assert not out.exists()  # nothing screened, nothing published
        assert main(["status", "--state-dir", str(state)]) == 2  # no night recorded either
    capsys.readouterr()
    assert main(argv) == 0  # the lock went with its holder
    assert (out / "2026-11-20" / "review_list.csv").is_file()


def test_a_run_without_a_state_dir_holds_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stateless run (no --state-dir, no $HYPOSCREEN_STATE_DIR) leaves no lock file in the
    working directory or beside its outputs."""
    monkeypatch.delenv("HYPOSCREEN_STATE_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    argv = ["run", "--no-flow", "--input", str(SAMPLE), "--out", str(tmp_path / "out")]
    assert main([*argv, "--window-start", "2026-11-20"]) == 0
    assert [p for p in tmp_path.rglob(LOCK_FILE)] == []


def test_a_state_dir_that_cannot_be_locked_stops_with_75(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """NFS without its lock service answers flock with ENOLCK: the machine's problem (75),
    named with the state dir, not an internal error (70); nothing is screened."""

    def no_locks(fd: int, operation: int) -> None:
        raise OSError(errno.ENOLCK, os.strerror(errno.ENOLCK))

    monkeypatch.setattr(fcntl, "flock", no_locks)
    state, out = tmp_path / "state", tmp_path / "out"
    argv = ["run", "--no-flow", "--input", str(SAMPLE), "--out", str(out)]
    status = main([*argv, "--window-start", "2026-11-20", "--state-dir", str(state)])
    err = capsys.readouterr().err
    assert status == 75, err
    assert f"The state dir {state} is on a file system that cannot lock files" in err
    assert "bug" not in err
    assert not out.exists()


def test_two_sites_sharing_a_state_dir_run_their_nights_side_by_side(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Sites north and south share one state dir (each its mapping's `site:`), both scheduled
    at 02:00. While north's run holds the dir, south's night goes through (exit 0, its list
    published and recorded); a second run of north still stops (75). Before, south stopped
    with 75, told to let a run finish that never screens south's nights."""
    state, out = tmp_path / "state", tmp_path / "out"
    south = tmp_path / "south.yaml"
    south.write_text("site: south\n", encoding="utf-8")
    north = tmp_path / "north.yaml"
    north.write_text("site: north\n", encoding="utf-8")
    argv = ["run", "--no-flow", "--input", str(SAMPLE), "--window-start", "2026-11-20"]
    argv += ["--state-dir", str(state)]
    with holding_state(state, "north"):  # north's run in progress
        assert main([*argv, "--out", str(out / "south"), "--mapping", str(south)]) == 0
        assert (out / "south" / "2026-11-20" / "review_list.csv").is_file()
        capsys.readouterr()
        assert main([*argv, "--out", str(out / "north"), "--mapping", str(north)]) == 75
        assert "for site 'north'" in capsys.readouterr().err
    assert main(["status", "--state-dir", str(state), "--mapping", str(south)]) == 0
    assert "site south: 1 night(s) screened" in capsys.readouterr().out


def test_a_second_flow_run_on_a_held_state_dir_starts_no_orchestrator(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Through the flow, the second run of a held state dir started Prefect's temporary server
    first (45 s at load 5 on the sample) and was refused by the flow. It now stops with 75
    before the orchestrator starts, naming the process holding the state dir (a run holds it
    from before its orchestrator starts: two started together no longer both start one)."""
    state, out = tmp_path / "state", tmp_path / "out"
    argv = ["run", "--input", str(SAMPLE), "--out", str(out)]
    argv += ["--window-start", "2026-11-20", "--state-dir", str(state)]
    with holding_state(state):
        status = main(argv)
    err = capsys.readouterr().err
    assert status == 75, err
    assert f"Another hyposcreen run (process {os.getpid()})" in err
    assert "starting the orchestrator" not in err
    assert not out.exists()
