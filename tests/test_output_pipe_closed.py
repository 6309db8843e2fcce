"""`hyposcreen status | head -1`: the reader closes the pipe before the command has written
everything. That was "internal error (BrokenPipeError) ... a bug", exit 70; it is the reader's
choice, ended quietly with 141 (128 + SIGPIPE, as a shell reports it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hyposcreen.cli import main

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"


def test_status_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    state = tmp_path / "state"
    argv = ["run", "--no-flow", "--input", str(SAMPLE), "--out", str(tmp_path / "out")]
    assert main([*argv, "--window-start", "2026-11-20", "--state-dir", str(state)]) == 0
    command = [sys.executable, "-m", "hyposcreen.cli", "status", "--state-dir", str(state)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    process.stdout.close()  # the reader is gone before the command writes
    _, err = process.communicate(timeout=120)
    assert process.returncode == 141, err
    assert err == ""
